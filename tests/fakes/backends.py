"""Real Postgres (+pgvector) and Redis for the test session, reset between tests.

By default the embedded servers are started in a fresh state folder for the session and stopped
at its end. Set ``BATON_TEST_DATABASE_URL`` / ``BATON_TEST_REDIS_URL`` to test against other
servers instead (their data is wiped per test: never point these at anything you care about).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import redis

from memory.db import connect
from memory.embedded import EmbeddedServices
from memory.migrate import migrate


@dataclass(frozen=True)
class Backends:
    database_url: str
    redis_url: str
    home: Path


@contextlib.contextmanager
def session_backends(home: Path) -> Iterator[Backends]:
    services = EmbeddedServices(home)
    database_url = os.environ.get("BATON_TEST_DATABASE_URL") or services.ensure_postgres()
    redis_url = os.environ.get("BATON_TEST_REDIS_URL") or services.ensure_redis()
    with connect(database_url) as conn:
        migrate(conn)
    try:
        yield Backends(database_url=database_url, redis_url=redis_url, home=home)
    finally:
        services.release()


def reset_database(database_url: str) -> None:
    """Empty every table but the migration record, so each test starts from a migrated, empty schema."""
    with connect(database_url) as conn:
        tables = [
            row["tablename"]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'"
            ).fetchall()
        ]
        if tables:
            conn.execute(
                "TRUNCATE " + ", ".join(f'"{name}"' for name in tables) + " RESTART IDENTITY CASCADE"
            )


def reset_redis(connection: redis.Redis) -> None:
    connection.flushdb()
