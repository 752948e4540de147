"""Reading stored channel messages (thread context comes from here, not from conversations.replies)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg


@dataclass(frozen=True)
class StoredMessage:
    ts: str
    user_id: str | None
    bot_id: str | None
    text: str


def thread_messages(
    conn: psycopg.Connection[Any], *, team_id: str, channel_id: str, thread_ts: str, limit: int = 200
) -> list[StoredMessage]:
    """The root and replies of a thread, oldest first (at most the newest ``limit``)."""
    rows = conn.execute(
        """
        SELECT ts, user_id, bot_id, text FROM (
            SELECT ts, user_id, bot_id, text FROM channel_messages
            WHERE team_id = %s AND channel_id = %s AND (ts = %s OR thread_ts = %s)
            ORDER BY ts DESC LIMIT %s
        ) newest ORDER BY ts
        """,
        (team_id, channel_id, thread_ts, thread_ts, limit),
    ).fetchall()
    return [StoredMessage(**row) for row in rows]
