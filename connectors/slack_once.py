"""Post a Slack message at most once per idempotency key: the one keyed post behind every message Baton must
not send twice (connector posts, the plan card, the meeting card, DMs, digests, reminders and check-ins).

Every such message carries its key in Slack message metadata
(``{"event_type": "baton_effect", "event_payload": {"key": …}}``). Before posting, :func:`post_once` reads
the recent messages of the target (the thread's replies when posting in a thread, else the conversation's
history, with ``include_all_metadata``) and, when one of them carries the key, returns it instead of
posting again. So a retry, a redelivered job or a worker killed after the post but before its caller
recorded the message all find the first one. The look-back is bounded (:data:`HISTORY_LOOKBACK`
top-level messages, :data:`THREAD_LOOKBACK` thread replies): a retry that comes after that many newer
messages would post again, which a retry within minutes never does. Nor can the look-up see a post still
in flight: if Slack stores a timed-out request only after the retry has looked, both land. Give the
``WebClient`` no retry handler that re-sends on connection errors, for the same reason.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient

from connectors.slack_errors import call_slack

#: Metadata ``event_type`` that marks a message as a Baton effect carrying its idempotency key.
EFFECT_EVENT_TYPE = "baton_effect"
#: Newest top-level messages searched for an earlier post under the same key.
HISTORY_LOOKBACK = 200
#: Thread replies searched (pages of 200, oldest first, so the whole thread up to this many).
THREAD_LOOKBACK = 1000


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


@dataclass(frozen=True)
class Posted:
    """Where a keyed message is, and whether it was already there (``reused``) rather than posted now."""

    channel: str
    ts: str
    reused: bool


def post_once(
    client: WebClient,
    *,
    channel: str,
    key: str,
    doing: str,
    thread_ts: str | None = None,
    before_post: Callable[[], None] | None = None,
    render: Callable[[], dict[str, Any]] | None = None,
    look_first: bool = True,
    **message: Any,
) -> Posted:
    """Post ``message`` (``text``, ``blocks``, …) to ``channel`` (in ``thread_ts``) under ``key``, unless a message
    with that key is already there, in which case that one is returned.

    ``before_post`` runs only when a post is about to be made (e.g. the per-channel throttle), and so does
    ``render``, which returns more message fields (for a message costly to build). Errors of the
    look-up come as ``ConnectorError`` (see :func:`connectors.slack_errors.call_slack`); errors of the post
    itself are the client's own, so each caller keeps its error handling.

    ``look_first=False`` skips the look-up when the caller knows nothing can have been posted under ``key``
    yet (its key was made in this very run); the message still carries the key for any later run.
    """
    existing = find_keyed_message(client, channel, thread_ts, key, doing=doing) if look_first else None
    if existing is not None:
        return Posted(channel, str(existing["ts"]), reused=True)
    if render is not None:
        message = {**message, **render()}
    if before_post is not None:
        before_post()
    posted: Any = client.chat_postMessage(
        channel=channel, thread_ts=thread_ts, metadata=effect_metadata(key), **message
    )
    return Posted(str(posted["channel"]), str(posted["ts"]), reused=False)
