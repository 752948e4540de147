"""Text a model wrote (or an error quoting it), made fit to show a person in Slack.

A model may echo what it was given: the ``<untrusted_…>`` delimiters that fence people's text in our
prompts (also in the defused ``‹untrusted_…>`` form the prompts use inside them), or a channel-wide
ping it copied from a thread. :func:`for_people` drops the former, turns the latter into plain words and
clips the rest, so nothing meant for the model, and no @channel or group ping, reaches a Slack message.
"""

from __future__ import annotations

import re

from slackui.limits import clip

#: An opening or closing prompt delimiter, as written or as ``prompts.neutralise`` defuses it.
_DELIMITER = re.compile(r"[<‹]\s*/?\s*untrusted[a-z0-9_]*\s*>", re.IGNORECASE)
#: A channel-wide mention, with or without a label (``<!here|here>``).
_BROADCAST = re.compile(r"<!(channel|here|everyone)[^>]*>", re.IGNORECASE)
#: A user-group mention (``<!subteam^S0123|@eng>``): pings everyone in the group.
_GROUP = re.compile(r"<!subteam\^[A-Z0-9]+(?:\|@?([^>]*))?>", re.IGNORECASE)


def for_people(text: str, *, limit: int) -> str:
    """``text`` without prompt delimiters or channel-wide pings, whitespace tidied, clipped to ``limit``."""
    text = _DELIMITER.sub(" ", text)
    text = _BROADCAST.sub(lambda m: "@" + m.group(1).lower(), text)
    text = _GROUP.sub(lambda m: "@" + (m.group(1) or "group"), text)
    return clip(re.sub(r"[ \t]{2,}", " ", text).strip(), limit)



#: A channel or person reference Slack renders as a name: ``<#C0OPS>``, ``<#C0OPS|ops>``, ``<@U0BOB>``.
_REF = re.compile(r"<([#@])([CGDUW][A-Z0-9]{2,})(?:\|([^<>|]*))?>")


def readable_refs(text: str) -> str:
    """Channel and person references as words, for places Slack shows text as it is (``plain_text``, a link's
    label): ``<#C0OPS|ops>`` -> ``#ops``, ``<@U0BOB|bob>`` -> ``@bob``, and the bare id when no name came with it."""
    return _REF.sub(lambda m: m.group(1) + (m.group(3) or m.group(2)), text)


def inert_mrkdwn(text: str) -> str:
    """Text a person or a model wrote, made safe for ``mrkdwn`` without losing its channel and person references:
    channel-wide and group pings become words, ``&``, ``<`` and ``>`` are escaped (no link, no formatting
    trick), and only ``<#C…>`` / ``<@U…>`` references are left for Slack to show as names."""
    text = _BROADCAST.sub(lambda m: "@" + m.group(1).lower(), text)
    text = _GROUP.sub(lambda m: "@" + (m.group(1) or "group"), text)
    kept: list[str] = []
    last = 0
    for match in _REF.finditer(text):
        kept += [_escape(text[last:match.start()]), f"<{match.group(1)}{match.group(2)}>"]
        last = match.end()
    return "".join([*kept, _escape(text[last:])])


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
