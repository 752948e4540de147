"""Where a Slack message goes, and what it says about it: shared by the posting and scheduling connectors.

Pure helpers (id shapes, mrkdwn references, broadcast-mention detection, quoting) plus :func:`open_dm`,
the one Web API call both connectors need to turn a user id into the ``D…`` conversation it means.
"""

from __future__ import annotations

import re
from typing import Any

from slack_sdk import WebClient

from connectors.base import PermanentError
from connectors.slack_errors import call_slack
from core.types import RequestOrigin

#: A conversation (``C…`` public, ``G…`` private, ``D…`` direct message) or a user (``U…``/``W…``: their DM).
TARGET_PATTERN = r"^[CGDUW][A-Z0-9]{2,}$"
#: A user id (``W…`` on Enterprise Grid).
USER_PATTERN = r"^[UW][A-Z0-9]{2,}$"
#: Slack's limit is 40,000 characters; Baton's own messages stay far shorter so they fit a plan card.
TEXT_MAX = 4000

# <!channel>, <!here>, <!everyone> (optionally with a |label), and the typed forms @channel/@here/@everyone
# that Slack turns into the same notification when link_names is on.
_SPECIAL = re.compile(r"<!(channel|here|everyone)(?:\|[^>]*)?>|(?<![\w@<])@(channel|here|everyone)\b", re.IGNORECASE)
_SUBTEAM = re.compile(r"<!subteam\^[A-Z0-9]+(?:\|[^>]*)?>")


def is_user(ref: str) -> bool:
    """True for a user id (a message to it is a direct message)."""
    return ref[:1] in ("U", "W")


def is_dm_channel(ref: str) -> bool:
    """True for a direct-message conversation id."""
    return ref.startswith("D")


def reference(ref: str) -> str:
    """How mrkdwn names a target: ``<@U…>`` for a person, ``<#C…>`` for a conversation."""
    return f"<@{ref}>" if is_user(ref) else f"<#{ref}>"


def broadcast_mentions(text: str) -> list[str]:
    """The whole-channel or group notifications ``text`` would trigger, e.g. ``["@here"]``."""
    found = [f"@{(match.group(1) or match.group(2)).lower()}" for match in _SPECIAL.finditer(text)]
    found += ["a user group" for _ in _SUBTEAM.finditer(text)]
    return sorted(set(found))


def is_dm_to_requester(ref: str, origin: RequestOrigin) -> bool:
    """True when ``ref`` is the requester's own DM: their user id, or the DM the request came from."""
    return ref == origin.user_id or (origin.is_dm and ref == origin.channel_id)


def quote(text: str) -> str:
    """``text`` as an mrkdwn block quote, one ``>`` per line so nothing after it is swallowed."""
    return "\n".join(f"> {line}" if line else ">" for line in text.split("\n"))


def destination(ref: str, origin: RequestOrigin) -> str:
    """Where a message to ``ref`` lands, said from the requester's side (for previews)."""
    if ref == origin.channel_id:
        return "Post in this conversation" if origin.is_dm else f"Post in {reference(ref)} (this channel)"
    if is_dm_to_requester(ref, origin):
        return "Send you a direct message"
    if is_user(ref):
        return f"Send a direct message to {reference(ref)}"
    if is_dm_channel(ref):
        return f"Post in the direct message {reference(ref)}"
    return f"Post in {reference(ref)} (posting outside the requesting channel)"


def message_preview(where: str, text: str) -> str:
    """``where:`` then the quoted text, with a warning when it would notify a whole channel."""
    lines = [f"{where}:", quote(text)]
    mentions = broadcast_mentions(text)
    if mentions:
        lines.append(f":warning: notifies {', '.join(mentions)}")
    return "\n".join(lines)


def open_dm(client: WebClient, user_id: str) -> str:
    """The ``D…`` id of the direct message between Baton and ``user_id`` (opened if needed)."""
    response: Any = call_slack(f"opening a DM with <@{user_id}>", lambda: client.conversations_open(users=user_id))
    channel = response.get("channel") or {}
    channel_id = channel.get("id") if isinstance(channel, dict) else None
    if not channel_id:
        raise PermanentError(f"opening a DM with <@{user_id}>: Slack returned no conversation")
    return str(channel_id)


def conversation_id(client: WebClient, ref: str) -> str:
    """The conversation a message to ``ref`` lands in: a user id becomes their DM, anything else is itself."""
    return open_dm(client, ref) if is_user(ref) else ref
