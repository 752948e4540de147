"""Keep a running step's lease alive while its runner lives, so the lease can be short.

A step is leased (``plan_steps.lease_until``) while a runner performs it; the recovery pass resumes a step
whose lease ran out, on the grounds that its runner died. With a fixed lease, that lease had to outlast the
slowest connector call, so a dead runner's step waited a minute. Here a thread renews the lease every
:data:`~core.defaults.STEP_LEASE_RENEW_SECONDS` on a connection of its own while the connector runs: a live
runner keeps its step however long the call takes, and a runner that dies (the thread dies with it) lets the
lease lapse within :data:`~core.defaults.STEP_LEASE_SECONDS`.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from datetime import timedelta
from types import TracebackType

from core import defaults
from memory import plans
from workers.job_context import WorkerContext

log = logging.getLogger(__name__)


class LeaseKeeper:
    """Renews step ``idx`` of plan ``plan_id`` until the ``with`` block ends."""

    def __init__(self, ctx: WorkerContext, plan_id: int, idx: int, *,
                 every: float = defaults.STEP_LEASE_RENEW_SECONDS) -> None:
        self._ctx, self._plan_id, self._idx, self._every = ctx, plan_id, idx, every
        self._stop = threading.Event()
        # The copied context carries the job's correlation id into the thread's log lines.
        self._thread = threading.Thread(target=contextvars.copy_context().run, args=(self._run,),
                                        name=f"lease-{plan_id}-{idx}", daemon=True)

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join(timeout=self._every + defaults.HTTP_TIMEOUT_SECONDS)

    def _run(self) -> None:
        lease = timedelta(seconds=defaults.STEP_LEASE_SECONDS)
        while not self._stop.wait(self._every):
            try:
                with self._ctx.db() as conn:
                    plans.extend_lease(conn, self._plan_id, self._idx, lease_until=self._ctx.now() + lease)
            except Exception as err:  # Postgres away: the lease runs its course, as it would without us
                log.warning("could not renew the lease of step %s of plan %s: %s", self._idx, self._plan_id, err)
