"""Every Slack message that shows a meeting's items, rendered from Postgres: the notes card, owner DMs,
reminders and check-ins. ``refresh_meeting`` re-renders all of them after a change (done, snooze,
approval, execution), so an item marked done anywhere shows as done everywhere."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import psycopg
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from connectors.slack_errors import describe_error
from core.meetings.stored import ItemRecord, MeetingRecord, MessageRef
from core.plan_records import PlanRecord
from memory import meeting_store, plans
from slackui import meeting_views
from workers.job_context import WorkerContext, current
from workers.outbox import send_post
from workers.slack_lookups import SlackLookups
from workers.throttle import wait_turn

log = logging.getLogger(__name__)


def owner_items(items: list[ItemRecord], owner_id: str) -> list[ItemRecord]:
    """The owner's items that have follow-ups (a task)."""
    return [item for item in items if item.owner_id == owner_id and item.task_id is not None]


def tracked_items(items: list[ItemRecord]) -> list[ItemRecord]:
    """Items with a live task (cancelled ones, e.g. after an undo, are not followed up)."""
    return [item for item in items if item.task_id is not None and item.task_status != "cancelled"]


class OwnerNoticeRenderer:
    """The ``OwnerNotice`` port of ``meeting.notify_owner``, backed by Postgres."""

    def __init__(self, connect: Callable[[], psycopg.Connection[Any]], slack: WebClient) -> None:
        self._connect = connect
        self._slack = slack

    def render(self, *, meeting_id: int, owner_id: str) -> tuple[str, list[dict[str, Any]]]:
        with self._connect() as conn:
            meeting = meeting_store.load_meeting(conn, meeting_id)
            items = meeting_store.items(conn, meeting_id)
        assert meeting is not None
        link = SlackLookups(self._slack).permalink(meeting.card_channel, meeting.card_ts)
        return meeting_views.owner_dm(meeting, owner_items(items, owner_id), link=link)

    def posted(self, *, meeting_id: int, owner_id: str, channel: str, ts: str) -> None:
        with self._connect() as conn:
            meeting_store.record_message(conn, meeting_id, channel=channel, ts=ts, kind="owner_dm", owner_id=owner_id)


def render(ctx: WorkerContext, meeting: MeetingRecord, items: list[ItemRecord], ref: MessageRef,
           plan: PlanRecord | None, *, link: str | None) -> tuple[str, list[dict[str, Any]]]:
    """The current text and blocks of one of the meeting's messages (``link``: the notes card's permalink)."""
    if ref.kind == "card":
        return (meeting_views.meeting_card_text(meeting, items),
                meeting_views.meeting_card(meeting, items, plan, now=ctx.now()))
    if ref.kind == "owner_dm":
        return meeting_views.owner_dm(meeting, owner_items(items, ref.owner_id), link=link)
    assert ref.due_on is not None
    if ref.kind == "reminder":
        due = [item for item in owner_items(items, ref.owner_id) if item.due_date == ref.due_on]
        return meeting_views.reminder(meeting, due or owner_items(items, ref.owner_id), ref.due_on, link=link)
    due = [item for item in tracked_items(items) if item.due_date is not None and item.due_date <= ref.due_on]
    return meeting_views.checkin(meeting, due, ref.due_on)


def refresh_meeting(meeting_id: int) -> str:
    """Job: re-render every message of the meeting; say once in the thread when every item is done."""
    return refresh(current(), meeting_id)


def refresh_card(ctx: WorkerContext, plan_id: int) -> None:
    """Re-render only the notes card of the meeting whose follow-up plan is ``plan_id`` (during execution)."""
    with ctx.db() as conn:
        meeting = meeting_store.meeting_for_plan(conn, plan_id)
        if meeting is None or not meeting.card_channel or not meeting.card_ts:
            return
        items = meeting_store.items(conn, meeting.id)
        plan = plans.load_plan(conn, plan_id)
    ref = MessageRef(meeting.card_channel, meeting.card_ts, "card", "", None)
    text, blocks = render(ctx, meeting, items, ref, plan, link=None)
    wait_turn(ctx.redis, ref.channel_id, interval=ctx.post_interval)
    try:
        ctx.slack.chat_update(channel=ref.channel_id, ts=ref.ts, text=text, blocks=blocks)
    except SlackApiError as err:
        log.warning("could not update the notes card of meeting %s: %s", meeting.id, err.response.get("error"))


def refresh(ctx: WorkerContext, meeting_id: int) -> str:
    """Re-render every message of the meeting; say once in the thread when every item is done."""
    with ctx.db() as conn:
        meeting = meeting_store.load_meeting(conn, meeting_id)
        if meeting is None:
            return "missing"
        items = meeting_store.items(conn, meeting_id)
        plan = plans.load_plan(conn, meeting.plan_id) if meeting.plan_id else None
        refs = meeting_store.messages(conn, meeting_id)
        tracked = tracked_items(items)
        finished = bool(tracked) and all(item.task_status == "done" for item in tracked)
        announce = finished and meeting_store.mark_all_done(conn, meeting_id, now=ctx.now())
    # One permalink look-up per refresh, not one per message.
    shows_link = any(r.kind != "card" for r in refs)
    link = SlackLookups(ctx.slack).permalink(meeting.card_channel, meeting.card_ts) if shows_link else None
    for ref in refs:
        text, blocks = render(ctx, meeting, items, ref, plan, link=link)
        wait_turn(ctx.redis, ref.channel_id, interval=ctx.post_interval)
        try:
            ctx.slack.chat_update(channel=ref.channel_id, ts=ref.ts, text=text, blocks=blocks)
        except SlackApiError as err:  # one stale message must not stop the others
            log.warning("could not update %s %s/%s: %s", ref.kind, ref.channel_id, ref.ts, err.response.get("error"))
    if announce and meeting.card_channel:
        # Through the Slack outbox: at the channel's turn, by a job when that is later, once under its key.
        try:
            send_post(ctx, team_id=meeting.team_id, channel=meeting.card_channel,
                      thread_ts=meeting.thread_ts or meeting.card_ts, key=f"meeting-done:{meeting_id}",
                      text=meeting_views.all_done(meeting, len(tracked)))
        except Exception as err:  # queued in Postgres: the recovery pass posts it
            log.warning("could not announce that meeting %s is done: %s", meeting_id, describe_error(err))
    return "refreshed"
