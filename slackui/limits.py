"""Slack's Block Kit limits, and the one way Baton cuts text to fit them.

Slack refuses a whole message when one field is too long, so every builder clips with these, marking the
cut with "…" (and, where it helps, where to read the rest).
"""

from __future__ import annotations

import re
from typing import Any

#: Characters in a section's (or a context element's) text.
SECTION_TEXT = 3000
#: Characters in a header.
HEADER_TEXT = 150
#: Characters of a message's top-level ``text`` Baton sends (Slack truncates at 40,000).
MESSAGE_TEXT = 39_000
#: Blocks in one message.
MAX_BLOCKS = 50
#: Blocks in one modal view.
MODAL_BLOCKS = 100

#: An HTML entity or a ``<…>`` link or mention left open at the end of a cut.
_PARTIAL_TAIL = re.compile(r"(&[a-z]*|<[^>]*)$")


def clip(text: str, limit: int, *, more: str = "") -> str:
    """``text`` cut to ``limit`` characters, marking the cut (and where to read the rest)."""
    if len(text) <= limit:
        return text
    tail = f"… {more}" if more else "…"
    return text[: max(0, limit - len(tail))] + tail


def clip_mrkdwn(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` without leaving half an entity (``&am``) or half a link or mention."""
    if len(text) <= limit:
        return text
    return _PARTIAL_TAIL.sub("", text[: limit - 1]) + "…"


def plain(text: str, limit: int) -> dict[str, Any]:
    """A ``plain_text`` object, clipped to ``limit``."""
    return {"type": "plain_text", "text": clip(text, limit), "emoji": True}


def mrkdwn(text: str, limit: int = SECTION_TEXT) -> dict[str, Any]:
    """A ``mrkdwn`` text object, clipped to ``limit``."""
    return {"type": "mrkdwn", "text": clip(text, limit)}
