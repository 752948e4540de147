"""Reads of Slack facts that jobs need, each asked of Slack once per job: a person's name and time zone, a
channel's name, a message's permalink.

Every look-up is best effort: a Slack error, a timeout or an unknown zone gives the fallback (the user id,
UTC, no link) and a warning, never a failed job, because none of them is worth losing the work for. Only
answers are cached: a failed look-up is asked again the next time it is needed.
"""

from __future__ import annotations

import logging
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk import WebClient

from connectors.slack_errors import describe_error

log = logging.getLogger(__name__)

#: The zone of a person Slack says nothing about.
DEFAULT_TZ = "UTC"


class SlackLookups:
    """Cached Slack reads for one job (make one per job: people change their zone, messages get deleted)."""

    def __init__(self, client: WebClient) -> None:
        self._client = client
        self._users: dict[str, dict[str, Any]] = {}
        self._links: dict[tuple[str, str], str | None] = {}
        self._channels: dict[str, str] = {}

    def user(self, user_id: str) -> dict[str, Any] | None:
        """The ``users.info`` profile of ``user_id``, or None when Slack cannot say."""
        if user_id not in self._users:
            try:
                self._users[user_id] = dict(self._client.users_info(user=user_id)["user"])
            except Exception as err:  # best effort: see the module docstring
                log.warning("users.info failed for %s: %s", user_id, describe_error(err))
                return None
        return self._users[user_id]

    def name(self, user_id: str | None) -> str:
        """The person's real name (or handle, or id); ``someone`` when there is no id at all."""
        if not user_id:
            return "someone"
        user = self.user(user_id) or {}
        return str(user.get("real_name") or user.get("name") or user_id)

    def tz_name(self, user_id: str) -> str:
        """The person's IANA zone name as Slack gives it (:data:`DEFAULT_TZ` when it does not)."""
        return str((self.user(user_id) or {}).get("tz") or DEFAULT_TZ)

    def tz(self, user_id: str) -> ZoneInfo:
        """The person's zone; UTC when Slack does not say or names a zone this machine does not know."""
        try:
            return ZoneInfo(self.tz_name(user_id))
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo(DEFAULT_TZ)

    def channel_name(self, channel_id: str) -> str:
        """The channel's name as ``#name``; the bare id when Slack will not say (a private channel Baton is
        not in, a DM)."""
        if channel_id not in self._channels:
            try:
                name = self._client.conversations_info(channel=channel_id)["channel"].get("name")
            except Exception as err:  # best effort: see the module docstring
                log.warning("conversations.info failed for %s: %s", channel_id, describe_error(err))
                return channel_id
            self._channels[channel_id] = f"#{name}" if name else channel_id
        return self._channels[channel_id]

    def permalink(self, channel: str | None, ts: str | None) -> str | None:
        """The message's permalink, or None (no message, or Slack would not say)."""
        if not channel or not ts:
            return None
        if (channel, ts) not in self._links:
            try:
                link = self._client.chat_getPermalink(channel=channel, message_ts=ts).get("permalink")
            except Exception as err:  # best effort: see the module docstring
                log.warning("chat.getPermalink failed for %s/%s: %s", channel, ts, describe_error(err))
                return None
            self._links[(channel, ts)] = str(link) if link else None
        return self._links[(channel, ts)]
