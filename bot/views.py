"""Modal submissions: a rejection reason, and the reviewed subset of steps to approve."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.actions import after_decision, approver_groups_of, run_decision
from bot.deps import AppDeps
from bot.payload import team_id, user_id
from slackui import plan_card


def register_views(app: AsyncApp, deps: AppDeps) -> None:
    @app.view(plan_card.REJECT_MODAL)
    async def on_reject_submitted(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        plan_id = int(view.get("private_metadata") or 0)
        reason = (((view.get("state") or {}).get("values") or {}).get("reason") or {}).get("reason", {}).get("value")
        outcome = await run_decision(
            deps,
            plan_id=plan_id,
            team_id=team_id(body),
            user_id=user_id(body),
            event="reject",
            reason=(reason or "").strip() or None,
            user_groups=await approver_groups_of(deps, client, plan_id=plan_id, user_id=user_id(body)),
        )
        await after_decision(deps, client, outcome, user_id=user_id(body), channel=None)

    @app.view(plan_card.REVIEW_MODAL)
    async def on_review_submitted(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        values = ((view.get("state") or {}).get("values") or {}).get("steps", {}).get("steps", {})
        chosen = {int(option["value"]) for option in values.get("selected_options") or []}
        if not chosen:
            await ack(response_action="errors", errors={"steps": "Select at least one step, or reject the plan."})
            return
        await ack()
        plan_id = int(view.get("private_metadata") or 0)
        groups = await approver_groups_of(deps, client, plan_id=plan_id, user_id=user_id(body))
        outcome = await run_decision(
            deps, plan_id=plan_id, team_id=team_id(body), user_id=user_id(body), event="approve", selected_steps=chosen,
            user_groups=groups,
        )
        await after_decision(deps, client, outcome, user_id=user_id(body), channel=None)
