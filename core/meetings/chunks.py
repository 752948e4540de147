"""Cutting a meeting transcript into pieces a model can read, within a token budget.

Notes are taken map-reduce style (``workers.meetings.notes``): each :class:`Chunk` is read on its own,
then the per-chunk notes are merged. Chunks are contiguous runs of whole turns, each rendered as one
line the model can cite by its turn index::

    [12] Grad C (00:03:04): We can start ?

A turn too long for an empty chunk is split at word boundaries into pieces that keep its index (a
single "word" longer than a whole chunk, such as a pasted blob, is cut inside the word). Nothing is
dropped: the words of a chunk's lines, in order, are the words of its turns. Whitespace inside a turn
is collapsed to single spaces so a turn is always one line (it cannot forge a line of another turn).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from core.context_budget import CHARS_PER_TOKEN, estimate_tokens
from core.meetings.records import Turn

#: The smallest budget accepted: room for the longest line prefix (index, clipped speaker, time) and some text.
MIN_BUDGET_TOKENS = 64
#: Speaker names are clipped to this many characters in a line.
SPEAKER_MAX_CHARS = 60
UNKNOWN_SPEAKER = "(unknown speaker)"


@dataclass(frozen=True)
class Chunk:
    """A contiguous stretch of a transcript: ``(turn index, turn)`` pairs in order.

    An oversize turn appears as several pieces with the same index, possibly across chunks; each piece
    is a :class:`Turn` with the original speaker and times and part of the text.
    """

    turns: tuple[tuple[int, Turn], ...]

    def __post_init__(self) -> None:
        if not self.turns:
            raise ValueError("a chunk holds at least one turn")

    @property
    def first_turn(self) -> int:
        return self.turns[0][0]

    @property
    def last_turn(self) -> int:
        return self.turns[-1][0]

    @property
    def turn_indexes(self) -> frozenset[int]:
        return frozenset(index for index, _ in self.turns)

    def lines(self) -> list[str]:
        """One rendered line per turn (or piece of a turn); see :func:`render_line`."""
        return [render_line(index, turn) for index, turn in self.turns]

    def render(self) -> str:
        """The chunk as the model reads it: its lines joined by newlines."""
        return "\n".join(self.lines())


def format_timestamp(seconds: float) -> str:
    """``seconds`` from the start as ``HH:MM:SS`` (hours are not wrapped at 24; negatives count as 0)."""
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}"


def render_line(index: int, turn: Turn) -> str:
    """``[index] Speaker (HH:MM:SS): text``; the time is left out when unknown, whitespace collapsed."""
    return _prefix(index, turn) + _collapse(turn.text)


def chunk_turns(turns: Sequence[Turn], *, budget_tokens: int) -> list[Chunk]:
    """Split ``turns`` into chunks whose rendering fits ``budget_tokens`` (see :func:`estimate_tokens`).

    Whole turns are packed greedily in order; a turn that does not fit the rest of a chunk starts the
    next one, and a turn that would not fit even an empty chunk is first split into pieces (see the
    module docstring), packed the same way. Turns with no text are kept (they cost a line) so indexes stay meaningful.
    """
    if budget_tokens < MIN_BUDGET_TOKENS:
        raise ValueError(f"budget_tokens must be at least {MIN_BUDGET_TOKENS}, not {budget_tokens}")
    chunks: list[Chunk] = []
    current: list[tuple[int, Turn]] = []
    used = 0

    def close() -> None:
        nonlocal current, used
        if current:
            chunks.append(Chunk(tuple(current)))
        current, used = [], 0

    for index, turn in enumerate(turns):
        pieces = [turn] if line_tokens(index, turn) <= budget_tokens else _split_turn(index, turn, budget=budget_tokens)
        for piece in pieces:
            cost = line_tokens(index, piece)
            if used + cost > budget_tokens:
                close()
            current.append((index, piece))
            used += cost
    close()
    return chunks


def line_tokens(index: int, turn: Turn) -> int:
    """What one line costs in a chunk, its newline included (so a chunk's lines add up to at most its budget)."""
    return estimate_tokens(render_line(index, turn) + "\n")


def group_by_budget(costs: Sequence[int], *, budget_tokens: int, min_group: int = 2) -> list[range]:
    """Consecutive groups of items whose costs add up to at most ``budget_tokens``.

    Every group but possibly the last holds at least ``min_group`` items even when that breaks the budget,
    so grouping always makes progress (each pass of a hierarchical merge shrinks the list).
    """
    if min_group < 1:
        raise ValueError("min_group must be at least 1")
    groups: list[range] = []
    start, used = 0, 0
    for index, cost in enumerate(costs):
        size = index - start
        if size >= min_group and used + cost > budget_tokens:
            groups.append(range(start, index))
            start, used = index, 0
        used += cost
    if start < len(costs):
        groups.append(range(start, len(costs)))
    return groups


def _split_turn(index: int, turn: Turn, *, budget: int) -> list[Turn]:
    """Pieces of ``turn`` (same speaker and times) each of whose lines fits ``budget_tokens``."""
    prefix_chars = len(_prefix(index, turn)) + 1  # the newline
    room = budget * CHARS_PER_TOKEN - prefix_chars
    pieces = _pack_words(_collapse(turn.text).split(" "), room=room)
    return [replace(turn, text=text) for text in pieces]


def _pack_words(words: list[str], *, room: int) -> list[str]:
    """Words joined by spaces into pieces of at most ``room`` characters."""
    pieces: list[str] = []
    current: list[str] = []
    length = 0
    for word in words:
        if len(word) > room:
            if current:
                pieces.append(" ".join(current))
                current, length = [], 0
            # A "word" longer than a whole chunk is cut inside; the pieces concatenate back to it.
            pieces.extend(word[start : start + room] for start in range(0, len(word), room))
            continue
        if current and length + 1 + len(word) > room:
            pieces.append(" ".join(current))
            current, length = [], 0
        length += len(word) + (1 if current else 0)
        current.append(word)
    if current:
        pieces.append(" ".join(current))
    return pieces


def _prefix(index: int, turn: Turn) -> str:
    speaker = _collapse(turn.speaker or "") or UNKNOWN_SPEAKER
    if len(speaker) > SPEAKER_MAX_CHARS:
        speaker = speaker[: SPEAKER_MAX_CHARS - 1] + "…"
    at = f" ({format_timestamp(turn.start)})" if turn.start is not None else ""
    return f"[{index}] {speaker}{at}: "


def _collapse(text: str) -> str:
    return " ".join(text.split())
