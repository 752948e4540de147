"""RQ workers that run each job under its correlation id, with a log line as it starts and ends.

``workers.api.enqueue`` stores the id in ``job.meta["correlation_id"]``; :class:`BatonWorker` (forks a
work horse per job: ``baton worker``; the tests mix :class:`CorrelatedJobs` into RQ's in-process worker)
puts it back in the context before the job runs, so every line the job and its connectors log carries it.
A job whose id does not name its request yet (``plan-3`` from the reconciler, a follow-up the scheduler
claimed) is resolved to ``req-<id>`` from Postgres first; when that fails the job still runs.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from rq import Worker
from rq.exceptions import StopRequested
from rq.job import Job
from rq.queue import Queue

from connectors.slack_clients import team_token
from core import correlation, defaults
from memory.metrics_sql import request_of
from workers.job_context import current
from workers.outage_retry import OutageRetries
from workers.reconcile import reconcile
from workers.team_tokens import job_token

log = logging.getLogger(__name__)

#: The Redis key that lets one worker in the whole deployment start a recovery pass per interval.
RECOVERY_GATE_KEY = "baton:recovery:gate"
#: Seconds the command listener waits per read, and so at most how long stopping it takes.
COMMAND_POLL_SECONDS = 1.0
#: Job functions whose first argument leads to a request through Postgres, and how.
_RESOLVABLE = {"execute_plan": "plan", "send_followup": "followup", "refresh_meeting": "meeting"}


class CorrelatedJobs:
    """Mixin for an RQ worker class: run ``perform_job`` inside the job's correlation id and, in multi-workspace
    mode, with its workspace's installed token bound for its Slack clients."""

    def perform_job(self, job: Job, queue: Queue, *args: Any, **kwargs: Any) -> bool:
        """Bind the job's correlation id (and team token), log the start and the outcome, and perform the job."""
        with correlation.bind(job_correlation_id(job)), team_token(job_team_token(job)):
            started = time.monotonic()
            log.info("job %s started on %s", job.id, queue.name)
            ok: bool = super().perform_job(job, queue, *args, **kwargs)  # type: ignore[misc]
            log.info(
                "job %s %s in %.0f ms", job.id, "finished" if ok else "failed", (time.monotonic() - started) * 1000
            )
            return ok


class BatonWorker(CorrelatedJobs, OutageRetries, Worker):
    """``rq.Worker`` (a forked work horse per job) with correlation ids, that also runs Baton's recovery pass
    (``workers.reconcile``) at start and every :data:`~core.defaults.RECOVERY_INTERVAL_SECONDS` between jobs,
    so approved work whose worker died is resumed by whatever workers are running, with or without a
    ``baton scheduler``. However many workers run, one pass starts per interval (a Redis key gates it; a
    Postgres advisory lock keeps passes from overlapping). A job that failed on a database outage is tried
    again (``workers.outage_retry``)."""

    recovery_interval: float = defaults.RECOVERY_INTERVAL_SECONDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._recovered_at: float | None = None
        self._recovering = False

    @property
    def dequeue_timeout(self) -> int:
        """An idle worker wakes at least every recovery interval (RQ's default is minutes)."""
        return max(1, min(int(super().dequeue_timeout), int(self.recovery_interval)))

    @property
    def should_run_maintenance_tasks(self) -> bool:
        """RQ's own registry clean-up when it is due, or the recovery pass when that is."""
        return self._recovery_due() or bool(super().should_run_maintenance_tasks)

    def run_maintenance_tasks(self) -> None:
        """The recovery pass when due, then RQ's clean-ups when theirs are; a warm shutdown asked for during the
        pass stops the worker once the pass is over."""
        if self._recovery_due():
            self._recover()
        if self._stop_requested:
            raise StopRequested()
        if super().should_run_maintenance_tasks:
            super().run_maintenance_tasks()  # type: ignore[no-untyped-call]  # RQ leaves it untyped

    def _recovery_due(self) -> bool:
        return self._recovered_at is None or time.monotonic() - self._recovered_at >= self.recovery_interval

    def _recover(self) -> None:
        self._recovered_at = time.monotonic()
        self._recovering = True
        try:
            if self.connection.set(RECOVERY_GATE_KEY, "1", nx=True, px=int(self.recovery_interval * 1000)):
                reconcile()
        except Exception as err:  # Postgres or Redis away: the next pass tries again
            log.warning("recovery pass failed: %s", err)
        finally:
            self._recovering = False

    def _shutdown(self) -> None:
        """RQ raises ``StopRequested`` from the signal handler when no job runs; during the recovery pass that would
        land in the pass's own error handling and be lost, so the request is kept for after the pass."""
        if self._recovering:
            self._stop_requested = True
            self.set_shutdown_requested_date()  # type: ignore[no-untyped-call]  # RQ leaves it untyped
            return
        super()._shutdown()  # type: ignore[no-untyped-call]  # RQ leaves it untyped

    def subscribe(self) -> None:
        """Listen for RQ's worker commands (shutdown, kill-horse) on a thread that wakes every second.

        RQ's own listener sleeps up to 60 s between reads, and redis-py 8.2 made stopping that thread wait
        for it, so every worker shutdown (SIGTERM, burst end) could take a minute."""
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(  # type: ignore[assignment]  # RQ types it as None
            sleep_time=COMMAND_POLL_SECONDS, daemon=True, exception_handler=self._pubsub_exception_handler
        )


def job_correlation_id(job: Job) -> str | None:
    """The id a job runs under: the one it was enqueued with, made ``req-<id>`` when Postgres knows better."""
    meta = job.meta or {}
    try:
        name = (job.func_name or "").rsplit(".", 1)[-1]
        args = list(job.args or ())
    except Exception:  # an unloadable job fails in perform_job with RQ's own message
        return meta.get("correlation_id")
    found = meta.get("correlation_id") or correlation.from_job(name, args)
    if correlation.is_request(found) or name not in _RESOLVABLE or not args:
        return found
    try:
        request_id = _request_of(_RESOLVABLE[name], int(args[0]))
    except Exception as err:  # Postgres down or no context: the job reports that itself
        log.debug("could not resolve the request of job %s: %s", job.id, err)
        return found
    return correlation.for_request(request_id) if request_id is not None else found


def job_team_token(job: Job) -> str | None:
    """Multi-workspace mode: the installed bot token of the workspace the job's row belongs to (None outside
    that mode, for a job without a row, or a workspace not installed: its Slack calls then fail, never use
    another workspace's token)."""
    try:
        ctx = current()
        if not ctx.settings.oauth_enabled:
            return None
        name = (job.func_name or "").rsplit(".", 1)[-1]
        args = list(job.args or ())
        return job_token(ctx, name, int(args[0])) if args else None
    except Exception as err:  # Postgres down, an unloadable job: the job reports that itself
        log.warning("could not find the installed token for job %s: %s", job.id, err)
        return None


def _request_of(kind: str, ident: int) -> int | None:
    with current().db() as conn:
        return request_of(conn, **{kind: ident})
