"""Async SQL the Slack HTTP app runs before it acks: store messages, create requests (deduplicated)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import psycopg


async def store_message(conn: psycopg.AsyncConnection[Any], team_id: str, event: dict[str, Any]) -> None:
    """Insert or refresh a channel message (a plain ``message`` event, including the bot's own posts)."""
    await conn.execute(
        """
        INSERT INTO channel_messages (team_id, channel_id, ts, thread_ts, user_id, bot_id, text, subtype)
        VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
        ON CONFLICT (team_id, channel_id, ts) DO UPDATE
            SET text = EXCLUDED.text, thread_ts = EXCLUDED.thread_ts, subtype = EXCLUDED.subtype
        """,
        (
            team_id,
            event.get("channel"),
            event.get("ts"),
            event.get("thread_ts"),
            event.get("user"),
            event.get("bot_id"),
            event.get("text") or "",
            event.get("subtype"),
        ),
    )


async def edit_message(conn: psycopg.AsyncConnection[Any], team_id: str, event: dict[str, Any]) -> None:
    """Apply a ``message_changed`` event to the stored copy."""
    message = event.get("message") or {}
    await conn.execute(
        "UPDATE channel_messages SET text = %s, edited_at = now() WHERE team_id = %s AND channel_id = %s AND ts = %s",
        (message.get("text") or "", team_id, event.get("channel"), message.get("ts")),
    )


async def delete_message(conn: psycopg.AsyncConnection[Any], team_id: str, event: dict[str, Any]) -> None:
    """Apply a ``message_deleted`` event: the stored copy goes for real, and so do memories sourced only from it."""
    deleted_ts = event.get("deleted_ts") or (event.get("previous_message") or {}).get("ts")
    await conn.execute(
        "DELETE FROM channel_messages WHERE team_id = %s AND channel_id = %s AND ts = %s",
        (team_id, event.get("channel"), deleted_ts),
    )
    cursor = await conn.execute(
        "DELETE FROM memories WHERE team_id = %s AND source_channel = %s AND source_ts = %s RETURNING id",
        (team_id, event.get("channel"), deleted_ts),
    )
    gone = [row["id"] if isinstance(row, dict) else row[0] for row in await cursor.fetchall()]
    if gone:
        await conn.execute(
            "INSERT INTO audit_log (team_id, kind, actor, detail) VALUES (%s, 'memory.deleted', %s, %s)",
            (team_id, event.get("user") or "slack", json.dumps({"ids": gone, "reason": "source message deleted"})),
        )


@dataclass(frozen=True)
class NewRequest:
    """A request to create, with the ``request.received`` audit entry that goes with it."""

    team_id: str
    dedupe_key: str
    source: str
    channel_id: str
    channel_type: str
    user_id: str
    text: str
    message_ts: str | None = None
    thread_ts: str | None = None
    context: dict[str, Any] | None = None

    def params(self) -> dict[str, Any]:
        return {
            "r_team": self.team_id,
            "r_dedupe": self.dedupe_key,
            "r_source": self.source,
            "r_channel": self.channel_id,
            "r_channel_type": self.channel_type,
            "r_user": self.user_id,
            "r_text": self.text,
            "r_message_ts": self.message_ts,
            "r_thread_ts": self.thread_ts,
            "r_context": json.dumps(self.context or {}),
            "r_audit": json.dumps({"source": self.source, "channel": self.channel_id, "chars": len(self.text)}),
        }


#: The request and its audit entry in one statement (one round trip, atomic without a transaction). ``{rows}``
#: is what the request is inserted from: one row of values, or the newly recorded event (nothing when the event
#: was a duplicate).
_REQUEST_AND_AUDIT = """
req AS (
    INSERT INTO requests (team_id, dedupe_key, source, channel_id, channel_type, user_id, text,
                          message_ts, thread_ts, context)
    SELECT %(r_team)s, %(r_dedupe)s, %(r_source)s, %(r_channel)s, %(r_channel_type)s, %(r_user)s, %(r_text)s,
           %(r_message_ts)s, %(r_thread_ts)s, %(r_context)s
      FROM {rows}
    ON CONFLICT (team_id, dedupe_key) DO NOTHING
    RETURNING id
), audit AS (
    INSERT INTO audit_log (team_id, request_id, kind, actor, detail)
    SELECT %(r_team)s, id, 'request.received', %(r_user)s, %(r_audit)s FROM req
)"""


async def create_request(
    conn: psycopg.AsyncConnection[Any],
    *,
    team_id: str,
    dedupe_key: str,
    source: str,
    channel_id: str,
    channel_type: str,
    user_id: str,
    text: str,
    message_ts: str | None = None,
    thread_ts: str | None = None,
    context: dict[str, Any] | None = None,
) -> int | None:
    """Create a request; None if one with the same ``dedupe_key`` exists (a duplicate delivery)."""
    request = NewRequest(team_id, dedupe_key, source, channel_id, channel_type, user_id, text,
                         message_ts, thread_ts, context)
    return await insert_request(conn, request)


async def insert_request(conn: psycopg.AsyncConnection[Any], request: NewRequest) -> int | None:
    """:func:`create_request` for a :class:`NewRequest`."""
    sql = "WITH " + _REQUEST_AND_AUDIT.format(rows="(VALUES (1)) AS one") + " SELECT id FROM req"
    cursor = await conn.execute(sql, request.params())
    row = await cursor.fetchone()
    return None if row is None else int(_first(row, "id"))


@dataclass(frozen=True)
class Recorded:
    """What :func:`record_delivery` stored: the event's row, and the request's when one was created."""

    event_pk: int
    request_id: int | None


_RECORD_DELIVERY = """
WITH ev AS (
    INSERT INTO slack_events (team_id, event_id, event_type, channel_id, user_id, message_ts, thread_ts, retry_num,
                              payload, status, handled_at)
    VALUES (%(team_id)s, %(event_id)s, %(event_type)s, %(channel_id)s, %(user_id)s, %(message_ts)s, %(thread_ts)s,
            %(retry_num)s, %(payload)s, %(status)s, CASE WHEN %(status)s = 'received' THEN NULL ELSE now() END)
    ON CONFLICT (team_id, event_id) DO NOTHING
    RETURNING id
), copy AS (
    INSERT INTO channel_messages (team_id, channel_id, ts, thread_ts, user_id, bot_id, text, subtype)
    SELECT %(m_team)s, %(m_channel)s, %(m_ts)s, %(m_thread_ts)s, %(m_user)s, %(m_bot)s, %(m_text)s, %(m_subtype)s
      FROM ev WHERE %(m_store)s
    ON CONFLICT (team_id, channel_id, ts) DO UPDATE
        SET text = EXCLUDED.text, thread_ts = EXCLUDED.thread_ts, subtype = EXCLUDED.subtype
), {request}
SELECT ev.id AS event_pk, (SELECT id FROM req) AS request_id FROM ev
"""


async def record_delivery(
    conn: psycopg.AsyncConnection[Any],
    event_row: dict[str, Any],
    *,
    message: dict[str, Any] | None,
    request: NewRequest | None,
    status: str,
) -> Recorded | None:
    """Record a delivery, its message copy and its request in **one statement**: one round trip before the ack,
    atomic in autocommit. ``event_row`` holds the ``slack_events`` columns (:func:`memory.slack_events.event_row`);
    ``status`` is the event's final status when the request is created (or none is asked for).

    None when the event was recorded before (a redelivery): nothing else is written then. The event row is
    inserted first and the rest is inserted from it, so two deliveries of one event take their locks in the
    same order (no deadlock) and a duplicate writes nothing.
    """
    params: dict[str, Any] = {**event_row, "status": status, **_copy_params(event_row["team_id"], message)}
    params.update((request or _NO_REQUEST).params())
    rows = "ev WHERE %(r_ask)s"
    params["r_ask"] = request is not None
    cursor = await conn.execute(_RECORD_DELIVERY.format(request=_REQUEST_AND_AUDIT.format(rows=rows)), params)
    row = await cursor.fetchone()
    if row is None:
        return None
    event_pk, request_id = int(_first(row, "event_pk")), _first(row, "request_id", 1)
    if request is not None and request_id is None and message is None and status == "done":
        # Another delivery of the message already made its request: this event had nothing to do after all.
        await conn.execute("UPDATE slack_events SET status = 'ignored' WHERE id = %s", (event_pk,))
    return Recorded(event_pk, None if request_id is None else int(request_id))


_NO_REQUEST = NewRequest("", "", "", "", "", "", "")


def _copy_params(team_id: str, message: dict[str, Any] | None) -> dict[str, Any]:
    event = message or {}
    return {
        "m_store": message is not None,
        "m_team": team_id,
        "m_channel": event.get("channel"),
        "m_ts": event.get("ts"),
        "m_thread_ts": event.get("thread_ts"),
        "m_user": event.get("user"),
        "m_bot": event.get("bot_id"),
        "m_text": event.get("text") or "",
        "m_subtype": event.get("subtype"),
    }


def _first(row: Any, key: str, index: int = 0) -> Any:
    return row[key] if isinstance(row, dict) else row[index]


async def baton_in_thread(conn: psycopg.AsyncConnection[Any], team_id: str, channel_id: str, thread_ts: str) -> bool:
    """True when Baton has posted in (or started) the thread: a meeting's notes, a plan card, a reply."""
    cursor = await conn.execute(
        """
        SELECT 1 FROM channel_messages
         WHERE team_id = %s AND channel_id = %s AND coalesce(thread_ts, ts) = %s AND bot_id IS NOT NULL
        UNION ALL
        SELECT 1 FROM meetings WHERE team_id = %s AND card_channel = %s AND (thread_ts = %s OR card_ts = %s)
        LIMIT 1
        """,
        (team_id, channel_id, thread_ts, team_id, channel_id, thread_ts, thread_ts),
    )
    return await cursor.fetchone() is not None
