"""The ``assistant_threads`` store: Slack assistant threads and the channel their person is looking at.

Written by the web process in the transaction that records the event (before the ack); read by jobs (the
greeting, the planning status) and by intake, which copies the channel context onto a request made in the thread.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg

from core.assistant import AssistantThread, AssistantThreadEvent

_COLUMNS = "team_id, channel_id, thread_ts, user_id, context_channel_id, context_team_id, greeted_at"


async def record_thread(
    conn: psycopg.AsyncConnection[Any], team_id: str, event: AssistantThreadEvent, *, started: bool
) -> None:
    """Insert the thread (``started``) or update its channel context; either event may come first (Slack does
    not promise their order), so both upsert. A context event with no channel keeps the known one."""
    await conn.execute(
        """
        INSERT INTO assistant_threads (team_id, channel_id, thread_ts, user_id, context_channel_id, context_team_id,
                                       context_enterprise_id, context_changed_at)
        VALUES (%(team)s, %(channel)s, %(ts)s, %(user)s, %(cc)s, %(ct)s, %(ce)s,
                CASE WHEN %(started)s THEN NULL ELSE now() END)
        ON CONFLICT (team_id, channel_id, thread_ts) DO UPDATE SET
            context_channel_id = CASE WHEN EXCLUDED.context_channel_id = ''
                                      THEN assistant_threads.context_channel_id
                                      ELSE EXCLUDED.context_channel_id END,
            context_team_id = CASE WHEN EXCLUDED.context_channel_id = '' THEN assistant_threads.context_team_id
                                   ELSE EXCLUDED.context_team_id END,
            context_enterprise_id = CASE WHEN EXCLUDED.context_channel_id = ''
                                         THEN assistant_threads.context_enterprise_id
                                         ELSE EXCLUDED.context_enterprise_id END,
            context_changed_at = CASE WHEN %(started)s THEN assistant_threads.context_changed_at ELSE now() END
        """,
        {
            "team": team_id,
            "channel": event.channel_id,
            "ts": event.thread_ts,
            "user": event.user_id,
            "cc": event.context_channel_id,
            "ct": event.context_team_id,
            "ce": event.context_enterprise_id,
            "started": started,
        },
    )


async def find_thread_async(
    conn: psycopg.AsyncConnection[Any], *, team_id: str, channel_id: str, thread_ts: str
) -> AssistantThread | None:
    """The assistant thread a message is in (intake, before the ack), or None."""
    cursor = await conn.execute(
        f"SELECT {_COLUMNS} FROM assistant_threads WHERE team_id = %s AND channel_id = %s AND thread_ts = %s",
        (team_id, channel_id, thread_ts),
    )
    return _record(await cursor.fetchone())


def find_thread(
    conn: psycopg.Connection[Any], *, team_id: str, channel_id: str, thread_ts: str
) -> AssistantThread | None:
    """The assistant thread of a request (a job), or None when the request was not made in one."""
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM assistant_threads WHERE team_id = %s AND channel_id = %s AND thread_ts = %s",
        (team_id, channel_id, thread_ts),
    ).fetchone()
    return _record(row)


def mark_greeted(conn: psycopg.Connection[Any], thread: AssistantThread) -> bool:
    """Greeted now; False when another run greeted it first (the guarded UPDATE loses)."""
    cursor = conn.execute(
        "UPDATE assistant_threads SET greeted_at = now() "
        "WHERE team_id = %s AND channel_id = %s AND thread_ts = %s AND greeted_at IS NULL",
        (thread.team_id, thread.channel_id, thread.thread_ts),
    )
    return cursor.rowcount == 1


def _record(row: Any) -> AssistantThread | None:
    if row is None:
        return None
    values = row if isinstance(row, dict) else dict(zip(_COLUMNS.split(", "), row, strict=True))
    return AssistantThread(
        team_id=values["team_id"],
        channel_id=values["channel_id"],
        thread_ts=values["thread_ts"],
        user_id=values["user_id"],
        context_channel_id=values["context_channel_id"],
        context_team_id=values["context_team_id"],
        greeted=values["greeted_at"] is not None,
    )


def ungreeted_events(conn: psycopg.Connection[Any], *, older_than: datetime, newer_than: datetime) -> list[int]:
    """``assistant_thread_started`` events recorded between the two times whose greeting job never settled them
    (the recovery pass enqueues it again)."""
    rows = conn.execute(
        "SELECT id FROM slack_events WHERE status = 'received' AND event_type = 'assistant_thread_started' "
        "AND received_at < %s AND received_at > %s ORDER BY id",
        (older_than, newer_than),
    ).fetchall()
    return [int(row["id"] if isinstance(row, dict) else row[0]) for row in rows]
