"""The one approval transition: a plan is approved or rejected here, by a person's click or by policy.

Lock the plan's row, apply the guarded UPDATE (``memory.plans.decide``), keep the winner's step selection
and audit the decision, all in one transaction. Concurrent clicks, a click racing the auto-run, a replayed
request: exactly one caller gets ``applied``, everyone else learns who won.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg

from core.plan_records import Decision
from memory import audit, plans


def decide_plan(
    conn: psycopg.Connection[Any],
    plan_id: int,
    *,
    team_id: str,
    event: str,
    user_id: str,
    now: datetime,
    reason: str | None = None,
    selected_steps: set[int] | None = None,
    auto: bool = False,
    **detail: Any,
) -> Decision:
    """Approve (``event="approve"``) or reject plan ``plan_id`` as ``user_id`` (``"policy"`` with ``auto``).

    Only the winner records its step selection (a losing "Review steps" submit must not change what the
    winner approved) and its ``plan.<status>`` audit entry, with ``detail``, ``reason`` and the selection.
    """
    with conn.transaction():
        plans.lock_plan(conn, plan_id)
        decision = plans.decide(conn, plan_id, event=event, user_id=user_id, now=now, reason=reason, auto=auto)
        if decision.applied:
            if selected_steps is not None:
                plans.select_steps(conn, plan_id, selected_steps)
            if reason:
                detail["reason"] = reason
            if selected_steps is not None:
                detail["selected_steps"] = sorted(selected_steps)
            if auto:
                detail["auto"] = True
            audit.append(conn, team_id=team_id, plan_id=plan_id, kind=f"plan.{decision.status}", actor=user_id,
                         **detail)
    return decision
