"""Refresh the plan card from the web process right after a decision, and tell one person something.

The card is rendered by `slackui.plan_card.card_message`, the same message the workers post and update
(`workers/cards.py`); this is only the async call of the web process, so the winner of a click sees the
decision at once.
"""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from core.plan_records import PlanRecord
from slackui import plan_card

log = logging.getLogger(__name__)


async def refresh_card(client: AsyncWebClient, plan: PlanRecord, *, model: str, plan_blocks: bool = False) -> None:
    """Re-render the card in place (decision, status). Failures are logged, never raised to Slack."""
    if not plan.card_channel or not plan.card_ts or plan.kind == "meeting":
        return  # a meeting's card is its notes card, re-rendered by bot.meeting_actions
    try:
        await client.chat_update(
            channel=plan.card_channel,
            ts=plan.card_ts,
            **plan_card.card_message(plan, model=model, plan_blocks=plan_blocks),
        )
    except SlackApiError as err:
        log.warning("could not update the card of plan %s: %s", plan.id, err.response.get("error"))


async def clear_thread_status(client: AsyncWebClient, plan: PlanRecord) -> None:
    """A plan asked for in a DM thread was decided without running (rejected, expired): an assistant thread's
    "waiting for approval" goes (an approved plan's worker clears it as it starts). Outside an assistant thread
    Slack refuses the call, which is logged and harmless."""
    if plan.channel_type != "im" or not plan.thread_ts:
        return
    try:
        await client.assistant_threads_setStatus(channel_id=plan.channel_id, thread_ts=plan.thread_ts, status="")
    except SlackApiError as err:
        log.info("could not clear the assistant status of plan %s: %s", plan.id, err.response.get("error"))


async def tell(client: AsyncWebClient, *, channel: str | None, user: str, text: str) -> None:
    """An ephemeral note to one person (only they see it)."""
    if not channel:
        return
    try:
        await client.chat_postEphemeral(channel=channel, user=user, text=text)
    except SlackApiError as err:
        log.warning("could not send an ephemeral message to %s: %s", user, err.response.get("error"))
