"""Baton's own tasks in Postgres (``tasks`` table): the store behind ``tasks.create`` / ``tasks.complete``.

Creation is idempotent through the UNIQUE ``idempotency_key`` column: ``INSERT … ON CONFLICT DO NOTHING``
then a read by key, so a second create under one key returns the first task. Status changes are guarded
``UPDATE … WHERE status = <from>`` statements; each reports the status before it, so the caller knows
whether it changed anything. Every statement is scoped to a workspace (``team_id``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import psycopg

_COLUMNS = "id, team_id, title, owner_id, due_date, status, source_link, created_at, completed_at"
#: What each status change does to ``completed_at``: set when done, cleared when reopened, kept when cancelled.
_COMPLETED_AT = {
    "done": "completed_at = now()",
    "open": "completed_at = NULL",
    "cancelled": "completed_at = completed_at",
}


@dataclass(frozen=True)
class TaskRecord:
    id: int
    team_id: str
    title: str
    owner_id: str | None
    due_date: date | None
    status: str  # open | done | cancelled
    source_link: str | None
    created_at: datetime
    completed_at: datetime | None


@dataclass(frozen=True)
class TaskChange:
    """A task after a status change, and its status before (equal when nothing changed)."""

    task: TaskRecord
    previous_status: str


class PostgresTaskStore:
    """Tasks in Postgres; ``connect`` returns a new dict-row connection (``memory.db.connect``)."""

    def __init__(self, connect: Callable[[], psycopg.Connection[Any]]) -> None:
        self._connect = connect

    def create(self, *, team_id: str, title: str, owner_id: str | None, due_date: date | None,
               source_link: str | None, key: str) -> TaskRecord:
        """Create a task, or return the one already created under ``key``."""
        with self._connect() as conn:
            conn.execute(
                """
                INSERT INTO tasks (team_id, title, owner_id, due_date, source_link, idempotency_key)
                VALUES (%s, %s, %s, %s, %s, %s)
                ON CONFLICT (idempotency_key) DO NOTHING
                """,
                (team_id, title, owner_id, due_date, source_link, key),
            )
            row = conn.execute(f"SELECT {_COLUMNS} FROM tasks WHERE idempotency_key = %s", (key,)).fetchone()
        assert row is not None
        return TaskRecord(**row)

    def get(self, *, team_id: str, task_id: int) -> TaskRecord | None:
        """One task of this workspace, or None."""
        with self._connect() as conn:
            row = conn.execute(f"SELECT {_COLUMNS} FROM tasks WHERE id = %s AND team_id = %s",
                               (task_id, team_id)).fetchone()
        return TaskRecord(**row) if row else None

    def complete(self, *, team_id: str, task_id: int) -> TaskChange | None:
        """Mark an open task done (a done task stays done)."""
        return self._change(team_id, task_id, to="done", allowed_from=("open",))

    def cancel(self, *, team_id: str, task_id: int) -> TaskChange | None:
        """Cancel an open or done task (the undo of its creation)."""
        return self._change(team_id, task_id, to="cancelled", allowed_from=("open", "done"))

    def reopen(self, *, team_id: str, task_id: int) -> TaskChange | None:
        """Make a done task open again (the undo of completing it)."""
        return self._change(team_id, task_id, to="open", allowed_from=("done",))

    def _change(self, team_id: str, task_id: int, *, to: str, allowed_from: tuple[str, ...]) -> TaskChange | None:
        # One transaction with the row locked, so the status read as "before" is the one the UPDATE saw.
        with self._connect() as conn, conn.transaction():
            before = conn.execute("SELECT status FROM tasks WHERE id = %s AND team_id = %s FOR UPDATE",
                                  (task_id, team_id)).fetchone()
            if before is None:
                return None
            if before["status"] in allowed_from:
                conn.execute(f"UPDATE tasks SET status = %s, {_COMPLETED_AT[to]} WHERE id = %s AND team_id = %s",
                             (to, task_id, team_id))
            row = conn.execute(f"SELECT {_COLUMNS} FROM tasks WHERE id = %s", (task_id,)).fetchone()
        assert row is not None
        return TaskChange(task=TaskRecord(**row), previous_status=before["status"])


def mark_done(conn: psycopg.Connection[Any], task_id: int) -> bool:
    """Mark task ``task_id`` done on the caller's connection (a Done button); False unless it was open."""
    row = conn.execute(
        "UPDATE tasks SET status = 'done', completed_at = now() WHERE id = %s AND status = 'open' RETURNING id",
        (task_id,),
    ).fetchone()
    return row is not None
