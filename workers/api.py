"""The workers' public surface: which job handles which kind of work, on which queue, and how to enqueue it.

This is the one module of ``workers`` that the Slack edge (``bot``) imports: enqueueing, plus the two
things a listener computes in the web process with the workers' code (the status facts, and the plan
behind a meeting card's Create follow-ups button). Jobs are named by dotted path (RQ imports them in the
work horse), so a job that enqueues another never imports it, and no circle of job modules forms.

The job id is derived from the row's id, so enqueueing the same request or plan twice (a retry after a
Redis blip, a replayed click) does not create two jobs; the reconciler adds a suffix when it deliberately
re-enqueues. Jobs carry ids only; Postgres holds the state.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis
from rq import Queue

from core import correlation, defaults
from workers.admin_status import gather_status
from workers.meetings.followup_plan import followup_plan, preview_registry
from workers.redis_client import connect_redis
from workers.spool import SpooledEvent, drop_event, keep_event, spooled_count, spooled_events
from workers.tool_listing import stored_tool_listing

__all__ = [
    "JOBS",
    "JobRef",
    "SpooledEvent",
    "connect_redis",
    "drop_event",
    "enqueue",
    "enqueue_job",
    "enqueue_jobs",
    "followup_plan",
    "gather_status",
    "get_queue",
    "keep_event",
    "preview_registry",
    "spooled_count",
    "spooled_events",
    "stored_tool_listing",
]

#: Kind of work -> (queue, dotted path of the job function). The functions take one row id.
JOBS: dict[str, tuple[str, str]] = {
    "plan_request": ("plans", "workers.planning.request.plan_request"),
    "post_plan_card": ("plans", "workers.planning.deferred_card.post_plan_card"),
    # A reply that waited in the Slack outbox for its channel's turn (workers/outbox.py).
    "post_outbox": ("plans", "workers.outbox.post_outbox"),
    "execute_plan": ("actions", "workers.execute.execute_plan"),
    # The same job again after a person settled a step whose outcome was unknown (each decision runs it on).
    "resume_plan": ("actions", "workers.execute.execute_plan"),
    "send_followup": ("actions", "workers.meetings.followups.send_followup"),
    "refresh_meeting": ("default", "workers.meetings.refresh.refresh_meeting"),
    "send_digest": ("default", "workers.digest_sender.send_digest"),
    "publish_home": ("default", "workers.home.publish_home"),
    "retire_workspace": ("default", "workers.uninstall.retire_workspace"),
    "greet_assistant_thread": ("default", "workers.assistant.greet_assistant_thread"),
}
#: The maintenance jobs, enqueued without a row id.
RECONCILE_JOB = "workers.reconcile.reconcile"
EMBED_PENDING_JOB = "workers.memories.embed.embed_pending_memories"
#: Jobs that may rightly run again for the same row (each change re-renders): a fresh id every time.
_REPEATABLE = frozenset({"refresh_meeting", "publish_home", "post_plan_card", "resume_plan", "post_outbox"})


def job_modules() -> list[str]:
    """Every module a Baton job lives in (what a worker imports once before it forks work horses)."""
    paths = [path for _queue, path in JOBS.values()] + [RECONCILE_JOB, EMBED_PENDING_JOB]
    return sorted({path.rpartition(".")[0] for path in paths})


def get_queue(name: str, *, connection: redis.Redis) -> Queue:
    """One of Baton's queues (:data:`core.defaults.QUEUES`); any other name is a programming error."""
    if name not in defaults.QUEUES:
        raise ValueError(f"unknown queue {name!r}; Baton's queues are {', '.join(defaults.QUEUES)}")
    return Queue(name, connection=connection)


def enqueue(
    connection: redis.Redis, queue: str, func: str, *args: Any, job_id: str, delay: float | None = None,
    **options: Any,
) -> None:
    """Enqueue the job function at dotted path ``func`` with ``args`` under a deterministic ``job_id`` so a repeat
    enqueue is harmless.

    The job carries the correlation id (``job.meta["correlation_id"]``, see ``core.correlation``) so the
    worker's log lines for it share the id of whatever enqueued it.
    """
    correlation_id = correlation.for_enqueue(correlation.get(), correlation.from_job(func, args))
    if correlation_id is not None:
        options["meta"] = {**(options.get("meta") or {}), "correlation_id": correlation_id}
    target = get_queue(queue, connection=connection)
    if delay is not None and delay > 0:
        # RQ's scheduler (run by every `baton worker`) moves it to the queue when it is due. It keeps whole
        # seconds and takes a job in the second it falls in, so round up: never early, at most a second late.
        when = datetime.fromtimestamp(math.ceil(time.time() + delay), UTC)
        target.enqueue_at(when, func, *args, job_id=job_id, **options)
    else:
        target.enqueue(func, *args, job_id=job_id, **options)


def enqueue_job(
    connection: redis.Redis, kind: str, ident: int, *, suffix: str = "", delay: float | None = None
) -> None:
    """Enqueue the job for ``kind`` (a key of :data:`JOBS`) on row ``ident``, ``delay`` seconds from now if given."""
    try:
        queue, func = JOBS[kind]
    except KeyError:
        raise ValueError(f"no job handles {kind!r}") from None
    if kind in _REPEATABLE and not suffix:
        suffix = f"-{time.time_ns()}"
    enqueue(connection, queue, func, ident, job_id=f"{kind}-{ident}{suffix}", delay=delay)


@dataclass(frozen=True)
class JobRef:
    """A job to enqueue: its kind (a key of :data:`JOBS`), its row id, and the correlation id of the context that
    asked for it (the enqueue may run in another thread, where that context is not current)."""

    kind: str
    ident: int
    correlation_id: str | None = None


def enqueue_jobs(connection: redis.Redis, jobs: Sequence[JobRef]) -> None:
    """Enqueue several jobs in one Redis round trip (one pipeline), each as :func:`enqueue_job` would.

    The same kind and row twice in one call is one job (its fixed id would be saved twice to one key).
    """
    by_queue: dict[str, dict[str, Any]] = {}
    for ref in jobs:
        try:
            queue, func = JOBS[ref.kind]
        except KeyError:
            raise ValueError(f"no job handles {ref.kind!r}") from None
        suffix = f"-{time.time_ns()}-{len(by_queue.get(queue, ()))}" if ref.kind in _REPEATABLE else ""
        job_id = f"{ref.kind}-{ref.ident}{suffix}"
        correlation_id = correlation.for_enqueue(ref.correlation_id, correlation.from_job(func, (ref.ident,)))
        meta = {"correlation_id": correlation_id} if correlation_id is not None else None
        by_queue.setdefault(queue, {}).setdefault(job_id, Queue.prepare_data(func, (ref.ident,), job_id=job_id,
                                                                             meta=meta))
    with connection.pipeline() as pipe:
        for name, datas in by_queue.items():
            get_queue(name, connection=connection).enqueue_many(list(datas.values()), pipeline=pipe)
        pipe.execute()
