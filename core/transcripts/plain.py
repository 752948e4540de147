"""Plain-text transcripts: ``Name: text`` lines and their timestamped variants, or just paragraphs.

Recognised speaker lines (see :mod:`core.transcripts.speakers`)::

    Name: text                 Name (00:01:02): text        [00:01:02] Name: text
    00:01:02 Name: text        00:01:02 - Name: text        **Name:** text (Markdown)
    Name   0:00:03             (Teams / Otter: the words follow on the next lines)

A line without a label continues the turn above it (blank lines included); a line that is only a time
(``00:05:00``) starts the next turn at that time. Text with no labels at all is still a transcript: each
paragraph becomes a turn with no speaker, and a note says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.meetings.records import Turn
from core.transcripts.speakers import bare_clock, heading_label, split_label
from core.transcripts.turns import finalize

NO_SPEAKERS_NOTE = "No speaker names were found; each paragraph became a turn without a speaker."


@dataclass
class _Open:
    """A turn being read: lines are added until the next speaker (or, without a speaker, a blank line)."""

    speaker: str | None
    start: float | None
    lines: list[str] = field(default_factory=list)
    heading: bool = False  # opened by a "Name  0:03" line


@dataclass(frozen=True)
class TextParse:
    """Turns read from plain text, and notes about it."""

    turns: tuple[Turn, ...]
    notes: tuple[str, ...]


def parse_plain(text: str) -> TextParse:
    """Turns of a plain-text transcript, merged and cleaned; never fails on text without speakers."""
    turns: list[_Open] = []
    pending_start: float | None = None  # from a line that is only a time, for the turn after it
    paragraph_break = True
    found_speaker = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            paragraph_break = True
            continue
        clock = bare_clock(line)
        if clock is not None:
            pending_start, paragraph_break = clock, True
            continue
        # After a "Name  0:03" line the next line is that speaker's words, even if it looks like "Yes: ...".
        heading_open = bool(turns) and turns[-1].heading and not turns[-1].lines
        label = None if heading_open else split_label(line)
        heading = None if heading_open or label is not None else heading_label(line)
        if heading is not None:
            found_speaker = True
            turns.append(_Open(heading.speaker, heading.start, heading=True))
        elif label is not None:
            found_speaker = True
            start = label.start if label.start is not None else pending_start
            turns.append(_Open(label.speaker, start, [label.text] if label.text else []))
        elif not turns or (turns[-1].speaker is None and paragraph_break):
            turns.append(_Open(None, pending_start, [line]))
        else:
            turns[-1].lines.append(line)
        pending_start, paragraph_break = None, False
    parsed = finalize(Turn(turn.speaker, " ".join(turn.lines), turn.start) for turn in turns)
    notes = (NO_SPEAKERS_NOTE,) if parsed and not found_speaker else ()
    return TextParse(parsed, notes)
