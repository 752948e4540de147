"""Send one digest run: load the facts, select in ``core.digest.select``, let the model write only the intro,
post once (keyed), and record it.

A run is claimed before this job exists (by the scheduler for a (target, local date), or by
``/baton digest now`` for one command), so the job only has to make its own retries safe: the post
carries ``digest:<run id>`` in its metadata and is looked up first.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError

from connectors.base import ConnectorError
from connectors.slack_once import post_once
from connectors.slack_targets import open_dm
from core.digest.facts import DigestFacts, DigestSetting, ItemFact, MeetingFact, MemoryFact, PlanFact
from core.digest.select import Digest, facts_json, select, template_intro
from core.meetings.followup_times import local_date, zone
from core.types import Risk
from memory import audit, digests
from memory.db import Conn
from memory.policies import load_policy
from prompts import render
from slackui.admin_views import Linker, archive_linker
from slackui.digest_views import digest_message
from slackui.model_text import for_people
from workers.job_context import WorkerContext, current
from workers.llm.client import BudgetExceeded, LLMUnavailable, why_without_model
from workers.llm.deadline import Deadline
from workers.llm.factory import CallScope, llm_client
from workers.throttle import wait_turn

log = logging.getLogger(__name__)

#: A sender that dies is replaced after this long (the scheduler re-enqueues expired claims).
LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 5
#: Slack errors that mean the digest can never be posted there: the setting is switched off.
GONE = frozenset({"is_archived", "channel_not_found", "not_in_channel", "account_inactive", "user_not_found"})
#: The first digest of a setting covers the day before it.
FIRST_WINDOW = timedelta(days=1)
MORE_HINT = "see Baton's Home tab"
INTRO_SCHEMA = {
    "type": "object",
    "properties": {"intro": {"type": "string", "maxLength": 600}},
    "required": ["intro"],
    "additionalProperties": False,
}


def send_digest(run_id: int) -> str:
    """Job: send digest run ``run_id`` (or record why not)."""
    ctx = current()
    now = ctx.now()
    with ctx.db() as conn:
        run = digests.load_run(conn, run_id)
        if run is None or run.status != "claimed":
            return "not-claimed"
        if not digests.start_attempt(conn, run_id, now=now, lease_until=now + LEASE):
            return "busy"
        setting = digests.load_setting(conn, team_id=run.team_id, target=run.target)
        if setting is None or (run.trigger == "scheduled" and not setting.enabled):
            digests.finish_run(conn, run_id, status="skipped", error="digest switched off")
            return "skipped"
        since = setting.last_sent_at or now - FIRST_WINDOW
        digest = select(load_facts(ctx, conn, setting, since=since, until=now))
        if digest.is_empty and ctx.settings.digest_skip_empty and run.trigger == "scheduled":
            digests.finish_run(conn, run_id, status="empty", since=since)
            digests.mark_sent(conn, team_id=run.team_id, target=run.target, at=now)
            audit.append(conn, team_id=run.team_id, kind="digest.empty", target=run.target, run_id=run_id)
            return "empty"
        intro, by_model = _intro(ctx, digest, setting, since=since, until=now, run_id=run_id)
        title = _title(setting, now)
        text, blocks = digest_message(digest, title=title, intro=intro, intro_by_model=by_model, more_hint=MORE_HINT)
        try:
            channel, ts = _post(ctx, setting, run_id, text, blocks)
        except (SlackApiError, ConnectorError) as err:
            return _failed(conn, run, setting, err)
        digests.finish_run(conn, run_id, status="sent", since=since, channel_id=channel, message_ts=ts,
                           detail={"intro_by_model": by_model, "empty": digest.is_empty})
        digests.mark_sent(conn, team_id=run.team_id, target=run.target, at=now)
        audit.append(conn, team_id=run.team_id, kind="digest.sent", target=run.target, run_id=run_id,
                     trigger=run.trigger, local_date=run.local_date.isoformat(), channel=channel, ts=ts)
    return "sent"


def _title(setting: DigestSetting, now: datetime) -> str:
    day = now.astimezone(zone(setting.tz))
    who = "Your digest" if setting.kind == "personal" else "Daily digest"
    return f"{who} · {day:%a %d %b %Y}"


def _post(ctx: WorkerContext, setting: DigestSetting, run_id: int, text: str,
          blocks: list[dict[str, Any]]) -> tuple[str, str]:
    channel = open_dm(ctx.slack, setting.target) if setting.kind == "personal" else setting.target
    posted = post_once(ctx.slack, channel=channel, key=f"digest:{run_id}", doing="looking for this digest",
                       before_post=lambda: wait_turn(ctx.redis, channel, interval=ctx.post_interval),
                       text=text, blocks=blocks, unfurl_links=False, unfurl_media=False)
    return posted.channel, posted.ts


def _failed(conn: Conn, run: digests.RunRecord, setting: DigestSetting, err: Exception) -> str:
    code = str(err.response.get("error")) if isinstance(err, SlackApiError) else str(err)
    if any(gone in code for gone in GONE):
        digests.disable(conn, team_id=run.team_id, target=run.target, reason=f"Slack said {code}")
        digests.finish_run(conn, run.id, status="skipped", error=code)
        audit.append(conn, team_id=run.team_id, kind="digest.disabled", target=run.target, reason=code)
        log.warning("digest for %s switched off: Slack said %s (archived or no longer reachable)", run.target, code)
        return "disabled"
    log.warning("digest run %s for %s failed (attempt %s): %s", run.id, run.target, run.attempts + 1, code)
    if run.attempts + 1 >= MAX_ATTEMPTS:
        digests.finish_run(conn, run.id, status="failed", error=code)
        audit.append(conn, team_id=run.team_id, kind="digest.failed", target=run.target, error=code)
        return "failed"
    return "retry"  # the claim's lease runs out and the scheduler enqueues it again


def _intro(ctx: WorkerContext, digest: Digest, setting: DigestSetting, *, since: datetime,
           until: datetime, run_id: int | None = None) -> tuple[str, bool]:
    """The cheap model's introduction from the facts, or the template's when no model can write it (none
    configured, failing, or stopped by a budget: the digest then says the template wrote it).

    The call is attributed to digest run ``run_id`` (its per-request budget scope) and to the channel, or
    for a personal digest to the person.
    """
    if not ctx.settings.llm_configured or digest.is_empty:
        return template_intro(digest), False

    personal = setting.kind == "personal"
    scope = CallScope(team_id=setting.team_id, channel_id=None if personal else setting.target,
                      user_id=setting.target if personal else None, digest_run_id=run_id)
    llm = llm_client(ctx, scope, model=ctx.settings.cheap_model,
                     deadline=Deadline(ctx.settings.digest_deadline_seconds))
    if llm is None:
        return template_intro(digest), False
    prompt = render("digest_intro.j2", kind=setting.kind, target=setting.target, facts=facts_json(digest),
                    since=since.isoformat(timespec="minutes"), until=until.isoformat(timespec="minutes"))
    try:
        reply = llm.complete_json(purpose="digest", prompt=prompt, schema_name="digest_intro", schema=INTRO_SCHEMA,
                                  team_id=setting.team_id)
    except LLMUnavailable as err:
        # A configuration error (the server rejects what Baton sends) needs an operator, as a budget does.
        level = logging.WARNING if isinstance(err, BudgetExceeded) or err.config_error else logging.INFO
        log.log(level, "digest intro for %s from the template: %s", setting.target,
                why_without_model(err, model=llm.model))
        return template_intro(digest), False
    intro = (reply.data or {}).get("intro") if reply.data else None
    if not isinstance(intro, str) or not intro.strip():
        return template_intro(digest), False
    return for_people(intro, limit=600), True


# -- facts ------------------------------------------------------------------------------------------------


def load_facts(ctx: WorkerContext, conn: Conn, setting: DigestSetting, *, since: datetime,
               until: datetime) -> DigestFacts:
    """Everything the digest of ``setting`` may report, from Postgres, with links to the messages."""
    link = linker(ctx)
    today = local_date(until, setting.tz)
    team = setting.team_id

    def plan(row: dict[str, Any]) -> PlanFact:
        return plan_fact(row, link)

    def item(row: dict[str, Any]) -> ItemFact:
        return item_fact(row, link)

    if setting.kind == "personal":
        user = setting.target
        rows = digests.pending_plans(conn, team_id=team, channel_id=None, now=until)
        pending = [plan(r) for r in waiting_for(conn, team, rows, user)]
        return DigestFacts(
            kind="personal", target=user, since=since, until=until, as_of=today, pending=tuple(pending),
            items=tuple(item(r) for r in digests.due_tasks(conn, team_id=team, today=today, owner_id=user)),
            requested=tuple(plan(r) for r in digests.requested_plans(conn, team_id=team, user_id=user, since=since,
                                                                     until=until)),
        )
    channel = setting.target
    cost, calls = digests.llm_cost(conn, team_id=team, channel_id=channel, since=since, until=until)
    return DigestFacts(
        kind="channel", target=channel, since=since, until=until, as_of=today,
        pending=tuple(plan(r) for r in digests.pending_plans(conn, team_id=team, channel_id=channel, now=until)),
        finished=tuple(plan(r) for r in digests.finished_plans(conn, team_id=team, channel_id=channel, since=since,
                                                               until=until)),
        items=tuple(item(r) for r in digests.due_tasks(conn, team_id=team, today=today, channel_id=channel)),
        meetings=tuple(
            MeetingFact(id=r["id"], title=r["title"], link=link(r["card_channel"], r["card_ts"]),
                        action_items=int(r["action_items"]), decisions=int(r["decisions"]), at=r["at"])
            for r in digests.meetings_posted(conn, team_id=team, channel_id=channel, since=since, until=until)
        ),
        memories=tuple(
            MemoryFact(id=r["id"], text=r["text"], kind=r["kind"], link=r["link"], at=r["at"])
            for r in digests.new_memories(conn, team_id=team, channel_id=channel, since=since, until=until)
        ),
        cost_usd=cost, llm_calls=calls,
    )


def plan_fact(row: dict[str, Any], link: Linker) -> PlanFact:
    """A plan row (``memory.digests``) as a digest fact, linked to its card."""
    return PlanFact(id=row["id"], title=row["title"], status=row["status"], channel_id=row["channel_id"],
                    requester_id=row["requester_id"], link=link(row["card_channel"], row["card_ts"]),
                    at=row["at"], risk=row["risk"], decided_by=row["decided_by"])


def item_fact(row: dict[str, Any], link: Linker) -> ItemFact:
    """A task row as a digest fact, linked to its meeting's notes when it came from one."""
    return ItemFact(task_id=row["task_id"], title=row["title"], owner_id=row["owner_id"], due_date=row["due_date"],
                    link=link(row["card_channel"], row["card_ts"]))


def waiting_for(conn: Conn, team_id: str, plan_rows: list[dict[str, Any]], user_id: str) -> list[dict[str, Any]]:
    """The pending plans that wait for a person: the channel's policy names them as an approver at the plan's
    risk (their own plans are listed under "you asked for"). Each channel's policy is loaded once."""
    policies: dict[str, Any] = {}
    waiting = []
    for row in plan_rows:
        if row["requester_id"] == user_id:
            continue
        channel = row["channel_id"]
        if channel not in policies:
            policies[channel] = load_policy(conn, team_id=team_id, channel_id=channel)
        if user_id in policies[channel].approvers.get(Risk(row["risk"]), frozenset()):
            waiting.append(row)
    return waiting


def linker(ctx: WorkerContext) -> Linker:
    """Message links built from the workspace URL (one ``auth.test`` per digest, not one call per link)."""
    try:
        base = str(ctx.slack.auth_test().get("url") or "")
    except SlackApiError:
        base = ""
    return archive_linker(base)
