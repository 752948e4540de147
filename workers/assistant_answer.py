"""Answers streamed as the model writes them (``chat.startStream`` / ``appendStream`` / ``stopStream`` through
slack_sdk's ``ChatStream``), instead of one late post.

The answer path: a question asked in a Slack assistant thread, with a model configured and memories that bear on it
(recall, as the degraded mode's answer from memory does), is answered by the model from those memories, streamed
into the thread piece by piece. Anything else goes on to planning as before.

Idempotent on redelivery: the final ``chat.stopStream`` carries the key ``answer:<request id>`` in message metadata,
and a run looks for a message carrying it before it starts (a job re-run after the answer landed posts nothing).
A worker killed in mid-stream leaves the half answer it streamed, unkeyed, and the request is planned again by the
recovery pass: a second, complete answer follows it.
"""

from __future__ import annotations

import logging

from connectors.slack_errors import describe_error
from connectors.slack_once import effect_metadata, find_keyed_message
from core import defaults
from core.redaction import DEFAULT_REDACTOR
from memory.db import Conn
from memory.requests import RequestRecord
from prompts import render
from slackui import replies
from workers.assistant import thread_of
from workers.job_context import WorkerContext
from workers.llm.client import LLMUnavailable
from workers.llm.for_request import llm_for
from workers.memories.flows import MATCH_DISTANCE, reads_as_question
from workers.memories.support import recall_for_request

log = logging.getLogger(__name__)

#: How many memories the model is given to answer from.
ANSWER_MEMORIES = 5


def stream_answer(ctx: WorkerContext, conn: Conn, record: RequestRecord, text: str) -> str | None:
    """Answer ``text`` in its assistant thread, streamed; ``"answered"``, or None to plan it as before (not a
    question, not in an assistant thread, no model, nothing remembered, or the model could not start)."""
    if not ctx.settings.llm_configured or not reads_as_question(text) or thread_of(conn, record) is None:
        return None
    found, _ = recall_for_request(ctx, conn, record, text, limit=ANSWER_MEMORIES, max_distance=MATCH_DISTANCE)
    if not found:
        return None
    channel, thread_ts, key = record.channel_id, record.origin.thread_ts, f"answer:{record.id}"
    if find_keyed_message(ctx.slack, channel, thread_ts, key, doing="looking for the streamed answer") is not None:
        return "answered"  # an earlier run of this job streamed it to the end
    llm = llm_for(ctx, record)
    if llm is None:
        return None
    memories = [{"text": item.text, "date": f"{item.created_at:%Y-%m-%d}"} for item in found]
    prompt = render("answer_question.j2", question=DEFAULT_REDACTOR.redact(text).text, memories=memories)
    pieces = llm.stream_text(purpose="answer", prompt=prompt, team_id=record.team_id, request_id=record.id)
    stream = ctx.slack.chat_stream(
        channel=channel,
        thread_ts=thread_ts or "",
        recipient_team_id=record.team_id,
        recipient_user_id=record.user_id,
        buffer_size=defaults.ANSWER_STREAM_BUFFER,
    )
    ending = ""
    try:
        for piece in pieces:
            stream.append(markdown_text=piece)
    except LLMUnavailable as err:
        if stream.ts is None:
            log.info("the model could not start an answer for request %s (%s); planning it instead", record.id, err)
            return None
        ending = replies.ANSWER_CUT_SHORT
    sources = replies.answer_sources(item.source_link for item in found)
    footer = [{"type": "context", "elements": [{"type": "mrkdwn", "text": sources}]}] if sources else None
    try:
        stream.stop(markdown_text=ending or None, metadata=effect_metadata(key), blocks=footer)
    except Exception as err:
        log.warning("could not finish the streamed answer of request %s: %s", record.id, describe_error(err))
        raise
    return "answered"
