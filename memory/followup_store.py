"""The Postgres side of ``meeting.follow_up``: an item's task plus its reminder and check-in, in one
transaction (see ``connectors.meeting_followups.FollowupStore``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import psycopg

from core.meetings.followup_times import checkin_at, reminder_at
from memory import followups, meeting_store


class PostgresFollowupStore:
    """``connect`` returns a new dict-row connection; ``tz_of(user_id)`` names a person's time zone."""

    def __init__(self, connect: Callable[[], psycopg.Connection[Any]], *, tz_of: Callable[[str], str],
                 now: Callable[[], datetime]) -> None:
        self._connect = connect
        self._tz_of = tz_of
        self._now = now

    def create_follow_up(self, *, team_id: str, meeting_id: int, item: int, title: str, owner_id: str | None,
                         due_date: date | None, key: str) -> dict[str, Any]:
        """Create the task once per ``key``, link it to the item and schedule its reminder and check-in."""
        owner_tz = self._tz_of(owner_id) if owner_id and due_date else None
        now = self._now()
        with self._connect() as conn, conn.transaction():
            meeting = meeting_store.load_meeting(conn, meeting_id)
            if meeting is None or meeting.team_id != team_id:
                raise LookupError(f"meeting {meeting_id} is not in this workspace")
            source = f"meeting:{meeting_id}#{item}"
            conn.execute(
                """
                INSERT INTO tasks (team_id, title, owner_id, due_date, source_link, idempotency_key)
                VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (idempotency_key) DO NOTHING
                """,
                (team_id, title, owner_id, due_date, source, key),
            )
            task = conn.execute("SELECT id FROM tasks WHERE idempotency_key = %s", (key,)).fetchone()
            assert task is not None
            task_id = int(task["id"])
            meeting_store.link_task(conn, meeting_id, item, task_id)
            result: dict[str, Any] = {"task_id": task_id}
            if due_date is None:
                return result
            if owner_id:
                at = reminder_at(due_date, owner_tz, now=now)
                if at is not None:
                    followups.schedule(conn, team_id=team_id, meeting_id=meeting_id, kind="reminder",
                                       owner_id=owner_id, due_on=due_date, run_at=at)
                    result["reminder_at"] = at.isoformat()
            at = checkin_at(due_date, meeting.tz, now=now)
            followups.schedule(conn, team_id=team_id, meeting_id=meeting_id, kind="checkin", owner_id="",
                               due_on=due_date, run_at=at)
            result["checkin_at"] = at.isoformat()
        return result

    def undo_follow_up(self, *, team_id: str, meeting_id: int, item: int, task_id: int) -> dict[str, Any]:
        """Cancel the item's task; its reminder and check-in then find nothing open and stay silent."""
        with self._connect() as conn:
            row = conn.execute(
                "UPDATE tasks SET status = 'cancelled' WHERE id = %s AND team_id = %s AND status <> 'cancelled' "
                "RETURNING id",
                (task_id, team_id),
            ).fetchone()
        return {"task_id": task_id, "cancelled": row is not None}
