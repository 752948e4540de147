"""Answer a recorded @mention (the first job of the request pipeline)."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from bot import messages
from memory import events
from workers.context import current

log = logging.getLogger(__name__)


def answer_mention(event_pk: int) -> str:
    """Reply in the thread of the recorded mention ``event_pk``; exactly one reply per event.

    The Postgres claim (``received`` -> ``handling``) makes a second run of this job (a re-enqueue
    by the reconciler, a duplicate job) a no-op.
    """
    context = current()
    with context.db() as conn:
        if not events.claim_event(conn, event_pk):
            log.info("event %s already handled; skipping", event_pk)
            return "skipped"
        event = events.load_event(conn, event_pk)
        assert event is not None  # claimed rows exist
        inner = event.payload.get("event", {})
        text = messages.mention_received(
            user_id=event.user_id or "",
            request=messages.strip_mentions(inner.get("text", "")),
            llm_configured=context.settings.llm_configured,
        )
        try:
            context.slack.chat_postMessage(
                channel=event.channel_id or "",
                thread_ts=event.thread_ts or event.message_ts,
                text=text,
            )
        except SlackApiError as err:
            events.finish_event(conn, event_pk, status="failed", error=str(err.response.get("error")))
            raise
        events.finish_event(conn, event_pk)
        return "replied"
