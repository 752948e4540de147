"""Reads of Slack facts that jobs need, each asked of Slack once per job: a person's name and time zone, a
channel's name, a message's permalink.

Every look-up is best effort: a Slack error, a timeout or an unknown zone gives the fallback (the user id,
UTC, no link) and a warning, never a failed job, because none of them is worth losing the work for. Only
answers are cached: a failed look-up is asked again the next time it is needed.

Given a Redis connection, names and zones are also shared between jobs for
:data:`core.defaults.SLACK_FACTS_CACHE_SECONDS` (per workspace): a plan then needs no Slack read before its
card for the people and channels it saw lately. A Redis error only means Slack is asked.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import redis
from slack_sdk import WebClient

from connectors.slack_errors import describe_error
from core import defaults

log = logging.getLogger(__name__)

#: The zone of a person Slack says nothing about.
DEFAULT_TZ = "UTC"
#: What is kept of a ``users.info`` profile: what the look-ups read.
USER_FIELDS = ("id", "name", "real_name", "tz")


class SlackLookups:
    """Cached Slack reads for one job (make one per job: people change their zone, messages get deleted)."""

    def __init__(
        self,
        client: WebClient,
        *,
        shared: redis.Redis | None = None,
        team_id: str = "",
        shared_seconds: int = defaults.SLACK_FACTS_CACHE_SECONDS,
    ) -> None:
        self._client = client
        self._shared = shared
        self._prefix = f"baton:slack-facts:{team_id}:"
        self._shared_seconds = shared_seconds
        self._users: dict[str, dict[str, Any]] = {}
        self._links: dict[tuple[str, str], str | None] = {}
        self._channels: dict[str, str] = {}

    def user(self, user_id: str) -> dict[str, Any] | None:
        """What Baton keeps of the ``users.info`` profile of ``user_id`` (:data:`USER_FIELDS`), or None when Slack
        cannot say."""
        if user_id not in self._users:
            shared = self._shared_get(f"user:{user_id}")
            if isinstance(shared, dict):
                self._users[user_id] = shared
                return shared
            try:
                profile = self._client.users_info(user=user_id)["user"]
            except Exception as err:  # best effort: see the module docstring
                log.warning("users.info failed for %s: %s", user_id, describe_error(err))
                return None
            self._users[user_id] = {field: profile.get(field) for field in USER_FIELDS if field in profile}
            self._shared_set(f"user:{user_id}", self._users[user_id])
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
            shared = self._shared_get(f"channel:{channel_id}")
            if isinstance(shared, str):
                self._channels[channel_id] = shared
                return shared
            try:
                name = self._client.conversations_info(channel=channel_id)["channel"].get("name")
            except Exception as err:  # best effort: see the module docstring
                log.warning("conversations.info failed for %s: %s", channel_id, describe_error(err))
                return channel_id
            self._channels[channel_id] = f"#{name}" if name else channel_id
            self._shared_set(f"channel:{channel_id}", self._channels[channel_id])
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

    def _shared_get(self, key: str) -> Any:
        if self._shared is None:
            return None
        try:
            raw = self._shared.get(self._prefix + key)
            return None if raw is None else json.loads(raw)
        except (redis.RedisError, ValueError) as err:  # a cache: Slack is asked instead
            log.info("shared Slack facts unavailable (%s): asking Slack", err)
            return None

    def _shared_set(self, key: str, value: Any) -> None:
        if self._shared is None:
            return
        try:
            self._shared.set(self._prefix + key, json.dumps(value), ex=self._shared_seconds)
        except redis.RedisError as err:
            log.info("could not share a Slack fact (%s)", err)
