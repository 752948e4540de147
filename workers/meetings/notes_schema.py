"""The shape of meeting notes as the model writes them, how they are checked against the transcript, and
the small pieces of data the meeting prompts are given (part notes, the speaker list, repair problems).

The model's JSON is parsed with pydantic (:class:`NotesReply`); unknown fields are refused, missing
optional ones are fine. Parsed notes are then *cleaned*, which never asks the model again:

- texts are trimmed, clipped and de-duplicated, and lists cut to their caps (:class:`Caps`);
- evidence must point at a turn the model could see: an invalid turn number drops the evidence. A
  quote not found in its turn is looked for in the turns around it (±3); not found there either, the
  turn's own opening words become the quote, so a quote shown to people is always real text;
- an owner given as "I" or "me" becomes the speaker of the evidence turn;
- due dates come from :func:`core.dates.resolve_due` on the spoken words; the model's own ISO
  date is only used when the words do not resolve, and only within two years of the meeting.
"""

from __future__ import annotations

import json
import re
from collections.abc import Container, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.context_budget import estimate_tokens
from core.dates import resolve_due
from core.meetings.records import ActionItem, Decision, Evidence, MeetingNotes, Turn
from core.planning.checks import validation_problems

SCHEMA_NAME = "baton_meeting_notes"
TASK_MAX_CHARS = 200
TEXT_MAX_CHARS = 300  # summary bullets, decisions, open questions
QUOTE_MAX_CHARS = 200
OWNER_MAX_CHARS = 80
DUE_TEXT_MAX_CHARS = 100
#: How many turns either side of the cited one a quote is looked for in.
QUOTE_SEARCH_TURNS = 3
#: A model-given ISO due date further than this from the meeting is not believed.
DUE_MAX_DISTANCE = timedelta(days=731)
#: How many problems a repair prompt lists, and how long each may be.
MAX_PROBLEMS = 20
PROBLEM_MAX_CHARS = 300
#: Speakers named in a prompt (a webinar can have hundreds), and how long each name may be.
MAX_SPEAKERS = 40
SPEAKER_MAX_CHARS = 60

_SELF = frozenset({"i", "me", "myself", "i'll", "i will"})
# Transcription markers that are not words people said: <disfmarker>, <pause>, {vocalsound}.
_MARKER = re.compile(r"<[^<>\s][^<>]{0,40}>|\{[^{}]{0,40}\}")
_WORD = re.compile(r"\w+")
_ELLIPSIS = re.compile(r"\.\.\.+|…")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DecisionReply(_Strict):
    text: str = Field(min_length=1)
    evidence_turn: int | None = None
    evidence_quote: str | None = None


class ActionItemReply(_Strict):
    task: str = Field(min_length=1)
    owner_name: str | None = None
    due_text: str | None = None
    due: str | None = None  # YYYY-MM-DD
    evidence_turn: int | None = None
    evidence_quote: str | None = None


class NotesReply(_Strict):
    """Notes as the model writes them (per part, per merge and final notes share this shape)."""

    summary: list[str] = Field(default_factory=list)
    decisions: list[DecisionReply] = Field(default_factory=list)
    open_questions: list[str] = Field(default_factory=list)
    action_items: list[ActionItemReply] = Field(default_factory=list)


#: What ``response_format`` asks for (non-strict structured output).
NOTES_JSON_SCHEMA: dict[str, Any] = NotesReply.model_json_schema()


@dataclass(frozen=True)
class Caps:
    """How many entries of each list are kept."""

    summary: int
    decisions: int
    open_questions: int
    action_items: int


#: Notes of one part of a meeting (the prompt asks for these limits too).
PART_CAPS = Caps(summary=6, decisions=10, open_questions=5, action_items=15)
#: Merged and final notes.
FINAL_CAPS = Caps(summary=12, decisions=20, open_questions=10, action_items=30)


@dataclass(frozen=True)
class PartNotes:
    """Cleaned notes of turns ``first_turn`` to ``last_turn`` (one chunk, or a merge of several), as a merge
    prompt shows them."""

    first_turn: int
    last_turn: int
    notes: NotesReply

    def as_data(self) -> dict[str, Any]:
        return {"turns": f"{self.first_turn}-{self.last_turn}", **self.notes.model_dump(exclude_none=True)}

    def tokens(self) -> int:
        # Rendered as the merge prompt's to_json filter renders it.
        return estimate_tokens(json.dumps(self.as_data(), sort_keys=True, ensure_ascii=False))


def parse_notes(data: dict[str, Any] | None, *, error: str | None = None) -> NotesReply | list[str]:
    """The reply's notes, or the problems to quote in a repair prompt."""
    if data is None:
        return [f"your reply must be one JSON object and nothing else ({error or 'not JSON'})"]
    try:
        return NotesReply.model_validate(data)
    except ValidationError as err:
        return validation_problems(err)


def clean_notes(notes: NotesReply, *, turns: Sequence[Turn], visible: Container[int], caps: Caps) -> NotesReply:
    """``notes`` trimmed, de-duplicated, capped, with evidence checked (see the module docstring).

    ``visible`` holds the turn numbers the model was shown: evidence pointing elsewhere is dropped.
    """
    decisions: dict[str, DecisionReply] = {}
    for decision in notes.decisions:
        text = _clip(decision.text, TEXT_MAX_CHARS)
        key = _words(text)
        if key and key not in decisions:
            turn, quote = _evidence(decision.evidence_turn, decision.evidence_quote, turns, visible)
            decisions[key] = DecisionReply(text=text, evidence_turn=turn, evidence_quote=quote)
    items: dict[str, ActionItemReply] = {}
    for item in notes.action_items:
        task = _clip(item.task, TASK_MAX_CHARS)
        key = _words(task)
        if not key or key in items:
            continue
        turn, quote = _evidence(item.evidence_turn, item.evidence_quote, turns, visible)
        items[key] = ActionItemReply(
            task=task,
            owner_name=_owner(item.owner_name, turns[turn] if turn is not None else None),
            due_text=_clip_or_none(item.due_text, DUE_TEXT_MAX_CHARS),
            due=_clip_or_none(item.due, DUE_TEXT_MAX_CHARS),
            evidence_turn=turn,
            evidence_quote=quote,
        )
    return NotesReply(
        summary=_texts(notes.summary, TEXT_MAX_CHARS)[: caps.summary],
        decisions=list(decisions.values())[: caps.decisions],
        open_questions=_texts(notes.open_questions, TEXT_MAX_CHARS)[: caps.open_questions],
        action_items=list(items.values())[: caps.action_items],
    )


def to_meeting_notes(notes: NotesReply, *, turns: Sequence[Turn], meeting_date: date) -> MeetingNotes:
    """Cleaned final notes as :class:`MeetingNotes`, with due dates resolved against ``meeting_date``."""
    return MeetingNotes(
        summary=tuple(notes.summary),
        decisions=tuple(
            Decision(text=d.text, evidence=_as_evidence(d.evidence_turn, d.evidence_quote, turns))
            for d in notes.decisions
        ),
        open_questions=tuple(notes.open_questions),
        action_items=tuple(
            ActionItem(
                task=item.task,
                owner_name=item.owner_name,
                due=due_date(item.due_text, item.due, meeting_date=meeting_date),
                due_text=item.due_text,
                evidence=_as_evidence(item.evidence_turn, item.evidence_quote, turns),
            )
            for item in notes.action_items
        ),
        mode="llm",
    )


def due_date(due_text: str | None, due_iso: str | None, *, meeting_date: date) -> date | None:
    """The due date from the spoken words; else the model's ISO date if it parses and is plausible."""
    resolved = resolve_due(due_text, meeting_date) if due_text else None
    if resolved is not None or not due_iso:
        return resolved
    try:
        given = date.fromisoformat(due_iso.strip())
    except ValueError:
        return None
    return given if abs(given - meeting_date) <= DUE_MAX_DISTANCE else None


def quote_in(quote: str, text: str) -> bool:
    """True when ``quote`` occurs in ``text`` ignoring case, punctuation, spacing and transcription markers;
    a quote shortened with an ellipsis matches when each of its fragments occurs."""
    haystack = f" {_words(text)} "
    fragments = [f for f in (_words(part) for part in _ELLIPSIS.split(quote)) if f]
    return bool(fragments) and all(f" {fragment} " in haystack for fragment in fragments)


def speakers_for_prompt(names: Sequence[str]) -> list[str]:
    """The speaker list a prompt shows: at most :data:`MAX_SPEAKERS` names, each clipped."""
    shown = [_clip(" ".join(name.split()), SPEAKER_MAX_CHARS) for name in names[:MAX_SPEAKERS]]
    if len(names) > MAX_SPEAKERS:
        shown.append(f"… and {len(names) - MAX_SPEAKERS} more")
    return shown


def limit_problems(problems: list[str]) -> list[str]:
    """The problems a repair prompt quotes: at most :data:`MAX_PROBLEMS`, each clipped."""
    shown = [_clip(problem, PROBLEM_MAX_CHARS) for problem in problems[:MAX_PROBLEMS]]
    if len(problems) > MAX_PROBLEMS:
        shown.append(f"… and {len(problems) - MAX_PROBLEMS} more problems")
    return shown


def _evidence(
    index: int | None, quote: str | None, turns: Sequence[Turn], visible: Container[int]
) -> tuple[int | None, str | None]:
    """The checked ``(turn, quote)``, or ``(None, None)`` when ``index`` is not a turn the model saw."""
    if index is None or not 0 <= index < len(turns) or index not in visible:
        return None, None
    quote = " ".join((quote or "").split())
    if quote:
        nearby = sorted(range(index - QUOTE_SEARCH_TURNS, index + QUOTE_SEARCH_TURNS + 1), key=lambda j: abs(j - index))
        candidates = [j for j in nearby if 0 <= j < len(turns) and j in visible]
        for j in candidates:
            if quote_in(quote, turns[j].text):
                return j, _clip(quote, QUOTE_MAX_CHARS)
        # A sentence often runs over several short turns (one per dialogue act): try it from each start.
        for j in candidates:
            following = [turns[k].text for k in range(j, min(j + QUOTE_SEARCH_TURNS, len(turns))) if k in visible]
            if quote_in(quote, " ".join(following)):
                return j, _clip(quote, QUOTE_MAX_CHARS)
    return index, _clip(turns[index].text, QUOTE_MAX_CHARS) or None


def _as_evidence(index: int | None, quote: str | None, turns: Sequence[Turn]) -> Evidence | None:
    if index is None or quote is None or not 0 <= index < len(turns):
        return None
    return Evidence(quote=quote, turn=index, at=turns[index].start)


def _owner(name: str | None, turn: Turn | None) -> str | None:
    owner = _clip_or_none(name, OWNER_MAX_CHARS)
    if owner is not None and owner.casefold() in _SELF:
        return _clip_or_none(turn.speaker, OWNER_MAX_CHARS) if turn is not None else None
    return owner


def _texts(texts: Sequence[str], limit: int) -> list[str]:
    kept: dict[str, str] = {}
    for text in texts:
        clipped = _clip(text, limit)
        key = _words(clipped)
        if key:
            kept.setdefault(key, clipped)
    return list(kept.values())


def _words(text: str) -> str:
    return " ".join(_WORD.findall(_MARKER.sub(" ", text).casefold()))


def _clip_or_none(text: str | None, limit: int) -> str | None:
    if text is None:
        return None
    return _clip(text, limit) or None


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
