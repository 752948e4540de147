"""``slack.post_message``: post a message (or a thread reply, or a DM), exactly once per idempotency key.

Exactly once: every message carries its key in Slack message metadata
(``{"event_type": "baton_effect", "event_payload": {"key": …}}``). Before posting, the connector reads
the recent messages of the target (the thread's replies when replying in a thread, else the
conversation's history, with ``include_all_metadata``) and, when one of them carries the key, returns it
instead of posting again. So a retry, a redelivered job or a worker killed after the post but before the
effects ledger was updated all find the first message. The look-back is bounded
(:data:`HISTORY_LOOKBACK` top-level messages, :data:`THREAD_LOOKBACK` thread replies): a retry that comes
after that many newer messages would post again, which a retry within minutes never does. Nor can the
look-up see a post still in flight: if Slack stores a timed-out request only after the retry has looked,
both land. Give the ``WebClient`` no retry handler that re-sends on connection errors, for the same reason.

Undo (``compensate``) deletes the message; a message already gone counts as undone.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import Field
from slack_sdk import WebClient

from connectors.base import Args, Connector, ConnectorError, PermanentError
from connectors.slack_errors import call_slack, undo_unless_gone
from connectors.slack_targets import (
    TARGET_PATTERN,
    TEXT_MAX,
    broadcast_mentions,
    conversation_id,
    destination,
    is_dm_channel,
    is_user,
    message_preview,
    reference,
)
from core.types import RequestOrigin, Risk

logger = logging.getLogger(__name__)

#: Metadata ``event_type`` that marks a message as a Baton effect carrying its idempotency key.
EFFECT_EVENT_TYPE = "baton_effect"
#: Newest top-level messages searched for an earlier post under the same key.
HISTORY_LOOKBACK = 200
#: Thread replies searched (pages of 200, oldest first, so the whole thread up to this many).
THREAD_LOOKBACK = 1000


class PostMessageArgs(Args):
    """Arguments of ``slack.post_message``."""

    channel: str = Field(
        pattern=TARGET_PATTERN,
        description=("Conversation id (C… public, G… private, D… direct message) or a user id (U…) to send them a DM."),
    )
    text: str = Field(min_length=1, max_length=TEXT_MAX, description="Message text (Slack mrkdwn).")
    in_thread: bool = Field(
        default=False,
        description=("Reply in the thread the request came from; only valid when channel is the requesting channel."),
    )


def effect_metadata(key: str) -> dict[str, Any]:
    """The message metadata that ties a message to the effect ``key``."""
    return {"event_type": EFFECT_EVENT_TYPE, "event_payload": {"key": key}}


def carries_key(message: dict[str, Any], key: str) -> bool:
    """True when ``message`` is a bot message whose metadata names ``key``."""
    metadata = message.get("metadata")
    if not isinstance(metadata, dict) or metadata.get("event_type") != EFFECT_EVENT_TYPE:
        return False
    payload = metadata.get("event_payload")
    return isinstance(payload, dict) and payload.get("key") == key and bool(message.get("bot_id"))


def find_keyed_message(
    client: WebClient, channel: str, thread_ts: str | None, key: str, *, doing: str
) -> dict[str, Any] | None:
    """A bot message posted under ``key`` in the recent window of this thread or conversation, if any."""
    for message in _recent(client, channel, thread_ts, doing=doing):
        if carries_key(message, key):
            return message
    return None


def _recent(client: WebClient, channel: str, thread_ts: str | None, *, doing: str) -> list[dict[str, Any]]:
    if thread_ts is None:
        history: Any = call_slack(
            doing,
            lambda: client.conversations_history(channel=channel, include_all_metadata=True, limit=HISTORY_LOOKBACK),
        )
        return list(history.get("messages") or [])
    messages: list[dict[str, Any]] = []
    cursor: str | None = None
    while len(messages) < THREAD_LOOKBACK:
        page: Any = call_slack(
            doing,
            functools.partial(
                client.conversations_replies,
                channel=channel,
                ts=thread_ts,
                include_all_metadata=True,
                limit=200,
                cursor=cursor,
            ),
        )
        messages += page.get("messages") or []
        cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            break
    return messages


class SlackPostMessage(Connector):
    """Post a Slack message where the plan says, at most once per idempotency key."""

    action: ClassVar[str] = "slack.post_message"
    summary: ClassVar[str] = "Post a message to a channel, as a reply in the requesting thread, or as a DM to a person."
    args_model: ClassVar[type[Args]] = PostMessageArgs
    compensable: ClassVar[bool] = True

    def __init__(self, *, client: WebClient) -> None:
        self._client = client

    # -- plan time ---------------------------------------------------------------------------------

    @staticmethod
    def _thread(args: PostMessageArgs, origin: RequestOrigin) -> str | None:
        """The thread a reply goes to: only the requesting thread, only when asked for."""
        if args.in_thread and args.channel == origin.channel_id:
            return origin.thread_ts
        return None

    def preview(self, args: PostMessageArgs, *, origin: RequestOrigin) -> str:
        if args.in_thread and args.channel != origin.channel_id:
            where = f"Cannot reply in a thread of {reference(args.channel)}: replies only go to the requesting thread"
        elif self._thread(args, origin):
            where = "Reply in this thread"
        else:
            where = destination(args.channel, origin)
        return message_preview(where, args.text)

    def risk(self, args: PostMessageArgs, *, origin: RequestOrigin) -> Risk:
        if broadcast_mentions(args.text):
            return Risk.HIGH  # notifies everyone in a channel
        if args.in_thread and args.channel != origin.channel_id:
            return Risk.HIGH  # not the requesting thread: execute refuses, and nobody should approve it
        if args.channel == origin.channel_id:
            return Risk.LOW if self._thread(args, origin) else Risk.MEDIUM
        if is_user(args.channel) or is_dm_channel(args.channel):
            return Risk.MEDIUM  # a direct message to one person
        return Risk.HIGH  # posting outside the requesting channel

    # -- run time ----------------------------------------------------------------------------------

    def execute(self, args: PostMessageArgs, *, origin: RequestOrigin, key: str) -> dict[str, Any]:
        if args.in_thread and args.channel != origin.channel_id:
            raise PermanentError(
                f"cannot reply in a thread of {reference(args.channel)}: replies only go to the requesting thread"
            )
        doing = f"posting to {reference(args.channel)}"
        channel = conversation_id(self._client, args.channel)
        thread_ts = self._thread(args, origin)
        existing = find_keyed_message(self._client, channel, thread_ts, key, doing=doing)
        if existing is not None:
            logger.info("%s: already posted under %s as %s", doing, key, existing["ts"])
            return self._result(channel, existing["ts"], thread_ts, reused=True)
        posted: Any = call_slack(
            doing,
            lambda: self._client.chat_postMessage(
                channel=channel, text=args.text, thread_ts=thread_ts, metadata=effect_metadata(key)
            ),
        )
        return self._result(str(posted["channel"]), str(posted["ts"]), thread_ts, reused=False)

    def compensate(
        self, args: PostMessageArgs, result: Mapping[str, Any], *, origin: RequestOrigin, key: str
    ) -> dict[str, Any]:
        channel, ts = str(result["channel"]), str(result["ts"])
        deleted = undo_unless_gone(
            f"deleting the message in {reference(channel)}",
            lambda: self._client.chat_delete(channel=channel, ts=ts),
            gone="message_not_found",
        )
        return {"deleted": deleted, **({} if deleted else {"already_gone": True}), "channel": channel, "ts": ts}

    def _result(self, channel: str, ts: str, thread_ts: str | None, *, reused: bool) -> dict[str, Any]:
        result: dict[str, Any] = {"channel": channel, "ts": ts}
        if thread_ts:
            result["thread_ts"] = thread_ts
        if reused:
            result["reused"] = True
        try:
            link: Any = call_slack(
                "linking the message", lambda: self._client.chat_getPermalink(channel=channel, message_ts=ts)
            )
            result["permalink"] = str(link["permalink"])
        except ConnectorError as error:  # the message is posted: a missing link must not fail the step
            logger.info("no permalink for %s/%s: %s", channel, ts, error)
        return result
