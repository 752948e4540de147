"""Jobs that failed because Postgres was unavailable are tried again, never dropped, and never reported.

A job that finds the database going away (connection refused, a server in smart or fast shutdown, a lost
connection: ``memory.db.is_outage``) has done nothing that Postgres recorded, so running it again is safe:
every job is idempotent by its claims and keys. The worker waits (doubling from
:data:`~core.defaults.OUTAGE_RETRY_BASE_SECONDS` up to :data:`~core.defaults.OUTAGE_RETRY_CAP_SECONDS`) and puts
the same job back at the front of its queue, up to :data:`~core.defaults.OUTAGE_RETRY_ATTEMPTS` times; the wait
in the worker is on purpose, since while Postgres is down no job can do anything (and RQ's delayed retries
need its scheduler, which not every deployment runs). After the last attempt the
job stays in RQ's failed registry, and the work is still not lost: Postgres holds it (a request not yet
planned, an approved or running plan), and the recovery pass (``workers.reconcile``) enqueues it again once
Postgres is back. Nobody is told of a failure meanwhile: an outage is not a final answer. A retried
``plan_request`` takes up the request it had claimed (``memory.requests.claim_for_planning``).
"""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Any

from rq import get_current_job
from rq.job import Job

from core import defaults
from memory.db import is_outage
from workers.job_context import current

log = logging.getLogger(__name__)

#: ``job.meta`` key counting the outage retries of a job.
ATTEMPT_KEY = "outage_attempt"


def outage_delay(attempt: int) -> float:
    """Seconds to wait before outage retry ``attempt`` (1-based): doubling, capped."""
    return float(min(defaults.OUTAGE_RETRY_CAP_SECONDS, defaults.OUTAGE_RETRY_BASE_SECONDS * 2 ** (attempt - 1)))


def retry_after_outage(
    job: Job, exc_type: type[BaseException], exc_value: BaseException, traceback: TracebackType | None
) -> bool:
    """RQ exception handler: after a wait, have RQ retry ``job`` when it failed on a database outage. Returns
    whether RQ should go on to the next handler (False when the job will be retried)."""
    if not is_outage(exc_value):
        return True
    attempt = int((job.meta or {}).get(ATTEMPT_KEY, 0)) + 1
    if attempt > defaults.OUTAGE_RETRY_ATTEMPTS:
        log.warning(
            "job %s failed on a database outage %s times; the recovery pass will enqueue its work again "
            "once Postgres is back",
            job.id,
            attempt - 1,
        )
        return True
    delay = outage_delay(attempt)
    log.warning(
        "job %s: the database is unavailable (%s); trying again in %.0f s (attempt %s of %s)",
        job.id,
        exc_type.__name__,
        delay,
        attempt,
        defaults.OUTAGE_RETRY_ATTEMPTS,
    )
    current().sleep(delay)
    job.meta[ATTEMPT_KEY] = attempt
    # RQ's own retry, applied right after the exception handlers: once, at once, at the front of the queue.
    job.retries_left, job.retry_intervals, job.enqueue_at_front_on_retry = 1, None, True
    return False


def current_job_id() -> str | None:
    """The id of the RQ job running now (kept by its retries), or None outside a worker: a job that claims a row
    records it, so that its own retry after an outage may claim the row again."""
    job = get_current_job()
    return job.id if job is not None else None


class OutageRetries:
    """Mixin for an RQ worker class: install :func:`retry_after_outage` as its first exception handler."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.push_exc_handler(retry_after_outage)  # type: ignore[attr-defined]
