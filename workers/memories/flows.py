"""Requests about memory that don't need a plan: forget, questions (without a model), corrections.

"Forget" shows what matched and waits for a button; a question answered from memory cites its
sources and says plainly when nothing is known; a correction becomes a ``memory.remember`` plan that
supersedes the memory it corrects (so it goes through the normal approval/auto-run path).
"""

from __future__ import annotations

import re
from typing import Any

from core.types import PlanDraft, StepDraft
from memory.db import Conn
from memory.requests import RequestRecord
from slackui import replies
from slackui.limits import SECTION_TEXT, clip
from workers.cards import reply_in_thread
from workers.job_context import WorkerContext
from workers.memories.support import recall_for_request

_FORGET = re.compile(r"^\s*(?:please\s+)?forget\s+(?:about\s+)?(?:that\s+)?(?P<what>.+?)\s*$", re.I | re.S)
_CORRECTION = re.compile(
    r"^\s*(?:(?:that'?s|that is|this is|it'?s)\s+(?:wrong|not right|outdated|incorrect|not true)|correction)"
    r"\s*[:,.!;-]*\s*(?P<new>.+?)\s*$",
    re.I | re.S,
)
_QUESTION = re.compile(
    r"^\s*(?:what|when|who|where|why|how|which|did|do|does|is|are|was|were|have|has|can)\b.*|.*\?\s*$",
    re.I | re.S,
)

_REMEMBER = re.compile(r"^\s*(?:please\s+)?remember\s+(?:that\s+)?(?P<fact>.+?)\s*$", re.I | re.S)
#: The longest fact Baton keeps (matches memory.remember's argument limit).
FACT_LIMIT = 1000

#: Cosine distance under which a memory counts as matching a forget or a question.
MATCH_DISTANCE = 0.55
FORGET, KEEP = "memory_forget", "memory_keep"


def correction_text(text: str) -> str | None:
    match = _CORRECTION.match(text)
    return match.group("new") if match else None


def refuse_oversized_fact(ctx: WorkerContext, record: RequestRecord, text: str) -> str | None:
    """A "remember …" whose fact is too long to be one memory gets a specific answer, not a plan."""
    match = _REMEMBER.match(text)
    if not match or len(match.group("fact")) <= FACT_LIMIT:
        return None
    reply_in_thread(
        ctx,
        team_id=record.team_id,
        channel=record.channel_id,
        thread_ts=record.origin.thread_ts,
        key=f"fact-too-long:req-{record.id}",
        text=replies.fact_too_long(len(match.group("fact")), FACT_LIMIT),
    )
    return "refused"


def handle_forget(ctx: WorkerContext, conn: Conn, record: RequestRecord, text: str) -> str | None:
    """Show what "forget …" matches, with Forget/Keep buttons. None if ``text`` is not a forget request."""
    match = _FORGET.match(text)
    if not match:
        return None
    what = match.group("what")
    found, _ = recall_for_request(
        ctx,
        conn,
        record,
        what,
        limit=5,
        max_distance=MATCH_DISTANCE,
        touch=False,
    )
    origin = record.origin
    if not found:
        reply_in_thread(
            ctx, team_id=record.team_id, channel=record.channel_id, thread_ts=origin.thread_ts,
            key=f"nothing-to-forget:req-{record.id}", text=replies.nothing_to_forget(what),
        )
        return "answered"
    ids = ",".join(str(item.id) for item in found)
    listing = "\n".join(
        f"• #{item.id} ({replies.MEMORY_SCOPE.get(item.scope, item.scope)}): {item.text}" for item in found
    )
    body: list[dict[str, Any]] = [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": clip(f"{replies.FORGET_PROMPT}\n{listing}", SECTION_TEXT),
            },
        },
        {
            "type": "actions",
            "block_id": f"memory_forget_{record.id}",
            "elements": [
                {
                    "type": "button",
                    "action_id": FORGET,
                    "style": "danger",
                    "value": ids,
                    "text": {"type": "plain_text", "text": "Forget these"},
                },
                {
                    "type": "button",
                    "action_id": KEEP,
                    "value": ids,
                    "text": {"type": "plain_text", "text": "Keep them"},
                },
            ],
        },
    ]
    ctx.slack.chat_postMessage(
        channel=record.channel_id, thread_ts=origin.thread_ts, text=replies.FORGET_PROMPT, blocks=body
    )
    return "answered"


def reads_as_question(text: str) -> bool:
    """Whether ``text`` reads as a question (a question word first, or a question mark last)."""
    return _QUESTION.match(text) is not None


def answer_question(ctx: WorkerContext, conn: Conn, record: RequestRecord, text: str) -> str | None:
    """Answer a question from memory (degraded mode). None if ``text`` does not read as a question."""
    if not _QUESTION.match(text):
        return None
    found, used_vectors = recall_for_request(
        ctx,
        conn,
        record,
        text,
        limit=5,
        max_distance=MATCH_DISTANCE,
    )
    if not found:
        reply = replies.KNOW_NOTHING
    else:
        lines = [replies.RECALL_HEADER]
        for item in found:
            source = (
                f" (<{item.source_link}|source>)" if item.source_link and item.source_link.startswith("http") else ""
            )
            lines.append(f"• {item.text} — _{item.created_at:%Y-%m-%d}_{source}")
        if not used_vectors:
            lines.append(replies.RECALL_FULLTEXT_NOTE)
        reply = "\n".join(lines)
    reply_in_thread(ctx, team_id=record.team_id, channel=record.channel_id, thread_ts=record.origin.thread_ts,
                    key=f"recall:req-{record.id}", text=reply)
    return "answered"


def correction_draft(ctx: WorkerContext, conn: Conn, record: RequestRecord, text: str) -> PlanDraft | None:
    """A plan that stores the corrected fact and supersedes the closest memory it corrects."""
    new = correction_text(text)
    if new is None:
        return None
    found, _ = recall_for_request(
        ctx,
        conn,
        record,
        new,
        limit=1,
        touch=False,
    )
    args: dict[str, Any] = {"text": new, "scope": found[0].scope if found else "channel"}
    if found:
        args["replaces"] = found[0].id
    return PlanDraft(
        title="Correct what I remember",
        rationale=(f"You said memory #{found[0].id} is wrong." if found else "You gave me a correction."),
        steps=(StepDraft(action="memory.remember", args=args, description="Remember the corrected fact"),),
        planner="rules",
    )
