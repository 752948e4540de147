"""Plain data for meetings: a parsed transcript, and the notes Baton takes from it.

A :class:`Transcript` is what every file format parses into (``core.transcripts``); :class:`MeetingNotes`
is what the model (or the degraded-mode extractor, ``core.meetings.extract``) makes of it. Evidence always
points back into the transcript by turn index, so a reader can check every action item and decision.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

NotesMode = Literal["llm", "extractive"]


@dataclass(frozen=True)
class Turn:
    """What one speaker said without interruption; times are seconds from the start, when known."""

    speaker: str | None
    text: str
    start: float | None = None
    end: float | None = None

    @property
    def words(self) -> int:
        return len(self.text.split())


@dataclass(frozen=True)
class Transcript:
    """A meeting transcript: turns in order, and how the file was read."""

    turns: tuple[Turn, ...]
    format: str  # "vtt", "srt", "text", "json", "docx"
    encoding: str  # e.g. "utf-8", "utf-16", "cp1252", "mixed"
    #: Things a reader should know (e.g. "3 cues had malformed timestamps; their text was kept").
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def has_speakers(self) -> bool:
        return any(turn.speaker for turn in self.turns)

    @property
    def speakers(self) -> tuple[str, ...]:
        """Distinct speaker names in order of first appearance."""
        seen: dict[str, None] = {}
        for turn in self.turns:
            if turn.speaker:
                seen.setdefault(turn.speaker, None)
        return tuple(seen)

    @property
    def words(self) -> int:
        return sum(turn.words for turn in self.turns)

    @property
    def duration_seconds(self) -> float | None:
        ends = [t.end for t in self.turns if t.end is not None]
        starts = [t.start for t in self.turns if t.start is not None]
        if not ends or not starts:
            return None
        return max(ends) - min(starts)


@dataclass(frozen=True)
class Evidence:
    """A quote from the transcript and where it is: the turn index and, when known, its start time."""

    quote: str
    turn: int
    at: float | None = None


@dataclass(frozen=True)
class ActionItem:
    """Something someone is to do. ``owner_name`` is as spoken (mapped to a Slack user later)."""

    task: str
    owner_name: str | None = None
    due: date | None = None
    due_text: str | None = None  # the words the due date came from ("by Friday")
    evidence: Evidence | None = None


@dataclass(frozen=True)
class Decision:
    """Something the meeting decided."""

    text: str
    evidence: Evidence | None = None


@dataclass(frozen=True)
class MeetingNotes:
    """Summary bullets, decisions, open questions and action items of one meeting."""

    summary: tuple[str, ...]
    decisions: tuple[Decision, ...]
    open_questions: tuple[str, ...]
    action_items: tuple[ActionItem, ...]
    mode: NotesMode
