"""Slack mrkdwn as HTML for the browser workspace. Pure.

Mentions, channels and user groups become names, ``<url|label>`` a link, ``:emoji_codes:`` the emoji,
``*bold*``/``_italic_``/``~strike~``/`` `code` ``/```` ```pre``` ```` their HTML; everything else is escaped.
Slack's own escapes (``&amp;``, ``&lt;``, ``&gt;``) are read as the characters they stand for.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping

import emoji
from markupsafe import Markup, escape

_ANGLE = re.compile(r"<([^<>]+)>")
_CODE_BLOCK = re.compile(r"```(.*?)```", re.DOTALL)
_CODE = re.compile(r"`([^`\n]+)`")
# Slack's rule: the marker hugs the text and is not part of a word (so 5 * 3 and snake_case stay).
_BOLD = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])")
_STRIKE = re.compile(r"(?<![\w~])~(?=\S)([^~\n]+?)(?<=\S)~(?![\w~])")
_EMOJI_CODE = re.compile(r":([a-z0-9_+\-]+):")
_PLACEHOLDER = re.compile(r"\x00(\d+)\x00")
#: Slack's names for emoji that the emoji package knows by another name.
SLACK_EMOJI_NAMES = {
    "large_green_circle": "green_circle",
    "large_yellow_circle": "yellow_circle",
    "large_orange_circle": "orange_circle",
    "large_purple_circle": "purple_circle",
    "large_brown_circle": "brown_circle",
    "spiral_note_pad": "spiral_notepad",
}


def emojize(text: str) -> str:
    """``:code:`` -> the emoji wherever the name is known (Slack's aliases included); others stay as typed."""

    def one(match: re.Match[str]) -> str:
        name = SLACK_EMOJI_NAMES.get(match.group(1), match.group(1))
        shown = emoji.emojize(f":{name}:", language="alias")
        return match.group(0) if shown == f":{name}:" else shown

    return _EMOJI_CODE.sub(one, text)


#: A link into the workspace itself (``chat.getPermalink``): ``https://<team>.slack.com/archives/C…/p…``.
PERMALINK = re.compile(
    r"https://[a-z0-9-]+\.slack\.com/archives/([A-Z0-9]+)/p(\d+)(\d{6})(?:\?thread_ts=([\d.]+))?(?:[&#]|$)"
)


def _entity(
    inner: str, users: Mapping[str, str], channels: Mapping[str, str], local_link: Callable[[str, str], str] | None
) -> Markup:
    """One ``<…>`` of Slack's markup as HTML."""
    target, _, label = inner.partition("|")
    label = html.unescape(label)
    if target.startswith("@"):
        name = users.get(target[1:], target[1:])
        return Markup('<span class="mention">@{}</span>').format(name)
    if target.startswith("#"):
        return Markup('<span class="mention">#{}</span>').format(label or channels.get(target[1:], target[1:]))
    if target.startswith("!subteam^"):
        return Markup('<span class="mention">{}</span>').format(label or "@" + target[9:])
    if target.startswith("!date^"):
        return Markup("{}").format(label)
    if target.startswith("!"):
        return Markup('<span class="mention">@{}</span>').format(target[1:])
    url = html.unescape(target)
    if not re.match(r"(?:https?|mailto):", url):
        return escape(f"<{inner}>")
    permalink = PERMALINK.match(url)
    if permalink and local_link is not None:  # a message of this workspace: open it here, as Slack does
        channel, seconds, micros, thread = permalink.groups()
        return Markup('<a href="{}">{}</a>').format(local_link(channel, thread or f"{seconds}.{micros}"), label or url)
    return Markup('<a href="{}" target="_blank" rel="noopener">{}</a>').format(url, label or url)


def to_html(
    text: str,
    *,
    users: Mapping[str, str],
    channels: Mapping[str, str],
    local_link: Callable[[str, str], str] | None = None,
) -> Markup:
    """``text`` (Slack mrkdwn) as safe HTML; line breaks kept.

    ``local_link(channel, thread_ts)`` makes the page address for a permalink into this workspace.
    """
    saved: list[Markup] = []

    def keep(rendered: Markup) -> str:
        saved.append(rendered)
        return f"\x00{len(saved) - 1}\x00"

    def code(tag: str) -> Callable[[re.Match[str]], str]:
        return lambda m: keep(Markup(f"<{tag}>{{}}</{tag}>").format(html.unescape(m.group(1))))

    # Code first: markup inside it is shown as typed; then Slack's <…> entities, then the inline styles.
    text = _CODE_BLOCK.sub(code("pre"), text.replace("\x00", ""))
    text = _CODE.sub(code("code"), text)
    text = _ANGLE.sub(lambda m: keep(_entity(m.group(1), users, channels, local_link)), text)
    body = str(escape(html.unescape(text)))
    body = _BOLD.sub(r"<b>\1</b>", body)
    body = _ITALIC.sub(r"<i>\1</i>", body)
    body = _STRIKE.sub(r"<s>\1</s>", body)
    lines = emojize(body).split("\n")
    parts: list[str] = []
    for index, line in enumerate(lines):
        if line.startswith("&gt;"):  # a quote, as in Slack: a block of its own, so no line break after it
            parts.append(f'<span class="quote">{line[4:].removeprefix(" ")}</span>')
        else:
            parts.append(line + ("<br>" if index < len(lines) - 1 else ""))
    body = "".join(parts)
    return Markup(_PLACEHOLDER.sub(lambda m: str(saved[int(m.group(1))]), body))


def plain_to_html(text: str, *, emoji_codes: bool = True) -> Markup:
    """A ``plain_text`` object's text: escaped, with ``:emoji:`` shown when the object asks for it."""
    shown = str(escape(text))
    return Markup(emojize(shown) if emoji_codes else shown)
