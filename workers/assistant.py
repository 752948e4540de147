"""Slack assistant threads from the workers' side: the greeting job and the planning status.

:func:`greet_assistant_thread` runs for a recorded ``assistant_thread_started`` (``bot.assistant`` enqueued it after
the ack): it posts the greeting once (keyed, so a re-run finds it) and sets the suggested prompts (setting them again
is harmless). :func:`show_status` is what planning calls; it never fails the job that calls it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from connectors.slack_errors import describe_error
from connectors.slack_once import post_once
from core import defaults
from core.assistant import AssistantThread, Status, read_thread_event
from core.plan_records import PlanRecord
from memory import assistant_threads, digests, plans, slack_events
from memory.db import Conn
from memory.requests import RequestRecord
from slackui import assistant_views
from workers.api import enqueue_job
from workers.digest_sender import waiting_for
from workers.job_context import WorkerContext, current

log = logging.getLogger(__name__)


def greet_assistant_thread(event_pk: int) -> str:
    """Job: greet a new assistant thread with a message and suggested prompts fitted to its person."""
    ctx = current()
    with ctx.db() as conn:
        event = slack_events.load_event(conn, event_pk)
        if event is None:
            return "missing"
        started = read_thread_event(event.payload.get("event") or {})
        thread = (
            None
            if started is None
            else assistant_threads.find_thread(
                conn, team_id=event.team_id, channel_id=started.channel_id, thread_ts=started.thread_ts
            )
        )
        if thread is None:
            slack_events.finish_event(conn, event_pk, status="ignored")
            return "missing"
        open_items = len(digests.open_tasks_of(conn, team_id=thread.team_id, owner_id=thread.user_id))
        pending = digests.pending_plans(conn, team_id=thread.team_id, channel_id=None, now=ctx.now())
        approvals = len(waiting_for(conn, thread.team_id, pending, thread.user_id))
    try:
        post_once(
            ctx.slack,
            channel=thread.channel_id,
            key=f"assistant-greeting:{thread.channel_id}:{thread.thread_ts}",
            doing="looking for the assistant greeting",
            thread_ts=thread.thread_ts,
            text=assistant_views.greeting(user_id=thread.user_id, open_items=open_items, approvals=approvals),
        )
        ctx.slack.assistant_threads_setSuggestedPrompts(
            channel_id=thread.channel_id,
            thread_ts=thread.thread_ts,
            title=assistant_views.PROMPTS_TITLE,
            prompts=assistant_views.suggested_prompts(
                open_items=open_items, approvals=approvals, context_channel_id=thread.context_channel_id
            ),
        )
    except Exception as err:
        with ctx.db() as conn:
            slack_events.finish_event(conn, event_pk, status="failed", error=describe_error(err)[:500])
        raise
    with ctx.db() as conn:
        assistant_threads.mark_greeted(conn, thread)
        slack_events.finish_event(conn, event_pk)
    return "greeted"


def thread_of(conn: Conn, record: RequestRecord) -> AssistantThread | None:
    """The assistant thread a request was made in, or None (any other DM, a channel, a command)."""
    if not record.origin.is_dm or not record.thread_ts:
        return None
    return assistant_threads.find_thread(
        conn, team_id=record.team_id, channel_id=record.channel_id, thread_ts=record.thread_ts
    )


def show_status(ctx: WorkerContext, thread: AssistantThread | None, status: Status) -> None:
    """Set (or with ``""`` clear) the thread's status line; a failure is logged, never fatal: it is decoration."""
    if thread is None:
        return
    try:
        ctx.slack.assistant_threads_setStatus(
            channel_id=thread.channel_id, thread_ts=thread.thread_ts, **assistant_views.status_call(status)
        )
    except Exception as err:
        log.info("could not set the assistant thread status to %r: %s", status, describe_error(err))


@contextmanager
def planning_status(ctx: WorkerContext, conn: Conn, record: RequestRecord) -> Iterator[None]:
    """While a request made in an assistant thread is planned, its thread says "planning…"; after, "waiting for
    approval" when its plan waits for a click, else the status is cleared."""
    thread = thread_of(conn, record)
    show_status(ctx, thread, "planning")
    try:
        yield
    finally:
        if thread is not None:
            plan_id = plans.plan_of_request(conn, record.id)
            plan = None if plan_id is None else plans.load_plan(conn, plan_id)
            show_status(ctx, thread, "waiting_for_approval" if plan is not None and plan.status == "pending" else "")


def clear_plan_status(ctx: WorkerContext, conn: Conn, plan: PlanRecord) -> None:
    """A plan was decided: its assistant thread (if it was asked in one) no longer waits for approval."""
    if plan.channel_type != "im" or not plan.thread_ts:
        return
    show_status(
        ctx,
        assistant_threads.find_thread(conn, team_id=plan.team_id, channel_id=plan.channel_id, thread_ts=plan.thread_ts),
        "",
    )


def regreet_lost(ctx: WorkerContext, conn: Conn, *, now: datetime, stamp: str) -> list[int]:
    """Recovery pass: enqueue again the greeting of each new assistant thread whose job Redis lost (recorded
    more than the grace ago, less than :data:`core.defaults.GREETING_RETRY_HORIZON_SECONDS`); returns the events."""
    assert ctx.redis is not None, "the recovery pass needs Redis to re-enqueue work"
    lost = assistant_threads.ungreeted_events(
        conn,
        older_than=now - timedelta(seconds=defaults.RECONCILE_GRACE_SECONDS),
        newer_than=now - timedelta(seconds=defaults.GREETING_RETRY_HORIZON_SECONDS),
    )
    for event_pk in lost:
        enqueue_job(ctx.redis, "greet_assistant_thread", event_pk, suffix=stamp)
    if lost:
        log.info("reconciler: greeting again the assistant threads of events %s", lost)
    return lost
