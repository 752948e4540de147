"""What a speaker label looks like: ``Name: text`` and its timestamped variants, and ``Name  0:03`` lines.

Plain-text transcripts only mark speakers by convention, so this is a heuristic with one aim: a real
label is read as a speaker, and ordinary prose is never cut. A label must look like a name (short,
later words capitalised, no sentence punctuation) and must not be a notes heading such as "Agenda:".
Getting it wrong costs little either way: a missed label stays in the text, so no word is lost.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.transcripts.timestamps import CLOCK, parse_clock

_MAX_NAME_CHARS = 50
_MAX_NAME_WORDS = 6
# Sentence punctuation and markup never appear in a display name; "/" and "@" do ("(he/him)", e-mail names).
_NOT_IN_NAMES = frozenset('?!;"“”<>{}[]=#*|\\…')
# Lower-case words that still belong inside a name ("Ludwig van Beethoven", "Maria de la Cruz").
_PARTICLES = frozenset(
    {
        "al", "bin", "bint", "da", "das", "de", "del", "della", "der", "des", "di", "do", "dos", "du", "el",
        "ibn", "la", "le", "los", "san", "st.", "ten", "ter", "van", "von", "y",
    }
)  # fmt: skip
# Headings of meeting notes: "Agenda: ..." is not someone speaking.
_NOT_SPEAKERS = frozenset(
    {
        "action", "action item", "action items", "actions", "agenda", "attendees", "absent", "cc", "date",
        "decision", "decisions", "duration", "location", "meeting", "note", "notes", "participants",
        "present", "re", "fwd", "subject", "summary", "time", "title", "to do", "todo", "topic", "when",
        "where", "warning", "tip", "ps", "p.s.", "nb", "e.g", "i.e", "eg", "ie", "example", "update",
    }
)  # fmt: skip

# "[00:01:02] Name: text", "00:01:02 - Name: text", "- **Name**: text", "Name (00:01:02): text",
# "Name [0:03]: text", "**Name:** text", "Name:" (text on the next lines). Possessive quantifiers and the
# atomic group keep matching linear on hostile lines (thousands of spaces after a time).
_LABEL = re.compile(
    rf"""^(?:[-*•>]\s++)?
    (?>(?:[\[(]?(?P<lead>{CLOCK})[\])]?\s*+(?:[-–|]\s*+)?)?)
    (?:\*\*)?(?P<name>[^:*]{{1,60}}?)(?:\*\*)?
    (?:\s*+[\[(](?P<trail>{CLOCK})[\])])?
    \s*+:(?:\*\*)?(?:\s++(?P<text>.*))?$""",
    re.VERBOSE,
)
# "Name   0:03" or "Name | 00:00:03" alone on a line (Teams and Otter exports): the text follows on the next lines.
_HEADING = re.compile(rf"^(?P<name>.{{1,60}}?)(?:\s*+[|·–-]\s*+|\s++)(?P<ts>{CLOCK})$")
_BARE_CLOCK = re.compile(rf"^[\[(]?({CLOCK})[\])]?$")


@dataclass(frozen=True)
class Label:
    """A speaker label found at the start of a line, and the rest of that line."""

    speaker: str
    start: float | None
    text: str


def looks_like_name(candidate: str) -> bool:
    """Whether ``candidate`` could be a display name ("PhD D", "Smith, John (Guest)", "jsmith").

    >>> looks_like_name("Project Manager"), looks_like_name("So here's the thing")
    (True, False)
    """
    name = candidate.strip()
    words = name.split()
    if not words or len(name) > _MAX_NAME_CHARS or len(words) > _MAX_NAME_WORDS:
        return False
    if not name[0].isalpha() or any(char in _NOT_IN_NAMES for char in name):
        return False
    if name.lower().rstrip(".") in _NOT_SPEAKERS:
        return False
    return all(word[0].isupper() or not word[0].isalpha() or word.lower() in _PARTICLES for word in words[1:])


def split_label(line: str) -> Label | None:
    """The speaker label starting ``line`` (``Name: text`` and its variants), or ``None`` if there is none."""
    match = _LABEL.match(line.strip())
    if match is None or not looks_like_name(match["name"]):
        return None
    clock = match["lead"] or match["trail"]
    return Label(match["name"].strip(), parse_clock(clock) if clock else None, (match["text"] or "").strip())


def heading_label(line: str) -> Label | None:
    """A ``Name  0:03`` line (a speaker and a time, the words on the lines after it), or ``None``."""
    match = _HEADING.match(line.strip())
    if match is None or not looks_like_name(match["name"]) or match["name"].rstrip().endswith(":"):
        return None
    return Label(match["name"].strip(), parse_clock(match["ts"]), "")


def bare_clock(line: str) -> float | None:
    """Seconds for a line that is only a time (``00:05:00``, ``[0:03]``), else ``None``."""
    match = _BARE_CLOCK.match(line.strip())
    return parse_clock(match[1]) if match else None
