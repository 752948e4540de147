"""Questions to people in a plan's thread, from the executor: an unknown outcome to settle, a changed tool.

Both are posted once under a key (``connectors/slack_once.post_once`` looks it up first); the changed-tool
notice through the Slack outbox (``workers/outbox.py``), the outcome question by the plan's runner (at once,
or by a ``resume_plan`` job enqueued for the channel's turn when that is later). The outcome question
of a step is recorded (``plan_steps.asked_ts``) once posted; until then the plan counts as stalled, so the
recovery pass runs it again and the question is asked (or found) then: a Slack outage or a dead worker between
the step's transition and the post does not leave a plan waiting for a question nobody sees.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackClientError

from connectors.base import ConnectorError
from connectors.slack_errors import describe_error
from connectors.slack_once import post_once
from core.plan_records import PlanRecord
from memory.db import Conn
from memory.step_settlement import mark_asked
from slackui import step_question
from workers.api import enqueue_job
from workers.job_context import WorkerContext
from workers.outbox import send_post
from workers.throttle import NotYourTurn, take_turn

log = logging.getLogger(__name__)


def ask_about_step(ctx: WorkerContext, conn: Conn, plan: PlanRecord, idx: int) -> bool:
    """Ask (once) whether step ``idx``'s interrupted call happened. Returns whether the question is up."""
    step = plan.steps[idx]
    if step.asked_ts:
        return True
    posted = _post(
        ctx, plan, key=f"step-question:{plan.id}:{idx}:{step.rerun}", message=step_question.question_message(plan, step)
    )
    if posted is None:
        return False
    mark_asked(conn, plan.id, idx, rerun=step.rerun, ts=posted)
    return True


def offer_replan(ctx: WorkerContext, plan: PlanRecord, idx: int, *, reason: str) -> None:
    """Say (once) that step ``idx`` did not run because its tool changed, with a Re-plan button."""
    message = step_question.tool_changed_message(plan, plan.steps[idx], reason=reason)
    # Nothing waits on this one's ts: it goes through the Slack outbox, at the channel's turn (workers/outbox.py).
    try:
        send_post(
            ctx,
            team_id=plan.team_id,
            channel=plan.card_channel or plan.channel_id,
            thread_ts=plan.thread_ts or plan.card_ts,
            key=f"tool-changed:{plan.id}:{idx}",
            text=message["text"],
            blocks=message["blocks"],
        )
    except Exception as err:  # queued in Postgres: the recovery pass posts it
        log.warning("could not offer a re-plan for plan %s: %s", plan.id, describe_error(err))


def _post(ctx: WorkerContext, plan: PlanRecord, *, key: str, message: dict[str, Any]) -> str | None:
    channel = plan.card_channel or plan.channel_id
    try:
        posted = post_once(
            ctx.slack,
            channel=channel,
            key=key,
            doing="asking in the plan's thread",
            thread_ts=plan.thread_ts or plan.card_ts,
            before_post=lambda: take_turn(ctx.redis, channel, holder=key, interval=ctx.post_interval),
            **message,
        )
    except NotYourTurn as turn:
        # The channel's turn is later (held under the key): the plan's runner comes back then and asks.
        if ctx.redis is not None:
            enqueue_job(ctx.redis, "resume_plan", plan.id, delay=turn.delay)
        return None
    except (ConnectorError, SlackClientError, OSError) as err:
        log.warning("could not post %s for plan %s: %s", key, plan.id, describe_error(err))
        return None
    return posted.ts
