"""What meeting card clicks do (sync, run in a thread): approve follow-ups with the card's edits, mark an
item done, snooze it. Approval goes through the same policy check and guarded decision as any plan."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import psycopg

from bot.approvals import ClickOutcome, decide_click
from core.meetings.followup_times import checkin_at, local_date, snoozed_due
from core.meetings.stored import ItemEdit, ItemRecord, MeetingRecord
from core.policy import may_approve
from memory import audit, followups, meeting_store, plans, tasks
from memory.policies import load_policy
from slackui import replies
from slackui.meeting_views import ITEM_BLOCK_PREFIX, ITEM_DUE, ITEM_OWNER, ITEM_SELECTED, MAX_CARD_ITEMS
from workers.api import followup_plan, preview_registry


@dataclass(frozen=True)
class ItemOutcome:
    """What a Done / Snooze click did: whether anything changed, and what to tell the clicker."""

    meeting_id: int | None
    changed: bool
    message: str | None


def edits_from_state(values: dict[str, Any], items: list[ItemRecord]) -> list[ItemEdit]:
    """The card's owners, due dates and ticks as the clicker left them (untouched inputs keep their values)."""
    edits = []
    for item in items[:MAX_CARD_ITEMS]:
        block = values.get(f"{ITEM_BLOCK_PREFIX}{item.idx}") or {}
        selected, owner, due = item.selected, item.owner_id, item.due_date
        if ITEM_SELECTED in block:
            selected = bool(block[ITEM_SELECTED].get("selected_options"))
        if ITEM_OWNER in block:
            owner = block[ITEM_OWNER].get("selected_user") or None
        if ITEM_DUE in block:
            due = _date(block[ITEM_DUE].get("selected_date"))
        edits.append(ItemEdit(idx=item.idx, owner_id=owner, due_date=due, selected=selected))
    return edits


def _date(text: Any) -> date | None:
    try:
        return date.fromisoformat(str(text)) if text else None
    except ValueError:
        return None


def approve_followups(conn: psycopg.Connection[Any], *, meeting_id: int, team_id: str, user_id: str,
                      values: dict[str, Any], now: datetime,
                      user_groups: frozenset[str] = frozenset()) -> ClickOutcome:
    """**Create follow-ups**: check the clicker may approve the plan the edits make, then, under the plan's
    row lock, store the edits, rebuild the steps and decide. Exactly one click wins."""
    meeting = meeting_store.load_meeting(conn, meeting_id)
    if meeting is None or meeting.team_id != team_id or meeting.plan_id is None:
        return ClickOutcome(False, replies.WRONG_WORKSPACE if meeting else replies.PLAN_NOT_FOUND, None)
    plan = plans.load_plan(conn, meeting.plan_id)
    assert plan is not None
    if plan.status != "pending" or plan.expires_at <= now:
        return decide_click(conn, plan_id=plan.id, team_id=team_id, user_id=user_id, event="approve", now=now)
    items = meeting_store.items(conn, meeting_id)
    edits = edits_from_state(values, items)
    if not any(edit.selected for edit in edits):
        return ClickOutcome(False, replies.NO_ITEMS_SELECTED, plan)
    edited = _with_edits(items, edits)
    reviewed = followup_plan(None, meeting, edited, origin=plan.origin, registry=preview_registry())
    policy = load_policy(conn, team_id=team_id, channel_id=plan.channel_id)
    verdict = may_approve(policy, user_id=user_id, requester_id=plan.requester_id, risk=reviewed.risk,
                          user_groups=user_groups)
    if not verdict.allowed:
        audit.append(conn, team_id=team_id, plan_id=plan.id, kind="plan.click_refused", actor=user_id,
                     action="approve", reason=verdict.reason)
        return ClickOutcome(False, replies.not_allowed(verdict.reason), plan)
    with conn.transaction():
        plans.lock_plan(conn, plan.id)
        current = plans.load_plan(conn, plan.id)
        if current is not None and current.status == "pending":
            meeting_store.apply_edits(conn, meeting_id, edits)
            plans.replace_steps(conn, plan.id, reviewed)
        outcome = decide_click(conn, plan_id=plan.id, team_id=team_id, user_id=user_id, event="approve", now=now,
                               user_groups=user_groups)
        if not outcome.applied:
            raise _Lost(outcome)  # roll the edits back: someone else decided first
    return outcome


class _Lost(Exception):
    def __init__(self, outcome: ClickOutcome) -> None:
        super().__init__("lost")
        self.outcome = outcome


def approve_or_explain(conn: psycopg.Connection[Any], **kwargs: Any) -> ClickOutcome:
    """:func:`approve_followups`, with a lost race turned into its explanation."""
    try:
        return approve_followups(conn, **kwargs)
    except _Lost as lost:
        return lost.outcome


def _with_edits(items: list[ItemRecord], edits: list[ItemEdit]) -> list[ItemRecord]:
    from dataclasses import replace

    by_idx = {edit.idx: edit for edit in edits}
    return [
        replace(item, owner_id=by_idx[item.idx].owner_id, due_date=by_idx[item.idx].due_date,
                selected=by_idx[item.idx].selected) if item.idx in by_idx else replace(item, selected=False)
        for item in items
    ]


def _may_change(conn: psycopg.Connection[Any], meeting: MeetingRecord, item: ItemRecord, user_id: str) -> bool:
    if user_id in (item.owner_id, meeting.uploader_id):
        return True
    plan = plans.load_plan(conn, meeting.plan_id) if meeting.plan_id else None
    if plan is not None and plan.decided_by == user_id:
        return True
    return user_id in load_policy(conn, team_id=meeting.team_id, channel_id=meeting.channel_id).admins


def _item(conn: psycopg.Connection[Any], value: str, team_id: str) -> tuple[MeetingRecord, ItemRecord] | None:
    meeting_text, _, idx_text = value.partition(":")
    if not (meeting_text.isdigit() and idx_text.isdigit()):
        return None
    meeting = meeting_store.load_meeting(conn, int(meeting_text))
    if meeting is None or meeting.team_id != team_id:
        return None
    found = [item for item in meeting_store.items(conn, meeting.id) if item.idx == int(idx_text)]
    return (meeting, found[0]) if found else None


def mark_done(conn: psycopg.Connection[Any], *, value: str, team_id: str, user_id: str) -> ItemOutcome:
    """**Done** on any message showing the item: its task becomes done (once)."""
    found = _item(conn, value, team_id)
    if found is None:
        return ItemOutcome(None, False, replies.PLAN_NOT_FOUND)
    meeting, item = found
    if item.task_id is None:
        return ItemOutcome(meeting.id, False, replies.FOLLOWUPS_NOT_READY)
    if not _may_change(conn, meeting, item, user_id):
        audit.append(conn, team_id=team_id, kind="task.click_refused", actor=user_id, task_id=item.task_id)
        return ItemOutcome(meeting.id, False, replies.owner_only("mark"))
    if not tasks.mark_done(conn, item.task_id):
        return ItemOutcome(meeting.id, False, replies.ITEM_ALREADY_DONE if item.task_status == "done"
                           else replies.ITEM_NOT_OPEN)
    audit.append(conn, team_id=team_id, kind="task.done", actor=user_id, task_id=item.task_id,
                 meeting_id=meeting.id, item=item.idx)
    return ItemOutcome(meeting.id, True, None)


def snooze(conn: psycopg.Connection[Any], *, value: str, team_id: str, user_id: str, now: datetime) -> ItemOutcome:
    """**Snooze**: the item is due on the next working day, with a check-in then."""
    found = _item(conn, value, team_id)
    if found is None:
        return ItemOutcome(None, False, replies.PLAN_NOT_FOUND)
    meeting, item = found
    if item.task_id is None or item.task_status != "open":
        return ItemOutcome(meeting.id, False, replies.ITEM_NOT_OPEN)
    if not _may_change(conn, meeting, item, user_id):
        audit.append(conn, team_id=team_id, kind="task.click_refused", actor=user_id, task_id=item.task_id)
        return ItemOutcome(meeting.id, False, replies.owner_only("snooze"))
    due = snoozed_due(max(local_date(now, meeting.tz), item.due_date or local_date(now, meeting.tz)))
    with conn.transaction():
        meeting_store.move_due(conn, meeting.id, item.idx, due)
        followups.schedule(conn, team_id=team_id, meeting_id=meeting.id, kind="checkin", owner_id="", due_on=due,
                           run_at=checkin_at(due, meeting.tz, now=now))
        audit.append(conn, team_id=team_id, kind="task.snoozed", actor=user_id, task_id=item.task_id,
                     meeting_id=meeting.id, item=item.idx, due=due.isoformat())
    return ItemOutcome(meeting.id, True, replies.snoozed(item.task, due.isoformat()))
