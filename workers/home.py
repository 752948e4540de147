"""Publish a person's App Home tab when they open it (``app_home_opened``, recorded before the ack)."""

from __future__ import annotations

from connectors.slack_errors import describe_error
from core.digest.command import describe
from core.digest.schedule import next_occurrence
from core.meetings.followup_times import local_date
from memory import digests, slack_events
from slackui.home_view import home_view
from workers.digest_sender import linker, plan_fact, waiting_for
from workers.job_context import current
from workers.slack_lookups import SlackLookups


def publish_home(event_pk: int) -> str:
    """Job: render and publish the Home tab of the person who opened it."""
    ctx = current()
    now = ctx.now()
    with ctx.db() as conn:
        event = slack_events.load_event(conn, event_pk)
        if event is None:
            return "missing"
        if not event.user_id:
            slack_events.finish_event(conn, event_pk, status="ignored")
            return "missing"
        team, user = event.team_id, event.user_id
        tz = SlackLookups(ctx.slack).tz_name(user)
        link = linker(ctx)
        items = [(r["title"], link(r["card_channel"], r["card_ts"]), r["due_date"])
                 for r in digests.open_tasks_of(conn, team_id=team, owner_id=user)]
        pending = digests.pending_plans(conn, team_id=team, channel_id=None, now=now)
        approvals = [plan_fact(r, link) for r in waiting_for(conn, team, pending, user)]
        requested = [plan_fact(r, link) for r in pending if r["requester_id"] == user]
        settings = digests.settings_for_user(conn, team_id=team, user_id=user)
    lines = [
        (("By DM to you" if s.target == user else f"<#{s.target}>") + ": "
         + describe(s, next_at=next_occurrence(s, now) if s.enabled else None))
        for s in settings
    ]
    view = home_view(items=items, approvals=approvals, requested=requested, digests=lines,
                     today=local_date(now, tz))
    try:
        ctx.slack.views_publish(user_id=user, view=view)
    except Exception as err:
        with ctx.db() as conn:
            slack_events.finish_event(conn, event_pk, status="failed", error=describe_error(err)[:500])
        raise
    with ctx.db() as conn:
        slack_events.finish_event(conn, event_pk)
    return "published"

