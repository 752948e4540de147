"""Apply an approval or rejection click: verify, then one guarded transition. Sync (run in a thread)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from core.plan_records import PlanRecord
from core.policy import Verdict, may_approve
from memory import audit, plans
from memory.decisions import decide_plan
from memory.policies import load_policy
from slackui import replies


@dataclass(frozen=True)
class ClickOutcome:
    """What happened, what to tell the clicker (ephemeral, if anything), and the plan to re-render."""

    applied: bool
    message: str | None
    plan: PlanRecord | None
    start_execution: bool = False


def decide_click(
    conn: psycopg.Connection[Any],
    *,
    plan_id: int,
    team_id: str,
    user_id: str,
    event: str,
    now: datetime,
    reason: str | None = None,
    selected_steps: set[int] | None = None,
    user_groups: frozenset[str] = frozenset(),
) -> ClickOutcome:
    """Approve (``event="approve"``) or reject a plan on behalf of ``user_id``.

    Checks, in order: the plan exists in this workspace; the user may decide at the plan's risk;
    then a single guarded UPDATE (pending and not expired) decides the race between concurrent
    clicks. Only the winner gets ``applied=True``; everyone else learns who won.
    """
    plan = plans.load_plan(conn, plan_id)
    if plan is None:
        return ClickOutcome(False, replies.PLAN_NOT_FOUND, None)
    if plan.team_id != team_id:
        audit.append(
            conn, team_id=team_id, kind="plan.click_refused", actor=user_id, reason="other workspace", plan_ref=plan_id
        )
        return ClickOutcome(False, replies.WRONG_WORKSPACE, None)
    if plan.status != "pending" or plan.expires_at <= now:
        return ClickOutcome(False, replies.already_decided(_shown_status(plan, now), plan.decided_by), plan)
    policy = load_policy(conn, team_id=plan.team_id, channel_id=plan.channel_id)
    verdict = (
        Verdict(True)
        if event == "reject" and user_id == plan.requester_id
        else may_approve(
            policy, user_id=user_id, requester_id=plan.requester_id, risk=plan.risk_level, user_groups=user_groups
        )
    )
    if not verdict.allowed:
        audit.append(
            conn,
            team_id=team_id,
            plan_id=plan_id,
            kind="plan.click_refused",
            actor=user_id,
            action=event,
            reason=verdict.reason,
        )
        return ClickOutcome(False, replies.not_allowed(verdict.reason), plan)
    if selected_steps is not None and not selected_steps:
        return ClickOutcome(False, replies.NO_STEPS_SELECTED, plan)
    # The plan to re-render is read in the decision's transaction: if the database goes away before the commit,
    # nothing was decided and the clicker is told so (bot/outage.py); the card never shows an uncommitted decision.
    with conn.transaction():
        decision = decide_plan(conn, plan_id, team_id=team_id, event=event, user_id=user_id, now=now, reason=reason,
                               selected_steps=selected_steps, risk=plan.risk)
        refreshed = plans.load_plan(conn, plan_id)
    if not decision.applied:
        return ClickOutcome(False, replies.already_decided(decision.status, decision.decided_by), refreshed)
    return ClickOutcome(True, None, refreshed, start_execution=decision.status == "approved")


def _shown_status(plan: PlanRecord, now: datetime) -> str:
    if plan.status == "pending" and plan.expires_at <= now:
        return "expired"
    return plan.status
