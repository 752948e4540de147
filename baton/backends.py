"""Resolve where Postgres and Redis are: the configured URLs, or the embedded servers."""

from __future__ import annotations

import logging

from core.settings import Settings
from memory import migrate
from memory.db import connect
from memory.embedded import EmbeddedServices
from memory.embedded.supervisor import RestartLog, Supervisor

log = logging.getLogger(__name__)


def resolve_backends(settings: Settings) -> tuple[Settings, EmbeddedServices | None]:
    """Settings with ``database_url`` and ``redis_url`` filled in, starting embedded servers for unset ones.

    Raises :class:`memory.embedded.EmbeddedServerError` (one line) if an embedded server cannot start.
    The returned services object holds this process's leases; they are released at exit.
    """
    if settings.database_url and settings.redis_url:
        return settings, None
    services = EmbeddedServices(settings.baton_home)
    changes: dict[str, object] = {}
    if settings.database_url is None:
        changes["database_url"] = services.ensure_postgres()
        log.info("using embedded PostgreSQL (data in %s)", services.postgres.data_dir)
    if settings.redis_url is None:
        changes["redis_url"] = services.ensure_redis()
        log.info("using embedded Redis (data in %s)", services.redis.data_dir)
    embedded = tuple(
        name for name, key in (("postgres", "database_url"), ("redis", "redis_url")) if key in changes
    )
    return settings.with_changes(**changes, embedded=embedded), services


def migrate_database(database_url: str) -> list[str]:
    """Apply pending migrations (safe to call from several processes at once)."""
    with connect(database_url) as conn:
        return migrate.migrate(conn)


def supervise(services: EmbeddedServices | None) -> Supervisor | None:
    """Watch this process's embedded servers and restart one that dies (nothing to do for servers given by URL)."""
    if services is None or not services.held_names():
        return None
    return Supervisor(services).start()


def restart_log(settings: Settings) -> RestartLog | None:
    """Where the embedded servers' restarts are counted, when this process uses any."""
    return RestartLog(settings.baton_home / "run") if settings.embedded else None
