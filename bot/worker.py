"""Run an RQ worker on Baton's queues (``baton worker``)."""

from __future__ import annotations

import logging

from rq import Worker

from core import defaults
from core.settings import Settings
from workers.context import WorkerContext, install, slack_client
from workers.queues import connect_redis, get_queue

log = logging.getLogger(__name__)


def run_worker(settings: Settings, *, queues: list[str], with_scheduler: bool, burst: bool = False) -> bool:
    """Install the job context and work until stopped (or, with ``burst``, until the queues are empty)."""
    assert settings.redis_url is not None
    connection = connect_redis(settings.redis_url)
    install(WorkerContext(settings=settings, slack=slack_client(settings)))
    worker = Worker([get_queue(name, connection=connection) for name in queues], connection=connection)
    log.info("worker listening on %s%s", ", ".join(queues), " with scheduler" if with_scheduler else "")
    return bool(worker.work(burst=burst, with_scheduler=with_scheduler, logging_level="WARNING"))


DEFAULT_QUEUES = list(defaults.QUEUES)
