"""The ``slack_events`` store: inbound events recorded before the ack, then handled once.

An event's ``status`` goes ``received`` -> ``done`` (its message copy and any request were stored with it, or
the job it started finished: the Home tab) or ``ignored`` (nothing of Baton's to do); ``failed`` when that
job could not do its part (publishing the Home tab is idempotent, so a retry may still end it ``done``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import psycopg


@dataclass(frozen=True)
class RecordedEvent:
    id: int
    team_id: str
    event_id: str
    event_type: str
    channel_id: str | None
    user_id: str | None
    message_ts: str | None
    thread_ts: str | None
    payload: dict[str, Any]
    status: str


_INSERT = """
INSERT INTO slack_events (team_id, event_id, event_type, channel_id, user_id, message_ts, thread_ts, retry_num, payload)
VALUES (%(team_id)s, %(event_id)s, %(event_type)s, %(channel_id)s, %(user_id)s, %(message_ts)s, %(thread_ts)s,
        %(retry_num)s, %(payload)s)
ON CONFLICT (team_id, event_id) DO NOTHING
RETURNING id
"""


def event_row(body: dict[str, Any], *, retry_num: int = 0) -> dict[str, Any]:
    """The ``slack_events`` columns of an Events API envelope (the payload as JSON text)."""
    event = body.get("event") or {}
    return {
        "team_id": body.get("team_id") or event.get("team") or "",
        "event_id": body.get("event_id") or "",
        "event_type": event.get("type") or body.get("type") or "unknown",
        "channel_id": event.get("channel") if isinstance(event.get("channel"), str) else None,
        "user_id": event.get("user") if isinstance(event.get("user"), str) else None,
        "message_ts": event.get("ts") or event.get("event_ts"),
        "thread_ts": event.get("thread_ts"),
        "retry_num": retry_num,
        "payload": json.dumps(body),
    }


async def record_event(conn: psycopg.AsyncConnection[Any], body: dict[str, Any], *, retry_num: int = 0) -> int | None:
    """Store an Events API envelope. Returns the new row id, or None if this event_id was seen before."""
    cursor = await conn.execute(_INSERT, event_row(body, retry_num=retry_num))
    inserted = await cursor.fetchone()
    return None if inserted is None else int(_value(inserted, "id"))


def load_event(conn: psycopg.Connection[Any], event_pk: int) -> RecordedEvent | None:
    row = conn.execute(
        "SELECT id, team_id, event_id, event_type, channel_id, user_id, message_ts, thread_ts, payload, status "
        "FROM slack_events WHERE id = %s",
        (event_pk,),
    ).fetchone()
    if row is None:
        return None
    return RecordedEvent(**row) if isinstance(row, dict) else RecordedEvent(*row)


async def settle_event(conn: psycopg.AsyncConnection[Any], event_pk: int, *, status: str) -> None:
    """Record, in the recording transaction, that the event needs nothing more (``done`` or ``ignored``)."""
    await conn.execute(
        "UPDATE slack_events SET status = %s, handled_at = now() WHERE id = %s AND status = 'received'",
        (status, event_pk),
    )


def finish_event(
    conn: psycopg.Connection[Any], event_pk: int, *, status: str = "done", error: str | None = None
) -> None:
    """Record how the job an event started ended (``done`` or ``failed`` with ``error``)."""
    conn.execute(
        "UPDATE slack_events SET status = %s, error = %s, handled_at = now() WHERE id = %s",
        (status, error, event_pk),
    )


def _value(row: Any, key: str) -> Any:
    return row[key] if isinstance(row, dict) else row[0]
