"""The thread buttons about one step of a running plan: It happened / Run it again / Skip, and Re-plan.

Whoever may approve the plan may press them (the same policy check as Approve, ``core.policy.may_approve``);
anyone else gets an ephemeral refusal and nothing changes. A decision is one guarded transition in Postgres
(``memory.step_settlement``), so of a double click or a replayed request one applies and the rest are told who
decided. The winner's question message and the plan card are re-rendered here, and the plan is run on by a job.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.actions import approver_groups_of
from bot.card_updates import refresh_card, tell
from bot.deps import AppDeps
from bot.payload import Body, channel_id, team_id, user_id
from core.plan_records import PlanRecord, Settlement
from core.policy import Verdict, may_approve
from memory import audit, plans
from memory.policies import load_policy
from memory.replans import replan_request
from memory.step_settlement import settle_step
from slackui import replies, step_question

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Verdict:
    plan: PlanRecord | None
    refusal: str | None


def register_step_decisions(app: AsyncApp, deps: AppDeps) -> None:
    """Register the buttons of ``slackui.step_question``."""
    for action_id, decision in step_question.DECISIONS.items():
        app.action(action_id)(_settle_listener(deps, decision))

    @app.action(step_question.REPLAN)
    async def on_replan(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        target = step_question.parse_decision_value(action.get("value"))
        if target is None:
            return
        plan_id, idx, _round = target
        verdict = await _check(deps, client, body, plan_id, verb="re-plan")
        if verdict.plan is None or verdict.refusal:
            await tell(client, channel=channel_id(body), user=user_id(body), text=verdict.refusal or "")
            return

        def work() -> tuple[int, bool] | None:
            with deps.sync_pool.connection() as conn:
                return replan_request(conn, plan_id, user_id=user_id(body))

        made = await asyncio.to_thread(work)
        if made is None:
            return
        request_id, created = made
        if not created:
            await tell(client, channel=channel_id(body), user=user_id(body), text=replies.ALREADY_REPLANNED)
            return
        await deps.enqueue("plan_request", request_id)
        step = verdict.plan.steps[idx] if idx < len(verdict.plan.steps) else None
        if step is not None:
            await _update(
                client,
                body,
                step_question.replanned_message(verdict.plan, step, reason=step.error or "", user=user_id(body)),
            )


def _settle_listener(deps: AppDeps, decision: Settlement) -> Any:
    async def on_settle(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        target = step_question.parse_decision_value(action.get("value"))
        if target is None:
            return
        plan_id, idx, rerun = target
        who = user_id(body)
        verdict = await _check(deps, client, body, plan_id, verb="decide")
        if verdict.plan is None or verdict.refusal:
            await tell(client, channel=channel_id(body), user=who, text=verdict.refusal or "")
            return

        def work() -> tuple[bool, str | None, str | None, PlanRecord | None]:
            with deps.sync_pool.connection() as conn:
                settled = settle_step(
                    conn,
                    plan_id,
                    idx,
                    rerun=rerun,
                    decision=decision,
                    user_id=who,
                    team_id=team_id(body),
                    now=deps.now(),
                )
                return settled.applied, settled.settled_as, settled.settled_by, plans.load_plan(conn, plan_id)

        applied, settled_as, settled_by, plan = await asyncio.to_thread(work)
        if not applied or plan is None:
            await tell(
                client, channel=channel_id(body), user=who, text=replies.step_already_settled(settled_as, settled_by)
            )
            return
        await deps.enqueue("resume_plan", plan_id)
        await _update(client, body, step_question.settled_message(plan, plan.steps[idx], decision=decision, user=who))
        await refresh_card(client, plan, model=deps.chat_model)

    return on_settle


async def _check(deps: AppDeps, client: AsyncWebClient, body: Body, plan_id: int, *, verb: str) -> _Verdict:
    """The plan, and why this person may not press its step buttons (None: they may)."""
    who, team = user_id(body), team_id(body)
    groups = await approver_groups_of(deps, client, plan_id=plan_id, user_id=who)

    def work() -> _Verdict:
        with deps.sync_pool.connection() as conn:
            plan = plans.load_plan(conn, plan_id)
            if plan is None:
                return _Verdict(None, replies.PLAN_NOT_FOUND)
            if plan.team_id != team:
                audit.append(
                    conn, team_id=team, kind="plan.click_refused", actor=who, reason="other workspace", plan_ref=plan_id
                )
                return _Verdict(None, replies.WRONG_WORKSPACE)
            policy = load_policy(conn, team_id=plan.team_id, channel_id=plan.channel_id)
            allowed = may_approve(
                policy, user_id=who, requester_id=plan.requester_id, risk=plan.risk_level, user_groups=groups
            )
            if verb == "re-plan" and who == plan.requester_id:
                allowed = Verdict(True)  # asking again for one's own request needs no approver
            if not allowed.allowed:
                audit.append(
                    conn,
                    team_id=team,
                    plan_id=plan_id,
                    kind="step.click_refused",
                    actor=who,
                    action=verb,
                    reason=allowed.reason,
                )
                return _Verdict(plan, replies.not_allowed_to(verb, allowed.reason))
            return _Verdict(plan, None)

    return await asyncio.to_thread(work)


async def _update(client: AsyncWebClient, body: Body, message: dict[str, Any]) -> None:
    """Replace the clicked thread message (the question) with ``message``; a failure is logged by Slack's client."""
    container = body.get("container") or {}
    channel, ts = channel_id(body), container.get("message_ts") or (body.get("message") or {}).get("ts")
    if not channel or not ts:
        return
    try:
        await client.chat_update(channel=channel, ts=str(ts), **message)
    except SlackApiError as err:  # the decision is recorded; the card and the report show it even if this lags
        log.warning("could not update the step message %s: %s", ts, err.response.get("error"))
