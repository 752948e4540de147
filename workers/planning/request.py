"""Turn a recorded request into a plan card (or an honest answer why not)."""

from __future__ import annotations

import logging
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk.errors import SlackApiError

from core import defaults
from core.planning.prompt_context import PlanningContext, ThreadMessage, budget_thread
from core.policy import channel_allowed, runs_without_approval
from core.redaction import DEFAULT_REDACTOR
from memory import audit, plans, requests
from memory.policies import load_policy
from memory.slack_messages import thread_messages
from slackui import replies
from workers.api import enqueue_job
from workers.cards import post_card, reply_in_thread
from workers.connector_wiring import registry_for
from workers.job_context import WorkerContext, current
from workers.memories import flows
from workers.memories.support import provider, recall_for_request, snippets

log = logging.getLogger(__name__)

#: Messages longer than this are read only up to it (Slack's own limit is 40,000 characters).
REQUEST_CHAR_LIMIT = 40_000


def plan_request(request_id: int) -> str:
    """Plan request ``request_id`` once: claim it, plan it, post the card (or a refusal)."""
    ctx = current()
    with ctx.db() as conn:
        record = requests.load_request(conn, request_id)
        if record is None:
            return "missing"
        if not requests.claim_for_planning(conn, request_id):
            return _resume_card(ctx, conn, request_id)
        origin = record.origin
        policy = load_policy(conn, team_id=record.team_id, channel_id=record.channel_id)
        if not channel_allowed(policy, record.channel_id, is_dm=origin.is_dm):
            return _refuse(ctx, conn, record, replies.CHANNEL_NOT_ENABLED, status="refused")
        from workers.meetings.summarize import is_meeting_request, summarize_meeting

        if is_meeting_request(record):
            return summarize_meeting(ctx, conn, record)
        text = record.text.strip()
        if not text:
            return _refuse(ctx, conn, record, replies.EMPTY_REQUEST, status="refused")
        notes: list[str] = []
        if len(text) > REQUEST_CHAR_LIMIT:
            text = text[:REQUEST_CHAR_LIMIT]
            notes.append(replies.REQUEST_CLIPPED.format(limit=REQUEST_CHAR_LIMIT))

        registry = registry_for(ctx)
        refused = flows.refuse_oversized_fact(ctx, record, text)
        if refused is not None:
            requests.finish_request(conn, request_id, refused)
            audit.append(
                conn, team_id=record.team_id, request_id=request_id, kind="request.refused", reason="fact too long"
            )
            return refused
        handled = flows.handle_forget(ctx, conn, record, text)
        if handled is not None:
            requests.finish_request(conn, request_id, handled)
            audit.append(conn, team_id=record.team_id, request_id=request_id, kind="memory.forget_offered")
            return handled
        from workers.planning.make import PlanOutcome, make_plan, review_draft  # pulls in the LLM client

        correction = flows.correction_draft(ctx, conn, record, text)
        if correction is not None:
            reviewed = review_draft(correction, registry=registry, origin=origin)
            outcome = (
                PlanOutcome(plan=reviewed, degraded=False)
                if not isinstance(reviewed, list)
                else PlanOutcome(refusal=replies.planning_failed("; ".join(reviewed[:3])))
            )
        else:
            context = _planning_context(ctx, conn, record, registry.catalogue(), text)
            outcome = make_plan(
                request_text=DEFAULT_REDACTOR.redact(text).text,
                context=context,
                origin=origin,
                registry=registry,
                llm=llm_for(ctx, record),
                now=ctx.now(),
                tz=user_tz(ctx, record.user_id),
                request_id=record.id,
            )
            if outcome.refusal is not None and (outcome.degraded or not ctx.settings.llm_configured):
                # Without the model, a question can still be answered from memory.
                answered = flows.answer_question(ctx, conn, record, text)
                if answered is not None:
                    requests.finish_request(conn, request_id, answered)
                    return answered
        if outcome.refusal is not None:
            return _refuse(ctx, conn, record, outcome.refusal, status="refused")
        plan = outcome.plan
        assert plan is not None
        usage = outcome.llm_usage
        plan_id, created = plans.insert_plan(
            conn,
            request_id=request_id,
            origin=origin,
            plan=plan,
            expires_at=ctx.now() + policy.expiry,
            tokens_in=usage.input_tokens if usage else 0,
            tokens_out=usage.output_tokens if usage else 0,
            cost_usd=usage.cost_usd if usage else 0,  # type: ignore[arg-type]
        )
        if created:
            audit.append(
                conn,
                team_id=record.team_id,
                request_id=request_id,
                plan_id=plan_id,
                kind="plan.proposed",
                planner=plan.planner,
                risk=plan.risk.value,
                steps=[s.action for s in plan.steps],
                degraded=outcome.degraded,
                notes=list(outcome.notes) + notes,
            )
            if runs_without_approval(policy, plan.steps):
                decision = plans.decide(conn, plan_id, event="approve", user_id="policy", now=ctx.now(), auto=True)
                if decision.applied:
                    audit.append(
                        conn, team_id=record.team_id, plan_id=plan_id, kind="plan.approved", actor="policy", auto=True
                    )
        stored = plans.load_plan(conn, plan_id)
        assert stored is not None
        stored = post_card(ctx, conn, stored)
        requests.finish_request(conn, request_id, "planned")
        if notes:
            reply_in_thread(ctx, channel=record.channel_id, thread_ts=origin.thread_ts, text="\n".join(notes))
        if stored.status == "approved":
            assert ctx.redis is not None
            enqueue_job(ctx.redis, "execute_plan", plan_id)
        return "planned"


def _resume_card(ctx: WorkerContext, conn: Any, request_id: int) -> str:
    """A second run for a request already planned: make sure its card exists (the first run may have died)."""
    row = conn.execute("SELECT id FROM plans WHERE request_id = %s", (request_id,)).fetchone()
    if row is None:
        return "skipped"
    plan = plans.load_plan(conn, row["id"])
    if plan is not None and plan.card_ts is None:
        post_card(ctx, conn, plan)
        requests.finish_request(conn, request_id, "planned")
        return "card-posted"
    return "skipped"


def _refuse(ctx: WorkerContext, conn: Any, record: requests.RequestRecord, text: str, *, status: str) -> str:
    audit.append(conn, team_id=record.team_id, request_id=record.id, kind="request.refused", reason=text[:500])
    reply_in_thread(ctx, channel=record.channel_id, thread_ts=record.origin.thread_ts, text=text)
    requests.finish_request(conn, record.id, status, error=text[:500])
    return status


def _planning_context(
    ctx: WorkerContext, conn: Any, record: requests.RequestRecord, catalogue: list[dict[str, Any]], text: str
) -> PlanningContext:
    names: dict[str, str] = {}

    def name_of(user_id: str | None) -> str:
        if not user_id:
            return "someone"
        if user_id not in names:
            try:
                user = ctx.slack.users_info(user=user_id)["user"]
                names[user_id] = user.get("real_name") or user.get("name") or user_id
            except SlackApiError:
                names[user_id] = user_id
        return names[user_id]

    channel_name, purpose = "", ""
    if not record.origin.is_dm:
        try:
            info = ctx.slack.conversations_info(channel=record.channel_id)["channel"]
            channel_name = info.get("name") or ""
            purpose = (info.get("purpose") or {}).get("value") or ""
        except SlackApiError as err:
            log.info("conversations.info failed for %s: %s", record.channel_id, err.response.get("error"))
    thread: list[ThreadMessage] = []
    if record.origin.thread_ts:
        for message in thread_messages(
            conn, team_id=record.team_id, channel_id=record.channel_id, thread_ts=record.origin.thread_ts
        ):
            if message.ts == record.message_ts:
                continue  # the request itself is passed separately
            author = "Baton" if message.bot_id else name_of(message.user_id)
            thread.append(ThreadMessage(author, DEFAULT_REDACTOR.redact(message.text).text))
    shared = (record.context or {}).get("message")
    if shared:
        thread.append(ThreadMessage(name_of(shared.get("user")), DEFAULT_REDACTOR.redact(shared.get("text", "")).text))
    found, used_vectors = recall_for_request(
        ctx,
        conn,
        record,
        text,
        limit=8,
    )
    if not used_vectors and provider(ctx) is not None:
        audit.append(
            conn,
            team_id=record.team_id,
            request_id=record.id,
            kind="memory.recall_fulltext_only",
            reason="embedding provider unavailable",
        )
    return PlanningContext(
        requester_id=record.user_id,
        requester_name=name_of(record.user_id),
        channel_id=record.channel_id,
        channel_name=channel_name,
        channel_purpose=purpose,
        thread=budget_thread(thread, budget_tokens=defaults.THREAD_CONTEXT_TOKENS),
        memory=snippets(found),
        catalogue=tuple(catalogue),
    )


def user_tz(ctx: WorkerContext, user_id: str) -> ZoneInfo:
    try:
        name = ctx.slack.users_info(user=user_id)["user"].get("tz") or "UTC"
        return ZoneInfo(name)
    except (SlackApiError, ZoneInfoNotFoundError, KeyError):
        return ZoneInfo("UTC")


def llm_for(ctx: WorkerContext, record: requests.RequestRecord, *, meeting_id: int | None = None) -> Any:
    """The LLM client for this request (its planning, or with ``meeting_id`` the notes of its meeting), or None
    in degraded mode (no model configured).

    A budget that stops a planning call is told to the requester in the thread (the plan card shows only
    that rules planned it); a meeting's notes card shows the reason itself.
    """
    from core.budgets import BUDGET_NOTICE
    from workers.llm.factory import CallScope, llm_client

    scope = CallScope(team_id=record.team_id, channel_id=record.channel_id, user_id=record.user_id,
                      request_id=record.id, meeting_id=meeting_id)

    def tell(reason: str) -> None:
        reply_in_thread(ctx, channel=record.channel_id, thread_ts=record.origin.thread_ts,
                        text=BUDGET_NOTICE.format(reason=reason))

    return llm_client(ctx, scope, on_refusal=None if meeting_id is not None else tell)
