"""What the readiness probe and ``baton doctor`` ask of Postgres: the server, pgvector, applied migrations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg


@dataclass(frozen=True)
class ServerFacts:
    """The server's version, pgvector's installed version (None when not installed) and whether it could be."""

    version: str | None
    vector_version: str | None
    vector_available: bool


def server_facts(conn: psycopg.Connection[Any]) -> ServerFacts:
    """Ask the server what ``baton doctor`` reports."""
    version = conn.execute("SHOW server_version").fetchone()
    vector = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()
    available = conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'").fetchone()
    return ServerFacts(
        version=str(_first(version)) if version else None,
        vector_version=str(_first(vector)) if vector else None,
        vector_available=available is not None,
    )


async def applied_migrations(conn: psycopg.AsyncConnection[Any]) -> set[str]:
    """Names of the applied migrations (none before the first migration made the table)."""
    cursor = await conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL AS present")
    present = await cursor.fetchone()
    if not (present and _first(present)):
        return set()
    cursor = await conn.execute("SELECT name FROM schema_migrations")
    return {str(_first(row)) for row in await cursor.fetchall()}


def _first(row: Any) -> Any:
    return next(iter(row.values())) if isinstance(row, dict) else row[0]
