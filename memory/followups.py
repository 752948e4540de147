"""Timed follow-up work in Postgres (``followups``): reminders to owners and check-ins in meeting threads.

Each row is one message to send at ``run_at``. The dispatcher claims due rows with a lease (one
guarded UPDATE, so two schedulers or reconcilers never both get a row), the sender posts under the
row's key and marks it ``sent``; a sender that died leaves a claim whose lease runs out, and the row
is claimed again (the keyed post finds the first message instead of posting twice).
UNIQUE (meeting, kind, owner, day) keeps scheduling idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import psycopg


@dataclass(frozen=True)
class FollowupRecord:
    id: int
    team_id: str
    meeting_id: int
    kind: str  # reminder | checkin
    owner_id: str
    due_on: date
    run_at: datetime
    status: str
    attempts: int
    channel_id: str | None
    message_ts: str | None


_COLUMNS = "id, team_id, meeting_id, kind, owner_id, due_on, run_at, status, attempts, channel_id, message_ts"


def schedule(conn: psycopg.Connection[Any], *, team_id: str, meeting_id: int, kind: str, owner_id: str,
             due_on: date, run_at: datetime) -> int | None:
    """Schedule one follow-up; an existing one for (meeting, kind, owner, day) is kept. Returns the new id."""
    row = conn.execute(
        """
        INSERT INTO followups (team_id, meeting_id, kind, owner_id, due_on, run_at)
        VALUES (%s, %s, %s, %s, %s, %s)
        ON CONFLICT (meeting_id, kind, owner_id, due_on) DO NOTHING
        RETURNING id
        """,
        (team_id, meeting_id, kind, owner_id, due_on, run_at),
    ).fetchone()
    return None if row is None else int(row["id"])


def claim_due(conn: psycopg.Connection[Any], *, now: datetime, lease_until: datetime, limit: int = 100) -> list[int]:
    """Claim follow-ups due by ``now`` (and claims whose sender died); returns their ids."""
    rows = conn.execute(
        """
        UPDATE followups SET status = 'claimed', lease_until = %s, attempts = attempts + 1, updated_at = now()
         WHERE id IN (
               SELECT id FROM followups
                WHERE run_at <= %s
                  AND (status = 'pending' OR (status = 'claimed' AND lease_until < %s))
                ORDER BY run_at
                LIMIT %s
                FOR UPDATE SKIP LOCKED)
        RETURNING id
        """,
        (lease_until, now, now, limit),
    ).fetchall()
    return [int(row["id"]) for row in rows]


def extend_lease(conn: psycopg.Connection[Any], followup_id: int, *, lease_until: datetime) -> None:
    """Keep follow-up ``followup_id`` claimed until ``lease_until`` (its sender waits for the channel's turn)."""
    conn.execute(
        "UPDATE followups SET lease_until = GREATEST(lease_until, %s) WHERE id = %s AND status = 'claimed'",
        (lease_until, followup_id),
    )


def load(conn: psycopg.Connection[Any], followup_id: int) -> FollowupRecord | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM followups WHERE id = %s", (followup_id,)).fetchone()
    return None if row is None else FollowupRecord(**row)


def finish(conn: psycopg.Connection[Any], followup_id: int, *, status: str, channel_id: str | None = None,
           message_ts: str | None = None, error: str | None = None) -> bool:
    """``claimed`` -> ``sent`` / ``skipped``; False when it was not claimed (someone else finished it)."""
    row = conn.execute(
        """
        UPDATE followups SET status = %s, channel_id = %s, message_ts = %s, error = %s, lease_until = NULL,
               updated_at = now()
         WHERE id = %s AND status = 'claimed'
        RETURNING id
        """,
        (status, channel_id, message_ts, error, followup_id),
    ).fetchone()
    return row is not None


