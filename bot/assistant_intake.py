"""Recording Slack's assistant-thread events before the ack (called by ``bot.events`` in its transaction).

``assistant_thread_started`` and ``assistant_thread_context_changed`` carry the thread (the person's DM with
Baton and its ``thread_ts``) and the channel the person is looking at; both are upserted into
``assistant_threads`` (``memory.assistant_threads``). A message later made in that thread becomes a request that
carries the channel in its context, so the request flow knows where its person is looking.
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg

from core.assistant import EVENTS, STARTED, read_thread_event
from memory import assistant_threads

__all__ = ["EVENTS", "STARTED", "assistant_context", "record_assistant_event"]

log = logging.getLogger(__name__)


async def record_assistant_event(conn: psycopg.AsyncConnection[Any], team_id: str, event: dict[str, Any]) -> bool:
    """Upsert the thread of an assistant event; False when the event names no usable thread."""
    thread = read_thread_event(event)
    if thread is None:
        log.info("an %s event without a usable assistant_thread; recorded, nothing more", event.get("type"))
        return False
    await assistant_threads.record_thread(conn, team_id, thread, started=event.get("type") == STARTED)
    return True


async def assistant_context(
    conn: psycopg.AsyncConnection[Any], team_id: str, event: dict[str, Any]
) -> dict[str, Any] | None:
    """For a DM message in an assistant thread: ``{"assistant_thread": {...}}`` naming the channel its person is
    looking at, to keep in the request's context; None for any other message."""
    if event.get("channel_type") != "im" or not event.get("thread_ts"):
        return None
    thread = await assistant_threads.find_thread_async(
        conn, team_id=team_id, channel_id=str(event.get("channel") or ""), thread_ts=str(event["thread_ts"])
    )
    if thread is None:
        return None
    return {
        "assistant_thread": {
            "thread_ts": thread.thread_ts,
            "context_channel_id": thread.context_channel_id,
            "context_team_id": thread.context_team_id,
        }
    }
