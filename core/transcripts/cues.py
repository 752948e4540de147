"""WebVTT (Zoom and Teams styles) and SRT: blocks of an optional id, a timing line and cue text.

Both are read by one parser because they differ only in details: WebVTT has a ``WEBVTT`` header, NOTE /
STYLE / REGION blocks, ``<v Name>`` voice spans and escaped ``&amp; &lt; &gt;``; SRT numbers its cues and
writes ``00:00:01,000``. Speakers come from voice spans (Teams) or a ``Name: text`` prefix (Zoom, SRT).

A cue whose timing line is malformed (``00:00:xx.000 --> ...``, no arrow, no timing line at all) keeps its
text with ``start``/``end`` of ``None`` and is counted in a note: losing words is worse than losing times.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from core.meetings.records import Turn
from core.transcripts.speakers import looks_like_name, split_label
from core.transcripts.timestamps import parse_clock
from core.transcripts.turns import finalize, strip_markup

_SKIPPED_BLOCKS = re.compile(r"^(?:NOTE|STYLE|REGION)(?:\s|$)")
_VOICE = re.compile(r"<v(?:\.[\w.-]+)?(?:\s+([^>]*))?>", re.IGNORECASE)
# A timing line that lost its arrow ("00:00:05.000 00:00:06.000", "00:00:05,000 - 00:00:06,000").
_ARROWLESS_TIMING = re.compile(r"\d[\d:.,]*(?:[ \t]*(?:-+>?|–)[ \t]*|[ \t]+)\d[\d:.,]*(?:[ \t].*)?")


@dataclass(frozen=True)
class CueParse:
    """Turns read from a cue file, and notes about what was odd in it."""

    turns: tuple[Turn, ...]
    notes: tuple[str, ...]


def parse_cues(text: str, *, webvtt: bool, name_lines: bool = False) -> CueParse:
    """Turns of a WebVTT (``webvtt=True``) or SRT document, merged and cleaned.

    ``name_lines`` reads a cue's first line as the speaker when it is only a name (old Teams ``.docx``
    exports write ``0:0:0.0 --> 0:0:4.4``, then ``Smith, John``, then the words); off for subtitles, whose
    first line is often a short capitalised phrase.
    """
    turns: list[Turn] = []
    malformed = 0
    for block in _blocks(text, webvtt=webvtt):
        for cue in _split_cues(block):
            start, end = _parse_timing(cue.timing) if cue.timing is not None else (None, None)
            malformed += start is None and not cue.stray
            segments = _segments(cue.lines, webvtt=webvtt, name_lines=name_lines)
            if cue.timing is None and segments and segments[0][0] is None and turns:
                # Text with no timing most often continues the cue above (a blank line inside its text).
                segments[0] = (turns[-1].speaker, segments[0][1])
            turns.extend(Turn(speaker, words, start, end) for speaker, words in segments)
    notes = []
    if malformed:
        if malformed == 1:
            notes.append("1 cue had a malformed timestamp; its text was kept.")
        else:
            notes.append(f"{malformed} cues had malformed timestamps; their text was kept.")
    return CueParse(finalize(turns, markup=False), tuple(notes))


def _blocks(text: str, *, webvtt: bool) -> list[list[str]]:
    blocks: list[list[str]] = []
    current: list[str] = []
    for line in text.splitlines():
        if line.strip():
            current.append(line.strip())
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    if webvtt and blocks and blocks[0][0].lstrip("\ufeff").startswith("WEBVTT"):
        # Header metadata ("Kind: captions") is dropped, unless a cue follows it without a blank line.
        header = blocks.pop(0)
        timing = next((i for i, line in enumerate(header) if "-->" in line), None)
        if timing is not None:
            blocks.insert(0, header[max(1, timing - 1) :])
    if webvtt:
        blocks = [block for block in blocks if "-->" in block[0] or not _SKIPPED_BLOCKS.match(block[0])]
    return blocks


@dataclass(frozen=True)
class _Cue:
    """Text lines of one cue and its timing line (``None`` if it has none); ``stray`` is text outside any cue."""

    lines: list[str]
    timing: str | None
    stray: bool = False


def _split_cues(block: list[str]) -> list[_Cue]:
    """The cues in a block: usually one, several if the blank lines between cues are missing."""
    timings = [i for i, line in enumerate(block) if "-->" in line]
    if not timings:
        # No arrow: a timing line that lost it, else a cue id with no timing, else stray text.
        arrowless = next((i for i in (0, 1) if i < len(block) and _is_arrowless_timing(block[i])), None)
        if arrowless is not None:
            return [_Cue(block[arrowless + 1 :], block[arrowless])]
        if len(block) > 1 and _is_cue_id(block[0]):
            return [_Cue(block[1:], None)]
        return [_Cue(block, None, stray=True)]
    cues: list[_Cue] = []
    # The line before the first timing line is the cue id; anything above it is stray text.
    if timings[0] > 1:
        cues.append(_Cue(block[: timings[0] - 1], None, stray=True))
    for n, index in enumerate(timings):
        stop = timings[n + 1] if n + 1 < len(timings) else len(block)
        if stop < len(block) and stop - 1 > index and _is_cue_id(block[stop - 1]):
            stop -= 1  # the next cue's id, written without a blank line before it
        cues.append(_Cue(block[index + 1 : stop], block[index]))
    return cues


def _is_arrowless_timing(line: str) -> bool:
    return ":" in line and _ARROWLESS_TIMING.fullmatch(line) is not None


def _is_cue_id(line: str) -> bool:
    """An SRT number or a WebVTT cue id: one token with a digit ("12", "ES2002d.B.dialog-act.1", "<guid>/12-0")."""
    return not any(char.isspace() for char in line) and any(char.isdigit() for char in line)


def _parse_timing(line: str) -> tuple[float | None, float | None]:
    """(start, end) in seconds, or (None, None) if either side is malformed; cue settings are ignored."""
    parts = line.split("-->")
    if len(parts) != 2 or not parts[1].split():
        return None, None
    start, end = parse_clock(parts[0]), parse_clock(parts[1].split()[0])
    if start is None or end is None:
        return None, None
    return start, end


def _segments(lines: list[str], *, webvtt: bool, name_lines: bool) -> list[tuple[str | None, str]]:
    """(speaker, text) pieces of one cue's text: one per voice span or ``Name:`` line."""
    raw = "\n".join(lines)
    voices = list(_VOICE.finditer(raw))
    pieces: list[tuple[str | None, str]] = []
    if voices:
        before = raw[: voices[0].start()]
        pieces.extend(_labelled(_plain(before, webvtt), name_lines=False))
        for n, voice in enumerate(voices):
            stop = voices[n + 1].start() if n + 1 < len(voices) else len(raw)
            speaker = _plain(voice[1] or "", webvtt).strip() or None
            pieces.append((speaker, _plain(raw[voice.end() : stop], webvtt)))
        return pieces
    return _labelled(_plain(raw, webvtt), name_lines=name_lines)


def _plain(text: str, webvtt: bool) -> str:
    # Tags go before entities are unescaped: "&lt;pause&gt;" is a word of the transcript, "<i>" is markup.
    text = strip_markup(text)
    return html.unescape(text) if webvtt else text


def _labelled(text: str, *, name_lines: bool) -> list[tuple[str | None, str]]:
    """Split cue text at ``Name: text`` lines (or, with ``name_lines``, a first line that is only a name)."""
    lines = [line for line in text.splitlines() if line.strip()]
    if name_lines and len(lines) > 1 and split_label(lines[0]) is None and looks_like_name(lines[0]):
        return [(lines[0].strip(), " ".join(lines[1:]))]
    pieces: list[tuple[str | None, str]] = []
    for line in lines:
        label = split_label(line)
        if label is not None:
            pieces.append((label.speaker, label.text))
        elif pieces:
            pieces[-1] = (pieces[-1][0], f"{pieces[-1][1]} {line}")
        else:
            pieces.append((None, line))
    return pieces
