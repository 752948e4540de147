"""Ordered SQL migrations, recorded in ``schema_migrations``, safe when processes race.

Migrations are the files ``memory/migrations/NNNN_name.sql``, applied in name order, each in its
own transaction. A session-level advisory lock serialises concurrent migrators (two processes
starting at once): the second waits, then finds nothing left to do. A migration whose file
changed after it was applied is refused rather than silently skipped.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from importlib import resources
from typing import Any

import psycopg

log = logging.getLogger(__name__)

#: Arbitrary but fixed key for pg_advisory_lock; shared by every Baton process.
MIGRATION_LOCK_KEY = 0x0BA7_0001


class MigrationError(RuntimeError):
    """The database's migration history does not match the migration files."""


@dataclass(frozen=True)
class Migration:
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def available() -> list[Migration]:
    """Migration files shipped with the package, in order."""
    folder = resources.files("memory") / "migrations"
    files = sorted(
        (entry for entry in folder.iterdir() if entry.name.endswith(".sql")),
        key=lambda entry: entry.name,
    )
    return [Migration(entry.name.removesuffix(".sql"), entry.read_text(encoding="utf-8")) for entry in files]


_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    name       text PRIMARY KEY,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


def applied(conn: psycopg.Connection[Any]) -> dict[str, str]:
    """Applied migration names mapped to their checksums (empty if the table does not exist)."""
    exists = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
    if not exists or not _first(exists):
        return {}
    rows = conn.execute("SELECT name, checksum FROM schema_migrations").fetchall()
    return {_get(row, 0, "name"): _get(row, 1, "checksum") for row in rows}


def pending(conn: psycopg.Connection[Any]) -> list[Migration]:
    """Migrations not yet applied (used by readiness checks)."""
    done = applied(conn)
    return [migration for migration in available() if migration.name not in done]


def migrate(conn: psycopg.Connection[Any]) -> list[str]:
    """Apply every pending migration; return the names applied by this call.

    ``conn`` must be in autocommit mode (each migration gets its own transaction).
    """
    conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
    try:
        conn.execute(_CREATE_TABLE)
        done = applied(conn)
        ran: list[str] = []
        for migration in available():
            if migration.name in done:
                if done[migration.name] != migration.checksum:
                    raise MigrationError(
                        f"migration {migration.name} was changed after it was applied; "
                        "add a new migration instead of editing an applied one"
                    )
                continue
            with conn.transaction():
                conn.execute(migration.sql.encode())
                conn.execute(
                    "INSERT INTO schema_migrations (name, checksum) VALUES (%s, %s)",
                    (migration.name, migration.checksum),
                )
            log.info("applied migration %s", migration.name)
            ran.append(migration.name)
        return ran
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))


def _first(row: Any) -> Any:
    return next(iter(row.values())) if isinstance(row, dict) else row[0]


def _get(row: Any, index: int, key: str) -> Any:
    return row[key] if isinstance(row, dict) else row[index]
