"""Facts Baton was asked to remember (``remembered_facts``): the store behind ``memory.remember``.

Idempotent through the UNIQUE ``idempotency_key`` column: ``INSERT … ON CONFLICT DO NOTHING`` then a read
by key. Every statement is scoped to a workspace (``team_id``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

_COLUMNS = "id, team_id, scope, channel_id, user_id, text, source, author_id, created_at"


@dataclass(frozen=True)
class FactRecord:
    id: int
    team_id: str
    scope: str  # workspace | channel | user
    channel_id: str | None
    user_id: str | None
    text: str
    source: str | None
    author_id: str | None
    created_at: datetime


class PostgresFactStore:
    """Remembered facts in Postgres; ``connect`` returns a new dict-row connection (``memory.db.connect``)."""

    def __init__(self, connect: Callable[[], psycopg.Connection[Any]]) -> None:
        self._connect = connect

    def remember(self, *, team_id: str, scope: str, channel_id: str | None, user_id: str | None, text: str,
                 source: str | None, author_id: str | None, key: str) -> FactRecord:
        """Store a fact, or return the one already stored under ``key``."""
        with self._connect() as conn:
            conn.execute(
                """
                INSERT INTO remembered_facts
                    (team_id, scope, channel_id, user_id, text, source, author_id, idempotency_key)
                VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
                ON CONFLICT (idempotency_key) DO NOTHING
                """,
                (team_id, scope, channel_id, user_id, text, source, author_id, key),
            )
            row = conn.execute(f"SELECT {_COLUMNS} FROM remembered_facts WHERE idempotency_key = %s",
                               (key,)).fetchone()
        assert row is not None
        return FactRecord(**row)

    def forget(self, *, team_id: str, fact_id: int) -> bool:
        """Delete a fact of this workspace; False when there was none."""
        with self._connect() as conn:
            cursor = conn.execute("DELETE FROM remembered_facts WHERE id = %s AND team_id = %s", (fact_id, team_id))
            return cursor.rowcount > 0

    def facts(self, *, team_id: str) -> list[FactRecord]:
        """Every fact of a workspace, oldest first."""
        with self._connect() as conn:
            rows = conn.execute(f"SELECT {_COLUMNS} FROM remembered_facts WHERE team_id = %s ORDER BY id",
                                (team_id,)).fetchall()
        return [FactRecord(**row) for row in rows]
