"""Turn a recorded request into a plan card (or an honest answer why not).

:func:`plan_request` claims the request and runs it through :data:`STAGES` in order. Each stage either
settles the request (returns its final status: refused, answered, planned…) or returns None to hand it
on, so every way a request can end is one small function, in the order a reader would check them.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.errors import SlackApiError

from core import defaults
from core.mentions import mentions_in, with_names
from core.planning.prompt_context import MentionedName, PlanningContext, ThreadMessage, budget_thread
from core.policy import ApprovalPolicy, channel_allowed, runs_without_approval
from core.redaction import DEFAULT_REDACTOR
from memory import audit, plans, requests
from memory.db import Conn
from memory.decisions import decide_plan
from memory.policies import load_policy
from memory.slack_messages import thread_messages
from slackui import replies
from workers.assistant import planning_status
from workers.assistant_answer import stream_answer
from workers.cards import reply_in_thread
from workers.connector_wiring import registry_for
from workers.job_context import WorkerContext, current
from workers.llm.deadline import Deadline
from workers.llm.for_request import llm_for
from workers.meetings.summarize import is_meeting_request, summarize_meeting
from workers.memories import flows
from workers.memories.support import provider, recall_for_request, snippets
from workers.outage_retry import current_job_id
from workers.planning.deferred_card import post_card_at_turn
from workers.planning.direct import answer_help, plan_directly
from workers.planning.interim import InterimNotice, remove_leftover
from workers.planning.make import PlanOutcome, make_plan, review_draft
from workers.slack_lookups import SlackLookups

log = logging.getLogger(__name__)

#: Messages longer than this are read only up to it (Slack's own limit is 40,000 characters).
REQUEST_CHAR_LIMIT = 40_000


@dataclass
class _Planning:
    """One run of :func:`plan_request`: what the stages read and what they hand on."""

    ctx: WorkerContext
    conn: Conn
    record: requests.RequestRecord
    policy: ApprovalPolicy
    lookups: SlackLookups
    text: str = ""
    #: Notes for the requester posted with the card (e.g. that the request was clipped).
    notes: list[str] = field(default_factory=list)
    outcome: PlanOutcome | None = None
    #: Bounds the model calls of this planning together (started when the job starts).
    deadline: Deadline | None = None


Stage = Callable[[_Planning], str | None]


def plan_request(request_id: int) -> str:
    """Plan request ``request_id`` once: claim it, run it through :data:`STAGES`, return how it ended."""
    ctx = current()
    with ctx.db() as conn:
        record = requests.load_request(conn, request_id)
        if record is None:
            return "missing"
        if not requests.claim_for_planning(conn, request_id, job_id=current_job_id()):
            return _resume_card(ctx, conn, record)
        policy = load_policy(conn, team_id=record.team_id, channel_id=record.channel_id)
        lookups = SlackLookups(ctx.slack, shared=ctx.redis, team_id=record.team_id)
        job = _Planning(ctx, conn, record, policy, lookups,
                        deadline=Deadline(ctx.settings.planning_deadline_seconds))
        if is_meeting_request(record):
            return _run_stages(job)  # a meeting's notes say how far they got themselves
        # Loaded before the claim: a planning job on record means an earlier run, whose message may be up.
        earlier_run = record.planning_job is not None
        interim = InterimNotice(ctx, record, after=ctx.settings.planning_interim_seconds, earlier_run=earlier_run)
        with planning_status(ctx, conn, record), interim:
            return _run_stages(job)


def _run_stages(job: _Planning) -> str:
    for stage in STAGES:
        status = stage(job)
        if status is not None:
            return status
    raise AssertionError("the last stage always settles the request")


def _answer_help(job: _Planning) -> str | None:
    """``/baton help``'s alias listing (its commands were answered at the edge)."""
    allowed = channel_allowed(job.policy, job.record.channel_id, is_dm=job.record.origin.is_dm)
    return answer_help(job.ctx, job.conn, job.record, channel_allowed=allowed)


def _refuse_disabled_channel(job: _Planning) -> str | None:
    if channel_allowed(job.policy, job.record.channel_id, is_dm=job.record.origin.is_dm):
        return None
    return _refuse(job, replies.CHANNEL_NOT_ENABLED)


def _summarize_meeting(job: _Planning) -> str | None:
    return summarize_meeting(job.ctx, job.conn, job.record) if is_meeting_request(job.record) else None


def _read_text(job: _Planning) -> str | None:
    """The request's text, clipped to :data:`REQUEST_CHAR_LIMIT` (with a note saying so); empty is refused."""
    text = job.record.text.strip()
    if not text:
        return _refuse(job, replies.EMPTY_REQUEST)
    if len(text) > REQUEST_CHAR_LIMIT:
        text = text[:REQUEST_CHAR_LIMIT]
        job.notes.append(replies.REQUEST_CLIPPED.format(limit=REQUEST_CHAR_LIMIT))
    job.text = text
    return None


def _plan_directly(job: _Planning) -> str | None:
    """An operator's alias, ``/baton run`` or the help listing: planned (or answered) without the model."""
    if job.outcome is not None:
        return None  # planned already (a correction)
    settled = plan_directly(job.ctx, job.conn, job.record, job.text)
    if isinstance(settled, str):
        return settled
    job.outcome = settled
    return None


def _refuse_oversized_fact(job: _Planning) -> str | None:
    refused = flows.refuse_oversized_fact(job.ctx, job.record, job.text)
    if refused is None:
        return None
    requests.finish_request(job.conn, job.record.id, refused)
    audit.append(job.conn, team_id=job.record.team_id, request_id=job.record.id, kind="request.refused",
                 reason="fact too long")
    return refused


def _offer_forget(job: _Planning) -> str | None:
    handled = flows.handle_forget(job.ctx, job.conn, job.record, job.text)
    if handled is None:
        return None
    requests.finish_request(job.conn, job.record.id, handled)
    audit.append(job.conn, team_id=job.record.team_id, request_id=job.record.id, kind="memory.forget_offered")
    return handled


def _plan_correction(job: _Planning) -> str | None:
    """A correction of a memory ("that's wrong: …") is planned without the model."""
    correction = flows.correction_draft(job.ctx, job.conn, job.record, job.text)
    if correction is None:
        return None
    reviewed = review_draft(correction, registry=registry_for(job.ctx), origin=job.record.origin)
    job.outcome = (
        PlanOutcome(plan=reviewed, degraded=False)
        if not isinstance(reviewed, list)
        else PlanOutcome(refusal=replies.planning_failed("; ".join(reviewed[:3])))
    )
    return None


def _stream_answer(job: _Planning) -> str | None:
    """A question in an assistant thread that memory can answer: the model's answer, streamed (no plan)."""
    if job.outcome is not None:
        return None
    answered = stream_answer(job.ctx, job.conn, job.record, job.text)
    if answered is not None:
        requests.finish_request(job.conn, job.record.id, answered)
    return answered


def _make_plan(job: _Planning) -> str | None:
    if job.outcome is not None:
        return None  # planned already (a correction)
    ctx, record = job.ctx, job.record
    registry = registry_for(ctx)
    job.outcome = make_plan(
        request_text=DEFAULT_REDACTOR.redact(job.text).text,
        context=_planning_context(job, registry.catalogue()),
        origin=record.origin,
        registry=registry,
        llm=llm_for(ctx, record, deadline=job.deadline),
        now=ctx.now(),
        tz=job.lookups.tz(record.user_id),
        request_id=record.id,
    )
    if job.outcome.refusal is not None and (job.outcome.degraded or not ctx.settings.llm_configured):
        # Without the model, a question can still be answered from memory.
        answered = flows.answer_question(ctx, job.conn, record, job.text)
        if answered is not None:
            requests.finish_request(job.conn, record.id, answered)
            return answered
    return None


def _refuse_unplanned(job: _Planning) -> str | None:
    assert job.outcome is not None
    return _refuse(job, job.outcome.refusal) if job.outcome.refusal is not None else None


def _propose(job: _Planning) -> str:
    """Store the plan, auto-approve it when policy lets it run at once, post its card, start it if approved."""
    ctx, conn, record = job.ctx, job.conn, job.record
    assert job.outcome is not None and job.outcome.plan is not None
    plan, usage = job.outcome.plan, job.outcome.llm_usage
    # The title names its channels and people (the card's header is plain text, where a bare <#C…> shows raw).
    plan = dataclasses.replace(plan, title=with_names(plan.title, _names(job)))
    plan_id, created = plans.insert_plan(
        conn,
        request_id=record.id,
        origin=record.origin,
        plan=plan,
        expires_at=ctx.now() + job.policy.expiry,
        tokens_in=usage.input_tokens if usage else 0,
        tokens_out=usage.output_tokens if usage else 0,
        cost_usd=usage.cost_usd if usage else 0,  # type: ignore[arg-type]
        degraded_reason=job.outcome.degraded_reason,
        cost_known=usage.cost_known if usage else True,
    )
    if created:
        audit.append(
            conn,
            team_id=record.team_id,
            request_id=record.id,
            plan_id=plan_id,
            kind="plan.proposed",
            planner=plan.planner,
            risk=plan.risk.value,
            steps=[s.action for s in plan.steps],
            degraded=job.outcome.degraded,
            notes=list(job.outcome.notes) + job.notes,
        )
        if runs_without_approval(job.policy, plan.steps):
            decide_plan(conn, plan_id, team_id=record.team_id, event="approve", user_id="policy", now=ctx.now(),
                        auto=True)
    # The card now, or at the channel's turn by its own job (the worker does not sleep on the throttle); either
    # way the plan starts after its card is up when it needed no approval.
    post_card_at_turn(ctx, conn, plan_id, maybe_posted=not created)
    requests.finish_request(conn, record.id, "planned")
    if job.notes:
        reply_in_thread(ctx, team_id=record.team_id, channel=record.channel_id, thread_ts=record.origin.thread_ts,
                        key=f"notes:req-{record.id}", text="\n".join(job.notes))
    return "planned"


#: How a request is handled, in order: the first stage that returns a status settles it.
STAGES: tuple[Stage, ...] = (
    _answer_help,
    _refuse_disabled_channel,
    _summarize_meeting,
    _read_text,
    _refuse_oversized_fact,
    _offer_forget,
    _plan_correction,
    _plan_directly,
    _stream_answer,
    _make_plan,
    _refuse_unplanned,
    _propose,
)


def _resume_card(ctx: WorkerContext, conn: Conn, record: requests.RequestRecord) -> str:
    """A second run for a request already planned: make sure its card exists (the first run may have died), and
    that no "still working" message of the first run is left."""
    remove_leftover(ctx, record)
    request_id = record.id
    plan_id = plans.plan_of_request(conn, request_id)
    if plan_id is None:
        return "skipped"
    posted = post_card_at_turn(ctx, conn, plan_id, maybe_posted=True)
    if posted in ("card-posted", "card-deferred"):
        requests.finish_request(conn, request_id, "planned")
        return posted
    return "skipped"


def _refuse(job: _Planning, text: str) -> str:
    record = job.record
    audit.append(job.conn, team_id=record.team_id, request_id=record.id, kind="request.refused", reason=text[:500])
    reply_in_thread(job.ctx, team_id=record.team_id, channel=record.channel_id, thread_ts=record.origin.thread_ts,
                    key=f"refusal:req-{record.id}", text=text)
    requests.finish_request(job.conn, record.id, "refused", error=text[:500])
    return "refused"


def _planning_context(job: _Planning, catalogue: list[dict[str, Any]]) -> PlanningContext:
    """What the planner is told besides the request: who asks where, the thread, memories, the actions."""
    ctx, conn, record, lookups = job.ctx, job.conn, job.record, job.lookups
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
            author = "Baton" if message.bot_id else lookups.name(message.user_id)
            thread.append(ThreadMessage(author, DEFAULT_REDACTOR.redact(message.text).text))
    shared = (record.context or {}).get("message")
    if shared:
        text = DEFAULT_REDACTOR.redact(shared.get("text", "")).text
        thread.append(ThreadMessage(lookups.name(shared.get("user")), text))
    found, used_vectors = recall_for_request(ctx, conn, record, job.text, limit=8)
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
        requester_name=lookups.name(record.user_id),
        channel_id=record.channel_id,
        channel_name=channel_name,
        channel_purpose=purpose,
        thread=budget_thread(thread, budget_tokens=defaults.THREAD_CONTEXT_TOKENS),
        memory=snippets(found),
        mentioned=_mentioned(job.text, lookups),
        catalogue=tuple(catalogue),
    )


def _names(job: _Planning) -> dict[str, str]:
    """The names of the people and channels the request mentions, by id, as a reference's label carries them."""
    names = {}
    for mentioned in _mentioned(job.text or job.record.text, job.lookups):
        ident = mentioned.token.strip("<>#@")
        if mentioned.name != ident:
            names[ident] = mentioned.name.removeprefix("#")
    return names


def _mentioned(text: str, lookups: SlackLookups) -> tuple[MentionedName, ...]:
    """Who and what the request mentions, by name: the request keeps the ids, the model needs the names."""
    named = []
    for mention in mentions_in(text, limit=defaults.MENTIONS_NAMED_MAX):
        if mention.kind == "person":
            token, name = f"<@{mention.id}>", lookups.name(mention.id)
        else:
            token, name = f"<#{mention.id}>", lookups.channel_name(mention.id)
        if name == mention.id and mention.label:  # Slack would not say; the label the token carried will do
            name = mention.label if mention.kind == "person" else f"#{mention.label}"
        named.append(MentionedName(token, " ".join(name.split())[:80]))
    return tuple(named)
