"""Outages end in a report, not a silent Failed: parked steps and the report that is retried until posted.

A step whose connector keeps raising ``RetryableError`` (Slack 429/5xx, timeouts) past the in-job retries is
*parked* (``memory.parking``): it stays ``running``, leased until its next try after 15, 30, 60, ... (at most
300) seconds, and its plan stays ``running``. No job waits meanwhile: the recovery pass (``workers.reconcile``,
run by every worker) resumes the plan once the lease has passed, exactly as it resumes a dead worker's step,
so a retry survives a lost Redis job or a restarted worker. The step's idempotency key is unchanged, so the
retry finds an effect that did land instead of repeating it. Only when the outage outlasts
``BATON_STEP_RETRY_HORIZON`` (1 h) from the first park does the step fail, and with it the plan, which then
says so in its thread.

The plan's final report is posted under its own key (``baton-plan-<id>-report`` in message metadata, looked
up first). It is parked as step -1 before the post and unparked after it; when Slack refuses it with a
retryable error (or its runner dies) the recovery pass brings the plan back for another try once it is due,
until it is posted. A permanent refusal (the channel is gone) is logged and
not retried. A report whose channel's turn is later is parked until the turn, with a ``resume_plan`` job
enqueued for then, instead of the worker sleeping.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from slack_sdk.errors import SlackClientError

from connectors.base import ConnectorError, RetryableError
from connectors.slack_errors import slack_error
from connectors.slack_once import post_once
from core import defaults
from core.plan_records import PlanRecord
from memory import audit, parking, plans
from memory.db import Conn
from slackui import replies
from slackui.limits import MESSAGE_TEXT, clip
from workers.api import enqueue_job
from workers.job_context import WorkerContext
from workers.throttle import NotYourTurn, take_turn

log = logging.getLogger(__name__)


def park_delay(parks: int, *, retry_after: float | None = None) -> float:
    """Seconds until the next try of a step parked ``parks`` times (doubling, capped; never before Retry-After)."""
    delay: float = min(defaults.PARK_CAP_SECONDS, defaults.PARK_BASE_SECONDS * 2.0 ** (parks - 1))
    return max(delay, retry_after or 0.0)


def park_step(ctx: WorkerContext, conn: Conn, plan: PlanRecord, idx: int, error: RetryableError) -> datetime | None:
    """Park step ``idx`` of ``plan`` after ``error``; returns its next try, or None when the horizon has passed
    (the caller fails the step with :func:`failure_reason`)."""
    now = ctx.now()
    earlier = parking.load_parked(conn, plan.id, idx)
    since = earlier.since if earlier is not None else now
    end = since + timedelta(seconds=ctx.settings.step_retry_horizon_seconds)
    if now >= end:
        return None
    retry_at = min(
        now + timedelta(seconds=park_delay((earlier.parks if earlier else 0) + 1, retry_after=error.retry_after)), end
    )
    with conn.transaction():
        parked = parking.park(conn, plan.id, idx, now=now, retry_at=retry_at, reason=str(error))
        plans.extend_lease(conn, plan.id, idx, lease_until=retry_at)
        audit.append(
            conn,
            team_id=plan.team_id,
            plan_id=plan.id,
            kind="step.parked",
            step=idx,
            error=str(error),
            retry_at=retry_at.isoformat(),
            parks=parked.parks,
        )
    log.warning("step %s of plan %s parked until %s (%s)", idx, plan.id, retry_at.isoformat(), error)
    return retry_at


def failure_reason(ctx: WorkerContext, error: RetryableError) -> str:
    """What a step that gave up on an outage says it failed of."""
    return replies.gave_up_retrying(
        str(error), seconds=ctx.settings.step_retry_horizon_seconds, attempts=defaults.STEP_MAX_ATTEMPTS
    )


def report_key(plan_id: int) -> str:
    """The idempotency key the final report is posted under."""
    return f"baton-plan-{plan_id}-report"


def post_report(ctx: WorkerContext, conn: Conn, plan: PlanRecord, text: str) -> bool:
    """Post ``plan``'s final report in its thread, once; on a retryable Slack error park it for a later try.
    Returns whether it is posted (or can never be)."""
    now = ctx.now()
    channel = plan.card_channel or plan.channel_id
    try:
        post_once(
            ctx.slack,
            channel=channel,
            key=report_key(plan.id),
            doing="posting the plan's report",
            thread_ts=plan.thread_ts or plan.card_ts,
            before_post=lambda: take_turn(ctx.redis, channel, holder=report_key(plan.id), interval=ctx.post_interval),
            text=clip(text, MESSAGE_TEXT),
        )
    except NotYourTurn as turn:
        # The channel's turn is later: parked until then, and the plan's runner comes back for it (the turn is
        # held under the report's key), so no worker sleeps on a busy channel.
        retry_at = now + timedelta(seconds=turn.delay)
        parking.park(conn, plan.id, parking.REPORT, now=now, retry_at=retry_at, reason="waiting for its turn")
        if ctx.redis is not None:
            enqueue_job(ctx.redis, "resume_plan", plan.id, delay=turn.delay)
        return False
    except (ConnectorError, SlackClientError, OSError) as err:
        mapped = err if isinstance(err, ConnectorError) else slack_error(err, doing="posting the plan's report")
        if isinstance(mapped, RetryableError):
            earlier = parking.load_parked(conn, plan.id, parking.REPORT)
            retry_at = now + timedelta(
                seconds=park_delay((earlier.parks if earlier else 0) + 1, retry_after=mapped.retry_after)
            )
            parking.park(conn, plan.id, parking.REPORT, now=now, retry_at=retry_at, reason=str(mapped))
            log.warning("the report of plan %s waits until %s: %s", plan.id, retry_at.isoformat(), mapped)
            return False
        log.warning("the report of plan %s cannot be posted: %s", plan.id, mapped)
    parking.unpark_report(conn, plan.id)
    return True


def hold_report(ctx: WorkerContext, conn: Conn, plan_id: int) -> None:
    """Record that ``plan_id``'s report is about to be posted: if this runner dies before it is, the recovery pass
    finds the report due once the hold (a step lease) has passed, and the next runner posts it (or finds it)."""
    now = ctx.now()
    hold = now + timedelta(seconds=defaults.STEP_LEASE_SECONDS)
    parking.park(conn, plan_id, parking.REPORT, now=now, retry_at=hold, reason="being posted")


def take_parked_report(ctx: WorkerContext, conn: Conn, plan_id: int) -> bool:
    """True for the one runner that may retry ``plan_id``'s parked report now (the others leave it be)."""
    now = ctx.now()
    hold = now + timedelta(seconds=defaults.STEP_LEASE_SECONDS)
    return parking.take_due_report(conn, plan_id, now=now, hold_until=hold)
