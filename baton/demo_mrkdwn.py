"""Slack mrkdwn as terminal text, for ``baton demo``. Pure.

Mentions, channels and user groups become names; ``<url|label>`` becomes its label (and the URL, unless it
points at this machine, where nothing outlives the demo); ``:emoji_codes:`` become the emoji; ``*bold*``
becomes bold on a terminal that shows it (plain otherwise), ``_italic_`` and ``~strike~`` plain text.
Code spans are left as they are.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from localslack.web.mrkdwn import emojize

_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL = re.compile(r"<#([CDG][A-Z0-9]+)(?:\|([^>]*))?>")
_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<!(here|channel|everyone)(?:\|[^>]*)?>")
_SUBTEAM = re.compile(r"<!subteam\^([A-Z0-9]+)(?:\|([^>]*))?>")
_DATE = re.compile(r"<!date\^\d+\^[^|>]*\|([^>]*)>")
_CODE = re.compile(r"(```.*?```|`[^`\n]*`)", re.DOTALL)
# Slack's rule: the marker hugs the text and is not part of a word (so 5 * 3 and snake_case stay).
_BOLD = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])")
_STRIKE = re.compile(r"(?<![\w~])~(?=\S)([^~\n]+?)(?<=\S)~(?![\w~])")
_LOOPBACK = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}
_BOLD_ON, _OFF = "\033[1m", "\033[0m"


def plain(
    text: str,
    *,
    users: Mapping[str, str],
    channels: Mapping[str, str],
    ansi: bool = False,
    local_urls: tuple[str, ...] = (),
) -> str:
    """``text`` (Slack mrkdwn) readable in a terminal; ``ansi`` shows bold as bold instead of plain.

    Links starting with one of ``local_urls`` (e.g. the local workspace's own ``https://<team>.slack.com/``,
    which exists nowhere) are shown by their label only, like links to this machine.
    """
    parts = _CODE.split(text)
    # Odd indexes are code spans: markup inside them is shown as typed.
    return "".join(
        part if index % 2 else _outside_code(part, users, channels, ansi, local_urls)
        for index, part in enumerate(parts)
    )


def _outside_code(
    text: str, users: Mapping[str, str], channels: Mapping[str, str], ansi: bool, local_urls: tuple[str, ...]
) -> str:
    text = _DATE.sub(lambda m: m.group(1), text)
    text = _USER.sub(lambda m: "@" + users.get(m.group(1), m.group(1)), text)
    text = _CHANNEL.sub(lambda m: "#" + (m.group(2) or channels.get(m.group(1), m.group(1))), text)
    text = _SUBTEAM.sub(lambda m: m.group(2) or "@" + m.group(1), text)
    text = _SPECIAL.sub(lambda m: "@" + m.group(1), text)
    text = _LINK.sub(lambda m: _link(m, local_urls), text)
    text = _BOLD.sub(lambda m: f"{_BOLD_ON}{m.group(1)}{_OFF}" if ansi else m.group(1), text)
    text = _ITALIC.sub(lambda m: m.group(1), text)
    text = _STRIKE.sub(lambda m: m.group(1), text)
    text = emojize(text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _link(match: re.Match[str], local_urls: tuple[str, ...]) -> str:
    url, label = match.group(1), match.group(2)
    if _is_loopback(url) or any(url.startswith(prefix) for prefix in local_urls if prefix):
        # The demo's own ports: closed once the demo ends, and no page there for a person anyway.
        return label or "(local link)"
    return f"{label} ({url})" if label else url


def _is_loopback(url: str) -> bool:
    try:
        return (urlsplit(url).hostname or "") in _LOOPBACK
    except ValueError:
        return False

