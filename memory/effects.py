"""The effects ledger: a side effect's idempotency key is claimed before and completed after it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import psycopg


@dataclass(frozen=True)
class Effect:
    key: str
    status: str  # claimed | done | compensated
    result: dict[str, Any] | None
    #: True when this call made the claim; False when an earlier attempt had (it may have called the far side).
    fresh: bool = False


def step_key(plan_id: int, step_idx: int, rerun: int = 0) -> str:
    """The deterministic idempotency key of one plan step; ``rerun`` > 0 is a fresh attempt a person asked for
    after the step's outcome was unknown ("Run it again"), which must not find the first attempt's claim."""
    base = f"baton-plan-{plan_id}-step-{step_idx}"
    return base if rerun == 0 else f"{base}-rerun-{rerun}"


def claim(conn: psycopg.Connection[Any], *, key: str, plan_id: int, step_idx: int, action: str) -> Effect:
    """Claim ``key`` (or find the existing claim). A ``done`` effect must not be done again."""
    inserted = conn.execute(
        """
        INSERT INTO effects (key, plan_id, step_idx, action, status) VALUES (%s, %s, %s, %s, 'claimed')
        ON CONFLICT (key) DO NOTHING
        RETURNING key
        """,
        (key, plan_id, step_idx, action),
    ).fetchone()
    row = conn.execute("SELECT key, status, result FROM effects WHERE key = %s", (key,)).fetchone()
    assert row is not None
    return Effect(**row, fresh=inserted is not None)


def complete(conn: psycopg.Connection[Any], *, key: str, result: dict[str, Any]) -> None:
    conn.execute(
        "UPDATE effects SET status = 'done', result = %s, done_at = now() WHERE key = %s AND status = 'claimed'",
        (json.dumps(result, default=str), key),
    )


def mark_compensated(conn: psycopg.Connection[Any], *, key: str, result: dict[str, Any]) -> None:
    conn.execute(
        "UPDATE effects SET status = 'compensated', result = result || %s WHERE key = %s",
        (json.dumps({"compensation": result}, default=str), key),
    )


def claim_once(
    conn: psycopg.Connection[Any], *, key: str, plan_id: int, step_idx: int, action: str, result: dict[str, Any]
) -> bool:
    """Record ``key`` as done if nobody has; True only for the one caller whose INSERT created it."""
    row = conn.execute(
        """
        INSERT INTO effects (key, plan_id, step_idx, action, status, result, done_at)
        VALUES (%s, %s, %s, %s, 'done', %s, now())
        ON CONFLICT (key) DO NOTHING
        RETURNING key
        """,
        (key, plan_id, step_idx, action, json.dumps(result, default=str)),
    ).fetchone()
    return row is not None
