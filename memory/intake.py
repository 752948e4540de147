"""Async SQL the Slack HTTP app runs before it acks: store messages, create requests (deduplicated)."""

from __future__ import annotations

import json
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
    cursor = await conn.execute(
        """
        INSERT INTO requests (team_id, dedupe_key, source, channel_id, channel_type, user_id, text,
                              message_ts, thread_ts, context)
        VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
        ON CONFLICT (team_id, dedupe_key) DO NOTHING
        RETURNING id
        """,
        (
            team_id,
            dedupe_key,
            source,
            channel_id,
            channel_type,
            user_id,
            text,
            message_ts,
            thread_ts,
            json.dumps(context or {}),
        ),
    )
    row = await cursor.fetchone()
    if row is None:
        return None
    request_id = int(row["id"] if isinstance(row, dict) else row[0])
    await conn.execute(
        "INSERT INTO audit_log (team_id, request_id, kind, actor, detail) VALUES (%s, %s, 'request.received', %s, %s)",
        (team_id, request_id, user_id, json.dumps({"source": source, "channel": channel_id, "chars": len(text)})),
    )
    return request_id


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
