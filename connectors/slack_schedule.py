"""``slack.schedule_message``: have Slack post a message later, scheduled at most once per idempotency key.

Exactly once, and its limit: Slack keeps no metadata that ``chat.scheduledMessages.list`` returns (it lists
only id, channel, time and text), and Baton adds nothing visible to the text. So before scheduling, the
connector lists the pending scheduled messages of the target conversation and treats one with the same
(conversation, ``post_at`` to the second, text) as the one an earlier attempt under this key scheduled,
returning it instead of scheduling again. Consequences:

* two different plans scheduling the very same text in the same conversation for the same second become
  one scheduled message (and undoing either removes it): harmless for a reminder, and the only case where
  the match is wrong;
* if the text Slack stores differs from the text sent (Slack may rewrite some markup), the match fails
  and a retry schedules a duplicate;
* once ``post_at`` has passed, the message is no longer pending and cannot be found: a retry after that
  is refused by Slack (``time_in_past``) instead of posting twice.

Undo (``compensate``) deletes the scheduled message; one that Slack reports as gone counts as undone when
its time has not come yet, and as "already sent, cannot be undone" when it has.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, ClassVar

from pydantic import Field, ValidationInfo, field_validator
from slack_sdk import WebClient

from connectors.base import Args, Connector, PermanentError
from connectors.slack_errors import call_slack, undo_unless_gone
from connectors.slack_targets import (
    TARGET_PATTERN,
    TEXT_MAX,
    broadcast_mentions,
    conversation_id,
    destination,
    is_dm_channel,
    is_dm_to_requester,
    is_user,
    message_preview,
    reference,
)
from core.types import RequestOrigin, Risk

logger = logging.getLogger(__name__)

#: Slack schedules messages at most 120 days ahead.
SCHEDULE_HORIZON = timedelta(days=120)
#: Pages of ``chat.scheduledMessages.list`` read while looking for an earlier attempt (100 each).
MAX_LIST_PAGES = 10


class ScheduleMessageArgs(Args):
    """Arguments of ``slack.schedule_message``. ``post_at`` is checked against the connector's clock."""

    channel: str = Field(
        pattern=TARGET_PATTERN, description=("Conversation id (C…, G…, D…) or a user id (U…) to send them a DM.")
    )
    text: str = Field(min_length=1, max_length=TEXT_MAX, description="Message text (Slack mrkdwn).")
    post_at: datetime = Field(
        description=(
            "When Slack should post it: ISO 8601 with a time zone offset, in the future, at most 120 days ahead."
        )
    )

    @field_validator("post_at")
    @classmethod
    def _post_at_in_range(cls, value: datetime, info: ValidationInfo) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("post_at must include a time zone offset, e.g. 2026-11-27T09:00:00+01:00")
        now = (info.context or {}).get("now")
        if isinstance(now, datetime):
            if value <= now:
                raise ValueError("post_at is in the past")
            if value > now + SCHEDULE_HORIZON:
                raise ValueError("post_at is more than 120 days ahead (Slack's limit)")
        return value


def _unix(moment: datetime) -> int:
    return int(moment.timestamp())


class SlackScheduleMessage(Connector):
    """Schedule a Slack message, at most once per idempotency key (see the module docstring's limits)."""

    action: ClassVar[str] = "slack.schedule_message"
    summary: ClassVar[str] = "Schedule a message for later in a channel or as a DM (up to 120 days ahead)."
    args_model: ClassVar[type[Args]] = ScheduleMessageArgs
    compensable: ClassVar[bool] = True

    def __init__(self, *, client: WebClient, now: Callable[[], datetime]) -> None:
        self._client = client
        self._now = now

    def parse(self, raw: Mapping[str, Any]) -> Args:
        """Validate arguments; ``post_at`` must be ahead of this connector's clock and within 120 days."""
        return self.args_model.model_validate(dict(raw), context={"now": self._now()})

    # -- plan time ---------------------------------------------------------------------------------

    def preview(self, args: ScheduleMessageArgs, *, origin: RequestOrigin) -> str:
        when = args.post_at.strftime("%a %Y-%m-%d %H:%M %Z").strip()
        when_mrkdwn = f"<!date^{_unix(args.post_at)}^{{date_short_pretty}} at {{time}}|{when}>"
        return message_preview(f"{destination(args.channel, origin)} on {when_mrkdwn}", args.text)

    def risk(self, args: ScheduleMessageArgs, *, origin: RequestOrigin) -> Risk:
        if broadcast_mentions(args.text):
            return Risk.HIGH
        if is_dm_to_requester(args.channel, origin):
            return Risk.LOW
        if args.channel == origin.channel_id or is_user(args.channel) or is_dm_channel(args.channel):
            return Risk.MEDIUM
        return Risk.HIGH  # posting outside the requesting channel

    # -- run time ----------------------------------------------------------------------------------

    def execute(self, args: ScheduleMessageArgs, *, origin: RequestOrigin, key: str) -> dict[str, Any]:
        doing = f"scheduling a message in {reference(args.channel)}"
        channel = conversation_id(self._client, args.channel)
        post_at = _unix(args.post_at)
        found = self._find(channel, post_at, args.text, doing=doing)
        if found is not None:
            logger.info("%s: already scheduled (%s) under %s", doing, found, key)
            return {"channel": channel, "scheduled_message_id": found, "post_at": post_at, "reused": True}
        scheduled: Any = call_slack(
            doing, lambda: self._client.chat_scheduleMessage(channel=channel, text=args.text, post_at=post_at)
        )
        return {
            "channel": str(scheduled["channel"]),
            "scheduled_message_id": str(scheduled["scheduled_message_id"]),
            "post_at": int(scheduled.get("post_at") or post_at),
        }

    def compensate(
        self, args: ScheduleMessageArgs, result: Mapping[str, Any], *, origin: RequestOrigin, key: str
    ) -> dict[str, Any]:
        channel, scheduled_id = str(result["channel"]), str(result["scheduled_message_id"])
        deleted = undo_unless_gone(
            f"unscheduling the message in {reference(channel)}",
            lambda: self._client.chat_deleteScheduledMessage(channel=channel, scheduled_message_id=scheduled_id),
            gone="invalid_scheduled_message_id",
        )
        if deleted:
            return {"deleted": True, "scheduled_message_id": scheduled_id}
        if _unix(self._now()) >= int(result["post_at"]):
            raise PermanentError("the scheduled message was already sent; it cannot be unscheduled")
        return {"deleted": False, "already_gone": True, "scheduled_message_id": scheduled_id}

    def _find(self, channel: str, post_at: int, text: str, *, doing: str) -> str | None:
        """The id of a pending scheduled message in ``channel`` at ``post_at`` with ``text``, if any."""
        cursor: str | None = None
        for _ in range(MAX_LIST_PAGES):
            page: Any = call_slack(
                doing,
                functools.partial(self._client.chat_scheduledMessages_list, channel=channel, limit=100, cursor=cursor),
            )
            for item in page.get("scheduled_messages") or []:
                if (
                    str(item.get("channel_id")) == channel
                    and int(item.get("post_at") or 0) == post_at
                    and item.get("text") == text
                ):
                    return str(item["id"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
        return None
