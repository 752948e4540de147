"""Every user-facing string, in one place."""

from __future__ import annotations

import re

_MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")

DEGRADED_NOTICE = (
    "_Degraded mode: no language model is configured, so I can only handle simple requests. "
    "An operator can set OPENAI_API_KEY (or OPENAI_BASE_URL) to enable planning._"
)


def strip_mentions(text: str) -> str:
    """The request text without ``<@U…>`` mention tokens and surrounding whitespace."""
    return _MENTION.sub("", text).strip()


def quote(text: str, *, limit: int = 500) -> str:
    """Quote user text safely for a reply: bounded length, no pings, block-quoted."""
    clipped = text if len(text) <= limit else text[: limit - 1] + "…"
    clipped = (
        clipped.replace("<!channel>", "@channel")
        .replace("<!here>", "@here")
        .replace("<!everyone>", "@everyone")
    )
    return "\n".join("> " + line for line in clipped.splitlines() or [""])


def mention_received(*, user_id: str, request: str, llm_configured: bool) -> str:
    """Baton's reply to an @mention: what it heard and which mode it runs in."""
    if not request:
        return (
            f"Hi <@{user_id}>! Tell me what you need after the mention, for example "
            "`@Baton post the release notes to #general`."
        )
    lines = [f"On it, <@{user_id}>. I recorded your request:", quote(request)]
    if not llm_configured:
        lines.append(DEGRADED_NOTICE)
    return "\n".join(lines)
