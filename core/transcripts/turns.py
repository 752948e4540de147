"""Tidying parsed turns, the same for every format: strip markup, collapse whitespace, merge, drop empties.

Only *formatting* tags are markup (``<b>``, ``<i>``, ``<font color=...>``, WebVTT ``<v Name>``, ``<c.x>``,
``<00:00:01.000>``...). The corpora's own markers (``<pause>``, ``<disfmarker>``, ``{vocalsound}``) are
words of the transcript and are kept, so the word count of what was said is preserved exactly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from core.meetings.records import Turn

_MARKUP = re.compile(
    r"""</?(?:[bius]|em|strong|sub|sup|ruby|rt)\s*>           # bare formatting tags
    |</?(?:c|v|lang)(?:\.[\w.-]+)?(?:\s[^<>]*)?>            # WebVTT class, voice and language spans
    |</?(?P<html>font|span|a|p|div)(?:\s[^<>=]*=[^<>]*)?\s*/?>  # HTML; attributes need "=" ("<a few>" is text)
    |<(?P<br>br)\s*/?>
    |<\d{1,3}(?::\d{2}){1,2}[.,]\d{3}>                      # WebVTT karaoke timestamps
    """,
    re.IGNORECASE | re.VERBOSE,
)
# Line breaks and paragraphs separate words; inline tags sit inside them ("<b>word</b>s" is one word).
_BLOCK_TAGS = frozenset({"br", "p", "div"})
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def _replace_tag(match: re.Match[str]) -> str:
    name = (match["html"] or match["br"] or "").lower()
    return " " if name in _BLOCK_TAGS else ""


def strip_markup(text: str) -> str:
    """``text`` without formatting tags; every other character, including ``<pause>``-style markers, kept."""
    return _MARKUP.sub(_replace_tag, text)


def collapse(text: str) -> str:
    """Single spaces between words; control characters (never words) become spaces."""
    return " ".join(_CONTROL.sub(" ", text).split())


def finalize(turns: Iterable[Turn], *, markup: bool = True) -> tuple[Turn, ...]:
    """Clean every turn, drop the empty ones and merge consecutive turns of the same named speaker.

    A merged turn keeps the start of its first part and the end of its last (falling back to whichever is
    known) and joins the texts with a space. Turns without a speaker are never merged: for speakerless
    text each paragraph (or cue) stays its own turn. ``markup=False`` is for parsers that already
    stripped tags before unescaping entities (WebVTT), so an escaped ``&lt;b&gt;`` stays text.
    """
    runs: list[tuple[str | None, list[Turn]]] = []  # joined once at the end: merging stays linear
    for turn in turns:
        text = collapse(strip_markup(turn.text) if markup else turn.text)
        if not text:
            continue
        speaker = collapse(strip_markup(turn.speaker) if markup else turn.speaker) if turn.speaker else ""
        cleaned = Turn(speaker=speaker or None, text=text, start=turn.start, end=turn.end)
        if runs and speaker and runs[-1][0] == speaker:
            runs[-1][1].append(cleaned)
        else:
            runs.append((cleaned.speaker, [cleaned]))
    return tuple(_merge(speaker, parts) for speaker, parts in runs)


def _merge(speaker: str | None, parts: list[Turn]) -> Turn:
    if len(parts) == 1:
        return parts[0]
    starts = [part.start for part in parts if part.start is not None]
    ends = [part.end for part in parts if part.end is not None]
    return Turn(
        speaker=speaker,
        text=" ".join(part.text for part in parts),
        start=starts[0] if starts else None,
        end=ends[-1] if ends else None,
    )
