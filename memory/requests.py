"""Requests as the workers see them: load, claim for planning, finish."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from core.types import RequestOrigin


@dataclass(frozen=True)
class RequestRecord:
    id: int
    team_id: str
    source: str
    channel_id: str
    channel_type: str
    user_id: str
    message_ts: str | None
    thread_ts: str | None
    text: str
    context: dict[str, Any]
    status: str
    created_at: datetime
    #: The RQ job that last took the request up for planning; None until one has (so no earlier run can have
    #: left anything in its thread).
    planning_job: str | None = None

    @property
    def origin(self) -> RequestOrigin:
        """Where to answer: the thread of the request (a new thread under the message if it had none)."""
        return RequestOrigin(
            team_id=self.team_id,
            channel_id=self.channel_id,
            user_id=self.user_id,
            thread_ts=self.thread_ts or self.message_ts,
            channel_type=self.channel_type,
            message_ts=self.message_ts,
        )


_COLUMNS = (
    "id, team_id, source, channel_id, channel_type, user_id, message_ts, thread_ts, text, context, status, created_at, "
    "planning_job"
)


def load_request(conn: psycopg.Connection[Any], request_id: int) -> RequestRecord | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM requests WHERE id = %s", (request_id,)).fetchone()
    return None if row is None else RequestRecord(**row)


def claim_for_planning(conn: psycopg.Connection[Any], request_id: int, *, job_id: str | None = None) -> bool:
    """``received`` -> ``planning`` by RQ job ``job_id``; False when another job already took it (or it is finished).

    The job that took it may take it again (``planning`` -> ``planning``): RQ retries a job under the same id, and
    a run cut short by a database outage left the request ``planning`` (re-planning finds the plan and the card
    the first run may have made)."""
    row = conn.execute(
        "UPDATE requests SET status = 'planning', planning_job = %(job)s, updated_at = now() "
        "WHERE id = %(id)s AND (status = 'received' "
        "OR (status = 'planning' AND %(job)s::text IS NOT NULL AND planning_job = %(job)s::text)) RETURNING id",
        {"id": request_id, "job": job_id},
    ).fetchone()
    return row is not None


def finish_request(conn: psycopg.Connection[Any], request_id: int, status: str, *, error: str | None = None) -> None:
    conn.execute(
        "UPDATE requests SET status = %s, error = %s, updated_at = now() WHERE id = %s",
        (status, error, request_id),
    )


def stale_requests(conn: psycopg.Connection[Any], *, older_than: datetime) -> list[int]:
    """Requests recorded but never planned (Redis was down at ack time, or a worker died while planning)."""
    rows = conn.execute(
        "SELECT id FROM requests WHERE status IN ('received', 'planning') AND updated_at < %s ORDER BY id",
        (older_than,),
    ).fetchall()
    return [row["id"] for row in rows]


def reset_stuck_planning(conn: psycopg.Connection[Any], request_id: int, *, older_than: datetime) -> bool:
    """Put a request whose planner died (planning since before ``older_than``) back to ``received``."""
    row = conn.execute(
        "UPDATE requests SET status = 'received', updated_at = now() "
        "WHERE id = %s AND status = 'planning' AND updated_at < %s RETURNING id",
        (request_id, older_than),
    ).fetchone()
    return row is not None
