"""Post a plan card at its channel's turn: the job a planner enqueues instead of sleeping on the throttle.

``plan_request`` stores the plan and tries to post its card; when the channel's next turn is later
(:class:`workers.throttle.NotYourTurn`), it enqueues :func:`post_plan_card` for that moment and is done, so
the worker moves on to other channels' requests. The recovery pass enqueues it too for a plan whose card
never appeared (``memory.plans.cardless_plans``).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from core.plan_records import PlanRecord
from memory import locks, plans, requests
from memory.db import Conn
from workers.api import enqueue_job
from workers.cards import post_card
from workers.job_context import WorkerContext, current
from workers.planning.interim import remove_leftover
from workers.throttle import NotYourTurn

log = logging.getLogger(__name__)


def post_plan_card(plan_id: int) -> str:
    """Post plan ``plan_id``'s card if it has none (waiting again if its turn has not come), then start the plan
    if it was approved on its own."""
    ctx = current()
    with ctx.db() as conn:
        posted = post_card_at_turn(ctx, conn, plan_id, maybe_posted=True)
        plan = plans.load_plan(conn, plan_id)
        if posted == "card-posted" and plan is not None:
            record = requests.load_request(conn, plan.request_id)
            if record is not None and record.status == "planning":
                # A planner that died (or failed) after storing the plan left its request "planning", and perhaps
                # its "still working" message up: the card replaces it, and the request is planned now.
                remove_leftover(ctx, record)
            requests.finish_request(conn, plan.request_id, "planned")
        return posted


def post_card_at_turn(ctx: WorkerContext, conn: Conn, plan_id: int, *, maybe_posted: bool) -> str:
    """Post the card of stored plan ``plan_id`` now if it is the channel's turn, else enqueue
    :func:`post_plan_card` for the turn. Returns ``"card-posted"``, ``"card-deferred"``, ``"skipped"`` (it has
    a card, or no plan) or ``"busy"`` (another job is posting it this moment)."""
    with locks.try_advisory_lock(conn, locks.PLAN_CARD, plan_id) as mine:
        if not mine:
            return "busy"
        plan = plans.load_plan(conn, plan_id)
        if plan is None or plan.card_ts:
            return "skipped"
        return _post_or_defer(ctx, conn, plan, maybe_posted=maybe_posted)


def _post_or_defer(ctx: WorkerContext, conn: Conn, plan: PlanRecord, *, maybe_posted: bool) -> str:
    plan_id = plan.id
    try:
        posted = post_card(ctx, conn, plan, maybe_posted=maybe_posted)
    except NotYourTurn as turn:
        assert ctx.redis is not None  # no Redis, no throttle: take_turn never says wait
        log.debug("card of plan %s waits %.2f s for its turn in %s", plan_id, turn.delay, turn.channel)
        plans.set_card_due(conn, plan_id, due_at=ctx.now() + timedelta(seconds=turn.delay))
        enqueue_job(ctx.redis, "post_plan_card", plan_id, delay=turn.delay)
        return "card-deferred"
    if posted.status == "approved":
        assert ctx.redis is not None
        enqueue_job(ctx.redis, "execute_plan", plan_id)
    return "card-posted"
