"""``slack.post_message``: post a message (or a thread reply, or a DM), exactly once per idempotency key.

Exactly once: the post goes through :func:`connectors.slack_once.post_once`, which finds a message already
posted under the step's key (a retry, a redelivered job, a worker killed after the post but before the
effects ledger was updated) instead of posting again; its docstring says how far that look-up reaches.

Undo (``compensate``) deletes the message; a message already gone counts as undone.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import Field
from slack_sdk import WebClient

from connectors.base import Args, Connector, ConnectorError, PermanentError
from connectors.slack_errors import call_slack, undo_unless_gone
from connectors.slack_once import post_once
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
        posted = call_slack(
            doing,
            lambda: post_once(self._client, channel=channel, key=key, doing=doing, thread_ts=thread_ts, text=args.text),
        )
        if posted.reused:
            logger.info("%s: already posted under %s as %s", doing, key, posted.ts)
        return self._result(posted.channel, posted.ts, thread_ts, reused=posted.reused)

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
