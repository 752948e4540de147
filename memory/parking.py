"""Parked steps: work that a retryable outage (Slack 429/5xx, timeouts) kept failing past the in-job retries.

A parked step stays ``running`` in ``plan_steps`` with its lease set to ``retry_at``, so no runner takes it
before then and the recovery pass resumes it once the lease has passed, exactly like a dead worker's step;
this table remembers when the outage began (the retry horizon counts from there), how often it was parked
and why. ``idx`` -1 is the plan's final report: parked while it cannot be posted, deleted once it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

#: The ``idx`` under which a plan's final report is parked.
REPORT = -1


@dataclass(frozen=True)
class Parked:
    """One parked step (or report): since when, until when, how many times, and the last error."""

    plan_id: int
    idx: int
    since: datetime
    retry_at: datetime
    parks: int
    reason: str


def load_parked(conn: psycopg.Connection[Any], plan_id: int, idx: int) -> Parked | None:
    """The parking record of step ``idx`` (or :data:`REPORT`) of plan ``plan_id``, if it was ever parked."""
    row = conn.execute(
        "SELECT plan_id, idx, since, retry_at, parks, reason FROM parked_steps WHERE plan_id = %s AND idx = %s",
        (plan_id, idx),
    ).fetchone()
    return None if row is None else Parked(**row)


def park(
    conn: psycopg.Connection[Any], plan_id: int, idx: int, *, now: datetime, retry_at: datetime, reason: str
) -> Parked:
    """Park step ``idx`` until ``retry_at`` (a new record, or one more park of the same outage)."""
    row = conn.execute(
        """
        INSERT INTO parked_steps (plan_id, idx, since, retry_at, parks, reason) VALUES (%s, %s, %s, %s, 1, %s)
        ON CONFLICT (plan_id, idx) DO UPDATE
            SET retry_at = EXCLUDED.retry_at, parks = parked_steps.parks + 1, reason = EXCLUDED.reason
        RETURNING plan_id, idx, since, retry_at, parks, reason
        """,
        (plan_id, idx, now, retry_at, reason),
    ).fetchone()
    assert row is not None
    return Parked(**row)


def take_due_report(conn: psycopg.Connection[Any], plan_id: int, *, now: datetime, hold_until: datetime) -> bool:
    """Claim the retry of plan ``plan_id``'s parked report if its time has come: only one runner gets True, and
    the report is held (until ``hold_until``) from the others while it tries."""
    row = conn.execute(
        "UPDATE parked_steps SET retry_at = %s WHERE plan_id = %s AND idx = %s AND retry_at <= %s RETURNING idx",
        (hold_until, plan_id, REPORT, now),
    ).fetchone()
    return row is not None


def report_parked(conn: psycopg.Connection[Any], plan_id: int) -> bool:
    """True while plan ``plan_id``'s final report waits to be posted."""
    row = conn.execute("SELECT 1 FROM parked_steps WHERE plan_id = %s AND idx = %s", (plan_id, REPORT)).fetchone()
    return row is not None


def unpark_report(conn: psycopg.Connection[Any], plan_id: int) -> None:
    """The report was posted (or can never be): forget it."""
    conn.execute("DELETE FROM parked_steps WHERE plan_id = %s AND idx = %s", (plan_id, REPORT))


def reports_due(conn: psycopg.Connection[Any], *, now: datetime) -> list[int]:
    """Plans whose parked report is due for another try (the recovery pass enqueues them)."""
    rows = conn.execute(
        "SELECT plan_id FROM parked_steps WHERE idx = %s AND retry_at <= %s ORDER BY plan_id", (REPORT, now)
    ).fetchall()
    return [row["plan_id"] for row in rows]


def parked_now(conn: psycopg.Connection[Any], *, now: datetime) -> int:
    """How many steps and reports are parked and waiting right now (for status and metrics)."""
    row = conn.execute(
        """
        SELECT count(*) AS n FROM parked_steps k LEFT JOIN plan_steps s ON s.plan_id = k.plan_id AND s.idx = k.idx
        WHERE k.idx = %s OR (s.status = 'running' AND s.lease_until = k.retry_at AND k.retry_at > %s)
        """,
        (REPORT, now),
    ).fetchone()
    return int(row["n"]) if row else 0
