"""Meeting card and follow-up buttons: Create follow-ups, Done, Snooze; input changes are only acked
(Slack keeps their state and sends it with the button click)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.actions import approver_groups_of
from bot.approvals import ClickOutcome
from bot.card_updates import tell
from bot.deps import AppDeps
from bot.meeting_approval import ItemOutcome, approve_or_explain, mark_done, snooze
from bot.payload import channel_id, team_id, user_id
from core.meetings.stored import ItemRecord, MeetingRecord
from core.plan_records import PlanRecord
from memory import meeting_store, plans
from slackui import meeting_views

log = logging.getLogger(__name__)


def register_meeting_actions(app: AsyncApp, deps: AppDeps) -> None:
    for input_action in (meeting_views.ITEM_SELECTED, meeting_views.ITEM_OWNER, meeting_views.ITEM_DUE):

        @app.action(input_action)
        async def on_input(ack: AsyncAck) -> None:
            await ack()  # the value travels in state.values of the Create follow-ups click

    @app.action(meeting_views.CREATE_FOLLOWUPS)
    async def on_create(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        value = str(action.get("value") or "")
        if not value.isdigit():
            return
        values = ((body.get("state") or {}).get("values")) or {}

        def plan_of() -> int | None:
            with deps.sync_pool.connection() as conn:
                meeting = meeting_store.load_meeting(conn, int(value))
            return meeting.plan_id if meeting else None

        plan_id = await asyncio.to_thread(plan_of)
        groups: frozenset[str] = frozenset()
        if plan_id is not None:
            groups = await approver_groups_of(deps, client, plan_id=plan_id, user_id=user_id(body))

        def work() -> ClickOutcome:
            with deps.sync_pool.connection() as conn:
                return approve_or_explain(conn, meeting_id=int(value), team_id=team_id(body), user_id=user_id(body),
                                          values=values, now=deps.now(), user_groups=groups)

        outcome = await asyncio.to_thread(work)
        if outcome.start_execution and outcome.plan is not None:
            await deps.enqueue("execute_plan", outcome.plan.id)
        if outcome.plan is not None:
            await _render_card(deps, client, int(value))
        if outcome.message:
            await tell(client, channel=channel_id(body), user=user_id(body), text=outcome.message)

    @app.action(meeting_views.ITEM_DONE)
    async def on_done(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()

        def work() -> ItemOutcome:
            with deps.sync_pool.connection() as conn:
                value = str(action.get("value") or "")
                return mark_done(conn, value=value, team_id=team_id(body), user_id=user_id(body))

        await _after_item_change(deps, client, body, await asyncio.to_thread(work))

    @app.action(meeting_views.ITEM_SNOOZE)
    async def on_snooze(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()

        def work() -> ItemOutcome:
            with deps.sync_pool.connection() as conn:
                return snooze(conn, value=str(action.get("value") or ""), team_id=team_id(body), user_id=user_id(body),
                              now=deps.now())

        await _after_item_change(deps, client, body, await asyncio.to_thread(work))


async def _after_item_change(deps: AppDeps, client: AsyncWebClient, body: dict[str, Any], outcome: ItemOutcome) -> None:
    if outcome.changed and outcome.meeting_id is not None:
        await deps.enqueue("refresh_meeting", outcome.meeting_id)  # every message showing the item
    if outcome.message:
        await tell(client, channel=channel_id(body), user=user_id(body), text=outcome.message)


async def _render_card(deps: AppDeps, client: AsyncWebClient, meeting_id: int) -> None:
    """Show the decision on the notes card at once (execution updates it again as steps finish)."""

    def load() -> tuple[MeetingRecord | None, list[ItemRecord], PlanRecord | None]:
        with deps.sync_pool.connection() as conn:
            meeting = meeting_store.load_meeting(conn, meeting_id)
            if meeting is None:
                return None, [], None
            plan = plans.load_plan(conn, meeting.plan_id) if meeting.plan_id else None
            return meeting, meeting_store.items(conn, meeting_id), plan

    meeting, items, plan = await asyncio.to_thread(load)
    if meeting is None or not meeting.card_channel or not meeting.card_ts:
        return
    try:
        await client.chat_update(channel=meeting.card_channel, ts=meeting.card_ts,
                                 text=meeting_views.meeting_card_text(meeting, items),
                                 blocks=meeting_views.meeting_card(meeting, items, plan, now=deps.now()))
    except SlackApiError as err:
        log.warning("could not update the notes card of meeting %s: %s", meeting_id, err.response.get("error"))
