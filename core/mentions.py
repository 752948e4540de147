"""Slack mentions in a request: removing Baton's own, and listing the people and channels it names.

Slack sends a mention as ``<@U123>`` (or ``<@U123|name>``) and a channel as ``<#C123>`` (or
``<#C123|general>``). A request keeps every mention but Baton's own: "create a task for @bob" must
still name Bob when it is planned, and the id is what a connector needs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

USER_MENTION = re.compile(r"<@(?P<id>[UW][A-Z0-9]+)(?:\|(?P<label>[^>]*))?>")
CHANNEL_MENTION = re.compile(r"<#(?P<id>[CGD][A-Z0-9]+)(?:\|(?P<label>[^>]*))?>")
_ANY_MENTION = re.compile(rf"{USER_MENTION.pattern}|{CHANNEL_MENTION.pattern.replace('?P<', '?P<c_')}")


@dataclass(frozen=True)
class Mention:
    """A person or channel named in a text: its id and the name Slack put in the token (often empty)."""

    kind: Literal["person", "channel"]
    id: str
    label: str = ""


def without_mention_of(text: str, user_id: str | None) -> str:
    """``text`` without ``user_id``'s mentions (Baton's own), other mentions kept, trimmed.

    Spaces around a removed mention (and a comma or colon right after it) close up to one space, so
    ``<@UBATON>: post hi`` becomes ``post hi``.
    With no ``user_id`` (not known) the text is only trimmed.
    """
    if user_id:
        own = re.compile(rf"[ \t]*<@{re.escape(user_id)}(?:\|[^>]*)?>(?:[ \t]*[,:](?=\s|$))?[ \t]*")
        text = own.sub(" ", text)
    return text.strip()


def mentions_in(text: str, *, limit: int) -> tuple[Mention, ...]:
    """The distinct people and channels ``text`` mentions, in order of first mention, at most ``limit``."""
    found: dict[tuple[str, str], Mention] = {}
    for m in _ANY_MENTION.finditer(text):
        mention = (
            Mention("person", m["id"], (m["label"] or "").strip())
            if m["id"]
            else Mention("channel", m["c_id"], (m["c_label"] or "").strip())
        )
        found.setdefault((mention.kind, mention.id), mention)
        if len(found) >= limit:
            break
    return tuple(found.values())
