"""Send due reminders and check-ins, once each.

``dispatch_followups`` (run by the reconciler on every scheduler tick) claims due rows in Postgres and
enqueues one ``send_followup`` job per row. The job posts under the key ``followup:<id>`` carried in
message metadata and looked up before posting, so a job retried after a crash finds its message
instead of posting again; the row is marked ``sent`` after. After a check-in, items still open are
asked about again on the next working day, until every item is done.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError

from connectors.base import ConnectorError
from connectors.slack_once import post_once
from connectors.slack_targets import open_dm
from core.meetings.followup_times import checkin_at, next_checkin_day
from core.meetings.stored import ItemRecord, MeetingRecord
from memory import audit, followups, meeting_store
from memory.db import Conn
from slackui import meeting_views
from workers.api import enqueue_job
from workers.job_context import WorkerContext, current
from workers.meetings.refresh import owner_items, tracked_items
from workers.slack_lookups import SlackLookups
from workers.throttle import NotYourTurn, take_turn

log = logging.getLogger(__name__)

#: A claimed follow-up whose sender died is claimed again after this long.
LEASE = timedelta(minutes=2)
#: Attempts before a follow-up that keeps failing is given up (and logged).
MAX_ATTEMPTS = 5
#: A reminder found this late (the scheduler was down) is skipped: the due-date check-in covers the item.
REMINDER_GRACE = timedelta(hours=3)


def dispatch_followups(ctx: WorkerContext, *, now: datetime) -> list[int]:
    """Claim due follow-ups and enqueue their senders; returns the claimed ids."""
    assert ctx.redis is not None
    with ctx.db() as conn:
        claimed = followups.claim_due(conn, now=now, lease_until=now + LEASE)
    for followup_id in claimed:
        enqueue_job(ctx.redis, "send_followup", followup_id, suffix=f"-{int(now.timestamp())}")
    return claimed


def send_followup(followup_id: int) -> str:
    """Send one claimed reminder or check-in (or skip it when nothing is open any more)."""
    ctx = current()
    with ctx.db() as conn:
        row = followups.load(conn, followup_id)
        if row is None or row.status != "claimed":
            return "not-claimed"
        meeting = meeting_store.load_meeting(conn, row.meeting_id)
        assert meeting is not None
        items = meeting_store.items(conn, row.meeting_id)
        if row.kind == "reminder":
            mine = owner_items(items, row.owner_id)
            shown = [i for i in mine if i.due_date == row.due_on and i.task_status == "open"]
        else:
            shown = [i for i in tracked_items(items) if i.due_date is not None and i.due_date <= row.due_on]
        if not any(item.task_status == "open" for item in shown):
            followups.finish(conn, followup_id, status="skipped", error="nothing open")
            return "skipped"
        if row.kind == "reminder" and ctx.now() - row.run_at > REMINDER_GRACE:
            log.info("reminder %s is %s late; skipped (the check-in covers it)", followup_id, ctx.now() - row.run_at)
            followups.finish(conn, followup_id, status="skipped", error="too late to remind")
            audit.append(conn, team_id=row.team_id, kind="followup.skipped_late", followup_id=followup_id)
            return "skipped"
        try:
            channel, ts = _post(ctx, row, meeting, shown)
        except NotYourTurn as turn:
            # The channel's turn is later (held under the key): the claim is kept past it and a sender comes back
            # then, so no worker sleeps on a busy channel.
            followups.extend_lease(conn, followup_id, lease_until=ctx.now() + timedelta(seconds=turn.delay) + LEASE)
            assert ctx.redis is not None  # no Redis, no throttle: take_turn never says wait
            enqueue_job(ctx.redis, "send_followup", followup_id, suffix=f"-t{time.time_ns()}", delay=turn.delay)
            return "waiting"
        except (SlackApiError, ConnectorError) as err:
            error = str(err.response.get("error")) if isinstance(err, SlackApiError) else str(err)
            log.warning("follow-up %s could not be sent: %s", followup_id, error)
            if row.attempts >= MAX_ATTEMPTS:
                followups.finish(conn, followup_id, status="skipped", error=error)
                audit.append(conn, team_id=row.team_id, kind="followup.failed", followup_id=followup_id, error=error)
            return "failed"  # the lease runs out and the next tick claims it again
        meeting_store.record_message(conn, row.meeting_id, channel=channel, ts=ts, kind=row.kind, owner_id=row.owner_id,
                                due_on=row.due_on)
        if followups.finish(conn, followup_id, status="sent", channel_id=channel, message_ts=ts):
            audit.append(conn, team_id=row.team_id, kind=f"followup.{row.kind}_sent", followup_id=followup_id,
                         meeting_id=row.meeting_id, owner=row.owner_id or None, due_on=row.due_on.isoformat())
        if row.kind == "checkin":
            _schedule_next_checkin(ctx, conn, meeting, row.due_on)
    return "sent"


def _post(ctx: WorkerContext, row: followups.FollowupRecord, meeting: MeetingRecord,
          shown: list[ItemRecord]) -> tuple[str, str]:
    key = f"followup:{row.id}"
    if row.kind == "reminder":
        channel = open_dm(ctx.slack, row.owner_id)
        thread_ts = None
        link = SlackLookups(ctx.slack).permalink(meeting.card_channel, meeting.card_ts)
        text, blocks = meeting_views.reminder(meeting, shown, row.due_on, link=link)
    else:
        channel = meeting.card_channel or meeting.channel_id
        thread_ts = meeting.thread_ts or meeting.card_ts
        text, blocks = meeting_views.checkin(meeting, shown, row.due_on)
    posted = post_once(ctx.slack, channel=channel, key=key, doing="looking for an earlier follow-up",
                       thread_ts=thread_ts, text=text, blocks=blocks,
                       before_post=lambda: take_turn(ctx.redis, channel, holder=key, interval=ctx.post_interval))
    return posted.channel, posted.ts


def _schedule_next_checkin(ctx: WorkerContext, conn: Conn, meeting: MeetingRecord, day: Any) -> None:
    """Items still open after a check-in are asked about again on the next working day."""
    items = meeting_store.items(conn, meeting.id)
    if any(i.task_status == "open" and i.due_date is not None and i.due_date <= day for i in tracked_items(items)):
        later = next_checkin_day(day)
        followups.schedule(conn, team_id=meeting.team_id, meeting_id=meeting.id, kind="checkin", owner_id="",
                           due_on=later, run_at=checkin_at(later, meeting.tz, now=ctx.now()))
