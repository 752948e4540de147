"""The Slack outbox: posts that wait in Postgres for their channel's turn, posted by a job that carries only the id.

A row is ``pending`` until it is ``posted`` (its ``posted_ts`` recorded) or ``failed`` (Slack refused it for good,
or it outlived the retry horizon). ``due_at`` is when it may next be tried: its turn, or its next try after a
transient error; the recovery pass re-drives a thread whose first pending row is overdue. The rows of one
thread (``channel_id`` and ``thread_ts``, top-level posts of a channel counting as one thread) are posted in id
order (``workers/outbox.py``). ``idem_key`` is unique, so a rerun of the job that made a post finds its row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb


@dataclass(frozen=True)
class OutboxPost:
    """One post of the outbox."""

    id: int
    team_id: str
    channel_id: str
    thread_ts: str | None
    key: str
    text: str
    state: str
    due_at: datetime
    attempts: int
    created_at: datetime
    posted_ts: str | None = None
    #: Block Kit blocks of the message (``text`` is then its notification text), or None for plain text.
    blocks: list[dict[str, Any]] | None = None


_COLUMNS = "id, team_id, channel_id, thread_ts, idem_key, text, blocks, state, due_at, attempts, created_at, posted_ts"


def _record(row: dict[str, Any]) -> OutboxPost:
    return OutboxPost(
        id=row["id"],
        team_id=row["team_id"],
        channel_id=row["channel_id"],
        thread_ts=row["thread_ts"],
        key=row["idem_key"],
        text=row["text"],
        state=row["state"],
        due_at=row["due_at"],
        attempts=row["attempts"],
        created_at=row["created_at"],
        posted_ts=row["posted_ts"],
        blocks=row["blocks"],
    )


def add(
    conn: psycopg.Connection[Any],
    *,
    team_id: str,
    channel_id: str,
    thread_ts: str | None,
    key: str,
    text: str,
    now: datetime,
    blocks: list[dict[str, Any]] | None = None,
) -> OutboxPost:
    """Queue a post under ``key`` (due ``now``), or return the row a run before this one queued under it."""
    row = conn.execute(
        "INSERT INTO slack_outbox (team_id, channel_id, thread_ts, idem_key, text, blocks, due_at, created_at) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (idem_key) DO NOTHING RETURNING " + _COLUMNS,
        (team_id, channel_id, thread_ts, key, text, None if blocks is None else Jsonb(blocks), now, now),
    ).fetchone()
    if row is None:
        row = conn.execute(f"SELECT {_COLUMNS} FROM slack_outbox WHERE idem_key = %s", (key,)).fetchone()
    assert row is not None
    return _record(row)


def load(conn: psycopg.Connection[Any], post_id: int) -> OutboxPost | None:
    """Post ``post_id``, or None when there is none (purged with its workspace)."""
    row = conn.execute(f"SELECT {_COLUMNS} FROM slack_outbox WHERE id = %s", (post_id,)).fetchone()
    return None if row is None else _record(row)


def first_pending(conn: psycopg.Connection[Any], *, channel_id: str, thread_ts: str | None) -> OutboxPost | None:
    """The oldest pending post of this thread (of the channel's top level when ``thread_ts`` is None)."""
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM slack_outbox WHERE state = 'pending' AND channel_id = %s "
        "AND COALESCE(thread_ts, '') = %s ORDER BY id LIMIT 1",
        (channel_id, thread_ts or ""),
    ).fetchone()
    return None if row is None else _record(row)


def set_due(conn: psycopg.Connection[Any], post_id: int, *, due_at: datetime) -> None:
    """Post ``post_id`` waits until ``due_at`` (its turn, or its next try); a job is enqueued for then."""
    conn.execute("UPDATE slack_outbox SET due_at = %s WHERE id = %s AND state = 'pending'", (due_at, post_id))


def count_attempt(conn: psycopg.Connection[Any], post_id: int) -> None:
    """Record that a post of ``post_id`` is about to be made: a later try looks for it in Slack first."""
    conn.execute("UPDATE slack_outbox SET attempts = attempts + 1 WHERE id = %s", (post_id,))


def mark_posted(conn: psycopg.Connection[Any], post_id: int, *, ts: str, now: datetime) -> None:
    """Post ``post_id`` is in Slack at ``ts``."""
    conn.execute(
        "UPDATE slack_outbox SET state = 'posted', posted_ts = %s, done_at = %s, error = NULL "
        "WHERE id = %s AND state = 'pending'",
        (ts, now, post_id),
    )


def mark_failed(conn: psycopg.Connection[Any], post_id: int, *, error: str, now: datetime) -> None:
    """Post ``post_id`` will not be posted (Slack refused it for good, or it is too old to matter)."""
    conn.execute(
        "UPDATE slack_outbox SET state = 'failed', error = %s, done_at = %s WHERE id = %s AND state = 'pending'",
        (error[:500], now, post_id),
    )


def overdue_threads(conn: psycopg.Connection[Any], *, older_than: datetime) -> list[int]:
    """The first pending post of each thread whose turn (or next try) passed before ``older_than``: its job was
    lost with Redis, or its worker died."""
    rows = conn.execute(
        "SELECT id FROM (SELECT DISTINCT ON (channel_id, COALESCE(thread_ts, '')) id, due_at FROM slack_outbox "
        "WHERE state = 'pending' ORDER BY channel_id, COALESCE(thread_ts, ''), id) AS heads "
        "WHERE due_at < %s ORDER BY id",
        (older_than,),
    ).fetchall()
    return [row["id"] for row in rows]


def prune(conn: psycopg.Connection[Any], *, done_before: datetime) -> int:
    """Delete posts done (posted or failed) before ``done_before``: long past any rerun that could need their key."""
    return conn.execute("DELETE FROM slack_outbox WHERE state <> 'pending' AND done_at < %s", (done_before,)).rowcount
