"""The tests' RQ worker: jobs run in the test's own process (``SimpleWorker``), with Baton's correlation ids."""

from __future__ import annotations

from rq import SimpleWorker

from workers.outage_retry import OutageRetries
from workers.rq_worker import CorrelatedJobs


class InProcessWorker(CorrelatedJobs, OutageRetries, SimpleWorker):
    """``rq.SimpleWorker`` with correlation ids and no command listener.

    A burst run in a test takes no commands (shutdown, kill-horse), and RQ's listener thread can take up to a
    minute to stop (redis-py 8.2 joins it), so it is not started."""

    def subscribe(self) -> None:
        """No command listener for a burst run inside a test."""

    def unsubscribe(self) -> None:
        """Nothing was subscribed."""
