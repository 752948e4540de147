"""Run an RQ worker on Baton's queues (``baton worker``) and the scheduler loop (``baton scheduler``)."""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from wsgiref.simple_server import WSGIServer

import redis
from prometheus_client import CollectorRegistry

from baton.backends import restart_log
from baton.metrics import (
    EmbeddedRestartsCollector,
    FactsCollector,
    SchedulerMetrics,
    process_registry,
    serve_metrics,
)
from connectors.mcp_session import load_sdk
from connectors.slack_clients import job_client
from core import defaults
from core.settings import Settings
from memory.db import connect
from workers.api import connect_redis, get_queue, job_modules
from workers.connector_wiring import load_worker_plugins
from workers.job_context import WorkerContext, install
from workers.mcp_catalogue import load_catalogue
from workers.mcp_listing import current_catalogue
from workers.memories.embed import check_embedding_settings
from workers.memories.embeddings import LocalMiniLM, choose_provider
from workers.memories.support import install_provider
from workers.rq_worker import BatonWorker
from workers.scheduler import scheduler_tick

log = logging.getLogger(__name__)


def run_worker(settings: Settings, *, queues: list[str], with_scheduler: bool, burst: bool = False,
               preload_jobs: bool = True) -> bool:
    """Install the job context and work until stopped (or, with ``burst``, until the queues are empty).

    ``preload_jobs=False`` leaves each work horse to import its job's modules itself (bench/plan_bench.py
    measures the difference)."""
    assert settings.redis_url is not None
    connection = connect_redis(settings.redis_url)
    context = WorkerContext(settings=settings, slack=job_client(settings), redis=connection)
    if preload_jobs:
        preload_jobs_modules(settings)
    _preload_embeddings(context)
    # Listed once here (and stored: /baton tools shows it), before RQ forks a work horse per job: every job
    # inherits the tools and their pins, unless a newer listing is stored (workers/mcp_listing.py).
    try:
        context.mcp = current_catalogue(context)
    except Exception:  # the database may not answer yet: list without storing; jobs store it later
        log.exception("could not store the MCP listing at start")
        context.mcp = load_catalogue(settings.mcp_servers)
    load_worker_plugins(context)  # a broken connector plugin is logged once, here, and skipped
    install(context)
    worker = BatonWorker([get_queue(name, connection=connection) for name in queues], connection=connection)
    server = _serve_metrics(settings, _metrics_registry(settings, connection))
    log.info("worker listening on %s%s", ", ".join(queues), " with scheduler" if with_scheduler else "")
    try:
        return bool(worker.work(burst=burst, with_scheduler=with_scheduler, logging_level="WARNING"))
    finally:
        _stop(server)


def preload_jobs_modules(settings: Settings) -> None:
    """Import every job's module once, before RQ forks a work horse per job: the horses share the loaded pages
    instead of each importing the planner, the LLM client and their dependencies again. The MCP SDK (~30 MB
    resident) only when MCP servers are configured: without them no job talks to one."""
    for module in job_modules():
        importlib.import_module(module)
    if settings.mcp_servers.servers:
        load_sdk()


def _preload_embeddings(context: WorkerContext) -> None:
    """Load (and verify) the local embedding model once, before RQ forks a work horse per job, so each job
    inherits it instead of reading and checking 23 MB again."""

    chosen = choose_provider(context.settings)
    if isinstance(chosen, LocalMiniLM):
        chosen.load()
    install_provider(context, chosen)
    if chosen is not None:
        with context.db() as conn:
            warning = check_embedding_settings(conn, chosen)
        if warning:
            log.warning("%s", warning)


def run_scheduler(
    settings: Settings,
    *,
    interval: float = defaults.RECONCILE_INTERVAL_SECONDS,
    iterations: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Every ``interval`` seconds, enqueue what is due: digests, reminders and check-ins, the reconciler.

    Safe with several scheduler processes: every piece of work is claimed in Postgres (see
    ``workers.scheduler``), and the reconciler's job id is derived from the time slot.
    """

    assert settings.redis_url is not None
    connection = connect_redis(settings.redis_url)
    context = WorkerContext(settings=settings, slack=job_client(settings), redis=connection)
    registry = _metrics_registry(settings, connection)
    ticks = SchedulerMetrics(registry) if registry is not None else None
    server = _serve_metrics(settings, registry)
    count = 0
    try:
        while iterations is None or count < iterations:
            try:
                scheduler_tick(context, now=datetime.now(UTC), interval=interval)
                outcome = "ok"
            except Exception as err:  # Postgres or Redis blip: the next tick catches up (claims make it safe)
                log.warning("scheduler tick failed: %s", err)
                outcome = "failed"
            if ticks is not None:
                ticks.ticks.labels(outcome).inc()
            count += 1
            if iterations is None or count < iterations:
                sleep(interval)
    finally:
        _stop(server)


def _metrics_registry(settings: Settings, connection: redis.Redis) -> CollectorRegistry | None:
    """With ``BATON_METRICS_PORT`` set: this process's registry (Postgres and Redis facts, its resources)."""
    if settings.metrics_port is None or settings.database_url is None:
        return None

    database_url = settings.database_url
    registry = process_registry(FactsCollector(connect=lambda: connect(database_url), redis_conn=connection))
    if (restarts := restart_log(settings)) is not None:
        registry.register(EmbeddedRestartsCollector(restarts, settings.embedded))
    return registry


def _serve_metrics(settings: Settings, registry: CollectorRegistry | None) -> WSGIServer | None:
    """Serve ``registry`` on ``BATON_METRICS_PORT`` (a thread of this process); None without one."""
    if registry is None or settings.metrics_port is None:
        return None

    return serve_metrics(settings.metrics_port, registry)


def _stop(server: WSGIServer | None) -> None:
    if server is not None:
        server.shutdown()
        server.server_close()
