"""Post and update plan cards and thread replies from jobs (paced per channel, without sleeping)."""

from __future__ import annotations

import logging

from connectors.slack_errors import describe_error
from connectors.slack_once import post_once
from core.plan_records import PlanRecord
from memory import plans
from memory.db import Conn
from slackui import plan_card
from workers.job_context import WorkerContext
from workers.meetings.refresh import refresh_card
from workers.outbox import send_post
from workers.throttle import take_turn

log = logging.getLogger(__name__)


def post_card(ctx: WorkerContext, conn: Conn, plan: PlanRecord, *, maybe_posted: bool = True) -> PlanRecord:
    """Post the plan card in the request's thread, once: a plan with a card keeps it, and the card is keyed
    like an effect, so a run that died after posting it (before recording it) finds it instead of posting
    a second card. ``maybe_posted=False`` (the plan was created by this very run) skips that look-up.

    Raises :class:`workers.throttle.NotYourTurn` when the channel's turn is later: the caller posts it then
    (``workers.planning.deferred_card``)."""
    if plan.card_ts:
        return plan
    posted = post_once(
        ctx.slack,
        channel=plan.channel_id,
        key=f"plan-card:{plan.id}",
        doing="looking for the plan card",
        look_first=maybe_posted,
        thread_ts=plan.thread_ts,
        before_post=lambda: take_turn(ctx.redis, plan.channel_id, holder=f"plan-card:{plan.id}",
                                      interval=ctx.post_interval),
        **plan_card.card_message(plan, model=ctx.settings.chat_model, plan_blocks=ctx.settings.slack_plan_blocks),
    )
    channel, ts = posted.channel, posted.ts
    plans.set_card(conn, plan.id, channel=channel, ts=ts)
    if plan.thread_ts is None:
        # A /baton command has no thread: the card starts one, and reports go under it.
        plans.adopt_thread(conn, plan.id, ts)
    refreshed = plans.load_plan(conn, plan.id)
    assert refreshed is not None
    return refreshed


def update_card(ctx: WorkerContext, plan: PlanRecord) -> None:
    """Re-render the card in place; a failure to update is logged, never fatal to execution."""
    if not plan.card_channel or not plan.card_ts:
        return
    if plan.kind == "meeting":
        refresh_card(ctx, plan.id)
        return
    # No turn taken: the per-channel pace is Slack's limit on posting; chat.update is limited per workspace.
    try:
        ctx.slack.chat_update(
            channel=plan.card_channel,
            ts=plan.card_ts,
            **plan_card.card_message(plan, model=ctx.settings.chat_model, plan_blocks=ctx.settings.slack_plan_blocks),
        )
    except Exception as err:  # best effort: a card that lags behind must never stop execution
        log.warning("could not update the card of plan %s: %s", plan.id, describe_error(err))


def reply_in_thread(
    ctx: WorkerContext, *, team_id: str, channel: str, thread_ts: str | None, key: str, text: str
) -> None:
    """A plain threaded reply (refusals, notices, result lines), once under ``key``: through the Slack outbox
    (``workers.outbox``), so it is posted now when it is the channel's turn and by a job at its turn otherwise,
    never by this worker asleep. ``key`` names the reply for good (e.g. ``refusal:req-<id>``): a rerun of the
    job finds the first reply instead of making a second."""
    try:
        send_post(ctx, team_id=team_id, channel=channel, thread_ts=thread_ts, key=key, text=text)
    except Exception as err:  # the job's state is in Postgres; a queued reply is posted by the recovery pass
        log.warning("could not reply in %s: %s", channel, describe_error(err))
