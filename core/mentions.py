"""Slack mentions in a request: removing Baton's own, and listing the people and channels it names.

Slack sends a mention as ``<@U123>`` (or ``<@U123|name>``) and a channel as ``<#C123>`` (or
``<#C123|general>``). A request keeps every mention but Baton's own: "create a task for @bob" must
still name Bob when it is planned, and the id is what a connector needs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
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


def with_names(text: str, names: Mapping[str, str]) -> str:
    """``text`` with a name in each reference that carries none and whose id ``names`` knows (``<#C0OPS>`` ->
    ``<#C0OPS|ops>``, ``<@U0BOB>`` -> ``<@U0BOB|Bob Example>``). Slack shows either form as the name in mrkdwn;
    the named form can also be read where Slack shows text as it is (a plain-text header)."""

    def named(match: re.Match[str]) -> str:
        whole, sigil, ident, label = match.group(0), match.group(1), match.group(2), match.group(3)
        return f"<{sigil}{ident}|{names[ident]}>" if not label and names.get(ident) else whole

    return _BARE_REF.sub(named, text)


_BARE_REF = re.compile(r"<([#@])([CGDUW][A-Z0-9]+)(?:\|([^>]*))?>")
