"""An executed plan becomes an ``outcome`` memory, so later requests (and recall) know what was done."""

from __future__ import annotations

from core.plan_records import PlanRecord
from core.redaction import DEFAULT_REDACTOR
from memory.db import Conn
from memory.store import write_memory
from workers.job_context import WorkerContext
from workers.memories.support import embed_text
from workers.slack_lookups import SlackLookups


def remember_outcome(ctx: WorkerContext, conn: Conn, plan: PlanRecord) -> None:
    """Keep what an executed plan did as an ``outcome`` memory (once per plan), so later requests know it."""
    if all(step.action == "memory.remember" for step in plan.steps):
        return  # the memory itself is the outcome
    done = [step.description for step in plan.steps if step.status == "succeeded"]
    if not done:
        return
    who = f", approved by <@{plan.decided_by}>" if plan.decided_by and plan.decided_by != "policy" else ""
    text = f"{plan.title} (plan #{plan.id}, {ctx.now():%Y-%m-%d}{who}): " + "; ".join(done)
    redacted = DEFAULT_REDACTOR.redact(text[:1000]).text
    embedded = embed_text(ctx, redacted)
    link = SlackLookups(ctx.slack).permalink(plan.card_channel, plan.card_ts)
    scope, user = ("user", plan.requester_id) if plan.origin.is_dm else ("channel", None)
    write_memory(
        conn,
        team_id=plan.team_id,
        scope=scope,
        channel_id=plan.channel_id,
        user_id=user,
        text=redacted,
        key=f"baton-plan-{plan.id}-outcome",
        kind="outcome",
        source_kind="plan",
        source_link=link,
        source_channel=plan.card_channel,
        source_ts=plan.card_ts,
        author_id=plan.requester_id,
        embedding=embedded[0] if embedded else None,
        embedding_model=embedded[1] if embedded else None,
    )
