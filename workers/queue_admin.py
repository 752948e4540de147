"""The RQ side of ``/baton status`` and ``baton requeue-failed``: queue depths, and failed jobs put back.

Requeueing is safe because every job is idempotent: it loads its row by id, and each side effect is
claimed in the effects ledger, so a job that half-ran before failing does not do anything twice.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import redis
from rq import Queue
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job, JobStatus

from core import defaults
from core.status import QueueDepth, QueueReport
from workers.redis_client import connect_redis

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FailedJob:
    """A job found in a failed-job registry, and whether it was put back on its queue."""

    job_id: str
    func: str
    queue: str
    requeued: bool
    problem: str | None = None


def queue_depths(connection: redis.Redis, names: Iterable[str] = defaults.QUEUES) -> tuple[QueueDepth, ...]:
    """Counts per queue, read without RQ's clean-ups (asking must not change anything)."""
    depths = []
    for name in names:
        queue = Queue(name, connection=connection)
        depths.append(QueueDepth(
            name=name,
            queued=queue.count,
            running=queue.started_job_registry.get_job_count(cleanup=False),
            scheduled=queue.scheduled_job_registry.get_job_count(cleanup=False),
            failed=queue.failed_job_registry.get_job_count(cleanup=False),
        ))
    return tuple(depths)


def queue_report(redis_url: str | None) -> QueueReport:
    """Queue depths from ``redis_url``, or a report saying why they are unknown (never raises for Redis)."""
    if not redis_url:
        return QueueReport(error="no Redis URL configured")
    connection = connect_redis(redis_url, quick=True)
    try:
        return QueueReport(depths=queue_depths(connection))
    except redis.RedisError as err:
        log.warning("queue status: Redis unreachable: %s", err)
        return QueueReport(error=f"Redis is unreachable ({type(err).__name__})")
    finally:
        connection.close()


def requeue_failed(connection: redis.Redis, *, queues: Iterable[str] = defaults.QUEUES,
                   dry_run: bool = False) -> list[FailedJob]:
    """Put every job of each queue's failed-job registry back on its queue (``dry_run``: only list them).

    A registry entry whose job data has expired is removed and reported with a ``problem``.
    """
    found: list[FailedJob] = []
    for name in queues:
        registry = Queue(name, connection=connection).failed_job_registry
        for job_id in registry.get_job_ids(cleanup=False):
            try:
                job = Job.fetch(job_id, connection=connection)
            except NoSuchJobError:
                if not dry_run:
                    registry.remove(job_id)
                found.append(FailedJob(job_id, "?", name, False, "its data has expired; removed from the registry"))
                continue
            func = job.func_name or "?"
            if dry_run:
                found.append(FailedJob(job_id, func, name, False))
                continue
            try:
                registry.requeue(job)
            except InvalidJobOperation:  # someone else requeued it between our listing and now
                found.append(FailedJob(job_id, func, name, False, "no longer in the failed registry"))
                continue
            log.info("requeued failed job %s (%s) on %s", job_id, func, name)
            found.append(FailedJob(job_id, func, name, True))
    return found


def end_dead_runs(
    connection: redis.Redis, *, func: str, ident: int, started_before: datetime, reason: str
) -> list[str]:
    """Move the started runs of job ``func(ident)`` that began before ``started_before`` to the failed registry.

    For the recovery pass, which knows from Postgres that their runner is dead (the lease of the step it held
    lapsed, or its planning is long overdue) and has enqueued the work again: RQ itself notices a dead work
    horse only when the run's heartbeat expires, minutes later, and until then ``baton status`` would count it
    as running. Returns the job ids moved.
    """
    ended: list[str] = []
    for name in defaults.QUEUES:
        queue = Queue(name, connection=connection)
        registry = queue.started_job_registry
        for job_id, execution_id in registry.get_job_and_execution_ids(cleanup=False):
            try:
                job = Job.fetch(job_id, connection=connection)
            except NoSuchJobError:
                continue
            if job.func_name != func or list(job.args or ())[:1] != [ident]:
                continue
            if job.started_at is None or job.started_at >= started_before:
                continue
            with connection.pipeline() as pipeline:
                pipeline.zrem(registry.key, f"{job_id}:{execution_id}")
                job.set_status(JobStatus.FAILED, pipeline=pipeline)
                queue.failed_job_registry.add(job, exc_string=reason, pipeline=pipeline)
                pipeline.execute()
            log.info("job %s (%s) ended: %s", job_id, func, reason)
            ended.append(job_id)
    return ended
