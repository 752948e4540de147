"""Plan card buttons: Approve, Reject (reason modal), Review steps (modal)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.approvals import ClickOutcome, decide_click
from bot.card_updates import clear_thread_status, refresh_card, tell
from bot.deps import AppDeps
from bot.payload import channel_id, plan_id, team_id, user_id
from core.plan_records import PlanRecord
from memory import plans
from memory.policies import load_policy
from slackui import plan_card, replies

log = logging.getLogger(__name__)


def register_actions(app: AsyncApp, deps: AppDeps) -> None:
    @app.action(plan_card.APPROVE)
    async def on_approve(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        ident = plan_id(action.get("value"))
        if ident is None:
            return
        groups = await approver_groups_of(deps, client, plan_id=ident, user_id=user_id(body))
        outcome = await run_decision(deps, plan_id=ident, team_id=team_id(body), user_id=user_id(body),
                                     event="approve", user_groups=groups)
        await after_decision(deps, client, outcome, user_id=user_id(body), channel=channel_id(body))

    @app.action(plan_card.REJECT)
    async def on_reject(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await _open_modal(deps, client, body, action, plan_card.reject_modal)

    @app.action(plan_card.REVIEW)
    async def on_review(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await _open_modal(deps, client, body, action, plan_card.review_modal)


async def approver_groups_of(deps: AppDeps, client: AsyncWebClient, *, plan_id: int, user_id: str) -> frozenset[str]:
    """The approver user groups (of the plan's channel policy) that ``user_id`` belongs to, asked of Slack
    after the ack and only when the policy names groups. A Slack error counts as no membership."""

    def groups_named() -> frozenset[str]:
        with deps.sync_pool.connection() as conn:
            plan = plans.load_plan(conn, plan_id)
            if plan is None:
                return frozenset()
            policy = load_policy(conn, team_id=plan.team_id, channel_id=plan.channel_id)
        return frozenset().union(*policy.approver_groups.values()) if policy.approver_groups else frozenset()

    member_of: set[str] = set()
    for group in sorted(await asyncio.to_thread(groups_named)):
        try:
            response = await client.usergroups_users_list(usergroup=group)
        except SlackApiError as err:
            log.warning("usergroups.users.list for %s failed: %s", group, err.response.get("error"))
            continue
        if user_id in (response.get("users") or []):
            member_of.add(group)
    return frozenset(member_of)


async def run_decision(deps: AppDeps, **kwargs: Any) -> ClickOutcome:
    """Run :func:`decide_click` on a pooled connection in a thread (it shares its SQL with the workers)."""

    def work() -> ClickOutcome:
        with deps.sync_pool.connection() as conn:
            return decide_click(conn, now=deps.now(), **kwargs)

    return await asyncio.to_thread(work)


async def after_decision(
    deps: AppDeps, client: AsyncWebClient, outcome: ClickOutcome, *, user_id: str, channel: str | None
) -> None:
    """Start execution for the winner, re-render the card, tell everyone else why nothing happened."""
    if outcome.start_execution and outcome.plan is not None:
        await deps.enqueue("execute_plan", outcome.plan.id)
    if outcome.plan is not None and (outcome.applied or outcome.plan.expires_at <= deps.now()):
        # The winner re-renders the card (and a click on an expired plan shows the expiry at once).
        plan_blocks = deps.settings is not None and deps.settings.slack_plan_blocks
        await refresh_card(client, outcome.plan, model=deps.chat_model, plan_blocks=plan_blocks)
        if not outcome.start_execution:
            await clear_thread_status(client, outcome.plan)
    if outcome.message:
        target = channel or (outcome.plan.card_channel if outcome.plan else None)
        await tell(client, channel=target, user=user_id, text=outcome.message)


async def _open_modal(
    deps: AppDeps, client: AsyncWebClient, body: dict[str, Any], action: dict[str, Any], build: Any
) -> None:
    ident = plan_id(action.get("value"))
    if ident is None:
        return

    def load() -> PlanRecord | None:
        with deps.sync_pool.connection() as conn:
            return plans.load_plan(conn, ident, team_id=team_id(body))

    plan = await asyncio.to_thread(load)
    if plan is None:
        await tell(client, channel=channel_id(body), user=user_id(body), text=replies.WRONG_WORKSPACE)
        return
    if plan.status != "pending" or plan.expires_at <= deps.now():
        status = "expired" if plan.status == "pending" else plan.status
        await tell(
            client, channel=channel_id(body), user=user_id(body), text=replies.already_decided(status, plan.decided_by)
        )
        return
    try:
        await client.views_open(trigger_id=body.get("trigger_id"), view=build(plan))
    except SlackApiError as err:
        log.warning("could not open a modal for plan %s: %s", ident, err.response.get("error"))
