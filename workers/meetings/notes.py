"""Meeting notes from a transcript, map-reduce style, so a meeting of any length fits any model context.

Map: the transcript is cut into chunks of at most ``chunk_budget_tokens`` (:mod:`core.meetings.chunks`)
and the cheap model writes notes for each (``prompts/meeting_chunk.j2``, purpose ``meeting_chunk``),
several at a time. Reduce: the chat model merges the part notes (``prompts/meeting_merge.j2``, purpose
``meeting_merge``). When the part notes together are larger than the budget they are merged in groups
first and the merges merged again, level by level, so no prompt carries much more than one budget of
meeting data. A meeting that fits in one chunk is read once, by the chat model (purpose
``meeting_notes``), with no merge: that is both cheaper and better than a map and a merge of one.

Every reply is parsed and cleaned by :mod:`workers.meetings.notes_schema` (evidence checked against the
transcript, due dates resolved against the meeting date, caps). A reply that is not valid JSON of the
right shape gets exactly one repair round-trip (``prompts/repair_meeting_notes.j2``, purpose
``<purpose>_repair``).

Degraded mode: with no model, a model that does not answer, or notes still invalid after the repair,
the whole meeting goes to the extractive note-taker (:func:`core.meetings.extract.extract_notes`) and
the outcome says why. Notes made from only the chunks that worked would silently lose the rest of the
meeting, so one failed chunk is enough to fall back.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cached_property, partial
from typing import Any, TypeVar

from core.context_budget import clip_text
from core.meetings.chunks import Chunk, chunk_turns, group_by_budget
from core.meetings.extract import extract_notes
from core.meetings.records import MeetingNotes, Transcript
from core.pricing import TokenUsage
from prompts import RenderedPrompt, render
from slackui.model_text import for_people
from slackui.replies import NO_MODEL_CONFIGURED
from workers.llm.client import Conversation, LLMClient, LLMUnavailable, why_without_model
from workers.meetings.notes_schema import (
    FINAL_CAPS,
    NOTES_JSON_SCHEMA,
    PART_CAPS,
    SCHEMA_NAME,
    Caps,
    NotesReply,
    PartNotes,
    clean_notes,
    limit_problems,
    parse_notes,
    speakers_for_prompt,
    to_meeting_notes,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Transcript text per map call, in estimated tokens; also the most part-notes data one merge call gets.
DEFAULT_CHUNK_BUDGET_TOKENS = 3_000
#: How much of a bad reply the repair prompt quotes back, in estimated tokens.
PREVIOUS_REPLY_MAX_TOKENS = 1_500

# Why the extractor stood in for the model (shown to people next to the notes).
WHY_NOT_CONFIGURED = NO_MODEL_CONFIGURED
WHY_INVALID = "the language model's notes were still invalid after one correction: {problem}"
WHY_EMPTY = "the transcript has no text"
#: A reply that validates but says nothing, while pattern matching finds items in the same meeting: treated like an
#: invalid reply (one repair round, then the extractor). Written for the model and, if the repair fails, the card.
EMPTY_NOTES = ("the notes are empty, but the transcript has {found} (found by pattern matching): write the "
               "summary, decisions and action items the meeting has")


@dataclass(frozen=True)
class NotesOutcome:
    """Notes of one meeting and what making them cost; ``degraded_reason`` is set when the extractor made them."""

    notes: MeetingNotes
    calls: int
    input_tokens: int
    output_tokens: int
    cost_usd: Decimal
    degraded_reason: str | None
    chunks: int


def take_notes(
    transcript: Transcript,
    *,
    llm: LLMClient | None,
    meeting_date: date,
    team_id: str,
    request_id: int | None = None,
    chunk_budget_tokens: int = DEFAULT_CHUNK_BUDGET_TOKENS,
    chat_model: str | None = None,
    cheap_model: str | None = None,
    max_parallel: int = 4,
) -> NotesOutcome:
    """Notes of ``transcript``; see the module docstring for the path it takes.

    ``chat_model`` (merges, one-chunk meetings) and ``cheap_model`` (chunks) default to ``llm.model``;
    at most ``max_parallel`` calls run at once. ``team_id`` and ``request_id`` label the LLM call log.
    """
    if not transcript.words:
        return _extracted(transcript, meeting_date=meeting_date, why=WHY_EMPTY, chunks=0)
    chunks = chunk_turns(transcript.turns, budget_tokens=chunk_budget_tokens)
    if llm is None:
        return _extracted(transcript, meeting_date=meeting_date, why=WHY_NOT_CONFIGURED, chunks=len(chunks))
    taking = _NotesTaking(
        llm,
        transcript=transcript,
        meeting_date=meeting_date,
        team_id=team_id,
        request_id=request_id,
        budget_tokens=chunk_budget_tokens,
        chat_model=chat_model or llm.model,
        cheap_model=cheap_model or llm.model,
        max_parallel=max_parallel,
    )
    try:
        notes = taking.run(chunks)
    except _NotesFailed as failed:
        log.warning("meeting notes fall back to the extractor: %s", failed.reason)
        return _extracted(transcript, meeting_date=meeting_date, why=failed.reason, chunks=len(chunks), taking=taking)
    log.info(
        "meeting notes: %d chunks, %d calls, %d input tokens", len(chunks), taking.calls, taking.usage.input_tokens
    )
    return _outcome(notes, taking=taking, why=None, chunks=len(chunks))


class _NotesFailed(Exception):
    """The model could not make the notes; ``reason`` says why, for the degraded outcome."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _NotesTaking:
    """One meeting's conversation with the model: map, reduce, usage and call count summed (thread-safe)."""

    def __init__(
        self,
        llm: LLMClient,
        *,
        transcript: Transcript,
        meeting_date: date,
        team_id: str,
        request_id: int | None,
        budget_tokens: int,
        chat_model: str,
        cheap_model: str,
        max_parallel: int,
    ) -> None:
        self.llm = llm
        self.turns = transcript.turns
        self.meeting_date = meeting_date
        self.team_id = team_id
        self.request_id = request_id
        self.budget_tokens = budget_tokens
        self.chat_model = chat_model
        self.cheap_model = cheap_model
        self.max_parallel = max(1, max_parallel)
        self.speakers = speakers_for_prompt(transcript.speakers)
        self.transcript = transcript
        self.calls = 0
        self.usage = TokenUsage()
        self._lock = threading.Lock()

    def run(self, chunks: Sequence[Chunk]) -> MeetingNotes:
        if len(chunks) == 1:
            [chunk] = chunks
            prompt = self._chunk_prompt(chunk, part=1, parts=1)
            notes = self._ask(
                "meeting_notes", prompt, model=self.chat_model, visible=chunk.turn_indexes, caps=FINAL_CAPS,
                final=True,
            )
        else:
            tasks = [partial(self._read, chunk, part=n, parts=len(chunks)) for n, chunk in enumerate(chunks, 1)]
            notes = self._reduce(self._parallel(tasks))
        return to_meeting_notes(notes, turns=self.turns, meeting_date=self.meeting_date)

    # -- map and reduce --------------------------------------------------------------------------------

    def _read(self, chunk: Chunk, *, part: int, parts: int) -> PartNotes:
        prompt = self._chunk_prompt(chunk, part=part, parts=parts)
        notes = self._ask("meeting_chunk", prompt, model=self.cheap_model, visible=chunk.turn_indexes, caps=PART_CAPS)
        return PartNotes(chunk.first_turn, chunk.last_turn, notes)

    def _reduce(self, parts: list[PartNotes]) -> NotesReply:
        """Merge ``parts`` (two or more) level by level until one merge holds them all."""
        while True:
            groups = group_by_budget([p.tokens() for p in parts], budget_tokens=self.budget_tokens)
            if len(groups) == 1:
                return self._merge(parts, final=True).notes
            log.info("meeting notes: merging %d part notes in %d groups first", len(parts), len(groups))
            parts = self._parallel([partial(self._merge, parts[g.start : g.stop], final=False) for g in groups])

    def _merge(self, parts: list[PartNotes], *, final: bool) -> PartNotes:
        first, last = parts[0].first_turn, parts[-1].last_turn
        if len(parts) == 1 and not final:
            return parts[0]  # the odd one out of a level waits for the next
        prompt = render(
            "meeting_merge.j2",
            meeting_date=self.meeting_date.isoformat(),
            speakers=self.speakers,
            parts=[p.as_data() for p in parts],
            final=final,
            first_turn=first,
            last_turn=last,
        )
        notes = self._ask(
            "meeting_merge", prompt, model=self.chat_model, visible=range(first, last + 1), caps=FINAL_CAPS,
            final=final,
        )
        return PartNotes(first, last, notes)

    def _chunk_prompt(self, chunk: Chunk, *, part: int, parts: int) -> RenderedPrompt:
        return render(
            "meeting_chunk.j2",
            meeting_date=self.meeting_date.isoformat(),
            part=part,
            parts=parts,
            first_turn=chunk.first_turn,
            last_turn=chunk.last_turn,
            speakers=self.speakers,
            transcript=chunk.render(),
        )

    # -- one question, with its repair -----------------------------------------------------------------

    def _ask(self, purpose: str, prompt: RenderedPrompt, *, model: str, visible: Any, caps: Caps,
             final: bool = False) -> NotesReply:
        """Cleaned notes from the model, after at most one repair; raises :class:`_NotesFailed`. ``final`` notes (the
        meeting's own, not a part's) must not be empty when the extractor finds items in the meeting."""
        raw, verdict, _ = self._complete(purpose, prompt, model=model)
        verdict = self._not_empty(verdict) if final else verdict
        if isinstance(verdict, list):
            log.info("%s reply unusable, asking for a repair: %s", purpose, verdict[0])
            repair = render(
                "repair_meeting_notes.j2",
                problems=limit_problems(verdict),
                previous_reply=clip_text(raw, PREVIOUS_REPLY_MAX_TOKENS),
            )
            _, verdict, unreadable = self._complete(f"{purpose}_repair", Conversation.from_prompts(prompt, repair),
                                                    model=model)
            verdict = self._not_empty(verdict) if final else verdict
            if isinstance(verdict, list):
                # A reply that is not JSON is said so; the repair prompt's wording is for the model only.
                problem = unreadable or limit_problems(verdict)[0]
                raise _NotesFailed(WHY_INVALID.format(problem=for_people(problem, limit=300)))
        return clean_notes(verdict, turns=self.turns, visible=visible, caps=caps)

    def _not_empty(self, verdict: NotesReply | list[str]) -> NotesReply | list[str]:
        """``verdict``, or the problem of empty notes for a meeting in which the extractor finds items."""
        if isinstance(verdict, list) or verdict.summary or verdict.decisions or verdict.action_items:
            return verdict
        if self._extractor_finds is None:
            return verdict  # a meeting with nothing in it may have empty notes
        return [EMPTY_NOTES.format(found=self._extractor_finds)]

    @cached_property
    def _extractor_finds(self) -> str | None:
        """What the extractor finds in the meeting (``2 action items and 1 decision``), or None: nothing."""
        extracted = extract_notes(self.transcript, meeting_date=self.meeting_date)
        counts = [(len(extracted.action_items), "action item"), (len(extracted.decisions), "decision")]
        return " and ".join(f"{n} {what}{'' if n == 1 else 's'}" for n, what in counts if n) or None

    def _complete(
        self, purpose: str, prompt: RenderedPrompt | Conversation, *, model: str
    ) -> tuple[str, NotesReply | list[str], str | None]:
        """The raw reply, the notes or the problems to repair, and why it was not JSON (for people) if it was not."""
        with self._lock:
            self.calls += 1
        try:
            reply = self.llm.complete_json(
                purpose=purpose,
                prompt=prompt,
                schema_name=SCHEMA_NAME,
                schema=NOTES_JSON_SCHEMA,
                team_id=self.team_id,
                request_id=self.request_id,
                model=model,
            )
        except LLMUnavailable as err:
            raise _NotesFailed(why_without_model(err, model=model)) from err
        with self._lock:
            self.usage += reply.usage
        unreadable = reply.error_for_people if reply.data is None else None
        return reply.raw, parse_notes(reply.data, error=reply.error), unreadable

    def _parallel(self, tasks: Sequence[Callable[[], T]]) -> list[T]:
        """Results of ``tasks`` in order, at most ``max_parallel`` at a time; the first failure stops the
        tasks not yet started (those running finish, and their usage counts) and is raised."""
        if len(tasks) == 1 or self.max_parallel == 1:
            return [task() for task in tasks]
        with ThreadPoolExecutor(max_workers=min(self.max_parallel, len(tasks)), thread_name_prefix="notes") as pool:
            futures = [pool.submit(task) for task in tasks]
            try:
                for future in as_completed(futures):
                    future.result()
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
            return [future.result() for future in futures]


def _extracted(
    transcript: Transcript, *, meeting_date: date, why: str, chunks: int, taking: _NotesTaking | None = None
) -> NotesOutcome:
    notes = extract_notes(transcript, meeting_date=meeting_date)
    return _outcome(notes, taking=taking, why=why, chunks=chunks)


def _outcome(notes: MeetingNotes, *, taking: _NotesTaking | None, why: str | None, chunks: int) -> NotesOutcome:
    usage = taking.usage if taking is not None else TokenUsage()
    return NotesOutcome(
        notes=notes,
        calls=taking.calls if taking is not None else 0,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cost_usd=usage.cost_usd,
        degraded_reason=why,
        chunks=chunks,
    )
