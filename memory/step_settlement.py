"""A person settles a step whose outcome is unknown: the one guarded transition, with its ledger entry and audit.

An at-most-once call that was interrupted leaves its step ``outcome_unknown`` and its plan ``running``, waiting.
Whoever may approve the plan decides (``bot/step_decisions.py`` checks that):

- ``happened``: the step is ``succeeded``, its effect recorded as done (confirmed by that person);
- ``rerun``: the step is ``pending`` again under a fresh attempt key (``rerun`` + 1), so the executor calls it
  once more; the first attempt's claim stays in the ledger;
- ``skipped``: the step is ``skipped``; steps that depend on it are skipped too when the plan continues.

The UPDATE guards on ``status = 'outcome_unknown' AND rerun = <the round the button was for>`` under the plan's
row lock, so of a double click, a replayed request or two people clicking, exactly one decision applies.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from core.plan_records import Settlement
from core.states import step_transition
from memory import audit, effects

_EVENTS: dict[str, str] = {"happened": "confirm", "rerun": "rerun", "skipped": "skip"}


@dataclass(frozen=True)
class Settled:
    """Whether this decision applied; if not, the decision that did (and who made it), or None."""

    applied: bool
    settled_as: str | None
    settled_by: str | None


def settle_step(
    conn: psycopg.Connection[Any],
    plan_id: int,
    idx: int,
    *,
    rerun: int,
    decision: Settlement,
    user_id: str,
    team_id: str,
    now: datetime,
) -> Settled:
    """Apply ``decision`` to step ``idx`` of ``plan_id`` if it is still unknown in round ``rerun``."""
    to = step_transition("outcome_unknown", _EVENTS[decision])
    with conn.transaction():
        conn.execute("SELECT id FROM plans WHERE id = %s FOR UPDATE", (plan_id,))
        row = conn.execute(
            """
            UPDATE plan_steps SET status = %(to)s, settled_by = %(user)s, settled_as = %(decision)s,
                   rerun = rerun + %(bump)s, asked_ts = CASE WHEN %(bump)s = 1 THEN NULL ELSE asked_ts END,
                   result = CASE WHEN %(decision)s = 'happened' THEN %(result)s::jsonb ELSE result END,
                   lease_until = NULL, updated_at = %(now)s
            WHERE plan_id = %(plan)s AND idx = %(idx)s AND status = 'outcome_unknown' AND rerun = %(rerun)s
            RETURNING action
            """,
            {
                "to": to,
                "user": user_id,
                "decision": decision,
                "bump": 1 if decision == "rerun" else 0,
                "result": json.dumps({"confirmed_by": user_id}),
                "now": now,
                "plan": plan_id,
                "idx": idx,
                "rerun": rerun,
            },
        ).fetchone()
        if row is None:
            current = conn.execute(
                "SELECT settled_as, settled_by FROM plan_steps WHERE plan_id = %s AND idx = %s", (plan_id, idx)
            ).fetchone()
            if current is None:
                return Settled(False, None, None)
            return Settled(False, current["settled_as"], current["settled_by"])
        if decision == "happened":
            # The attempt's claim becomes a done effect: nothing may run the step under that key again.
            effects.complete(conn, key=effects.step_key(plan_id, idx, rerun), result={"confirmed_by": user_id})
        audit.append(
            conn,
            team_id=team_id,
            plan_id=plan_id,
            kind=f"step.settled_{decision}",
            actor=user_id,
            step=idx,
            action=row["action"],
            attempt_key=effects.step_key(plan_id, idx, rerun),
        )
        # The plan's updated_at moves, so the recovery pass treats it as fresh progress, not a stall.
        conn.execute("UPDATE plans SET updated_at = %s WHERE id = %s", (now, plan_id))
    return Settled(True, decision, user_id)


def mark_asked(conn: psycopg.Connection[Any], plan_id: int, idx: int, *, rerun: int, ts: str) -> None:
    """Record the thread message asking a person to settle step ``idx`` (round ``rerun``)."""
    conn.execute(
        "UPDATE plan_steps SET asked_ts = %s WHERE plan_id = %s AND idx = %s AND rerun = %s "
        "AND status = 'outcome_unknown'",
        (ts, plan_id, idx, rerun),
    )


def unsettled_steps(conn: psycopg.Connection[Any], *, team_id: str) -> int:
    """Steps of ``team_id``'s running plans whose outcome is unknown, waiting for a person."""
    row = conn.execute(
        "SELECT count(*) AS n FROM plan_steps s JOIN plans p ON p.id = s.plan_id "
        "WHERE p.team_id = %s AND p.status = 'running' AND s.status = 'outcome_unknown'",
        (team_id,),
    ).fetchone()
    return int(row["n"]) if row else 0
