"""JSON exports: a list of ``{speaker, text, start?, end?}`` objects, or an object holding such a list.

Tools disagree on names, so common aliases are accepted: the list may be under ``turns``, ``segments`` or
``utterances``; text may be ``content`` or ``transcript``; the speaker ``name``, ``speaker_name`` and the
like; times ``start_time``/``end_time``, in seconds (numbers or numeric strings) or as clock strings.
Anything else is refused with a reason saying what shape was expected.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.meetings.records import Turn
from core.transcripts.errors import NotATranscript, NoTurns
from core.transcripts.plain import parse_plain
from core.transcripts.timestamps import parse_clock
from core.transcripts.turns import finalize

_LIST_KEYS = ("turns", "segments", "utterances", "transcript")
_TEXT_KEYS = ("text", "content", "transcript", "utterance")
_SPEAKER_KEYS = ("speaker", "speaker_name", "speakerName", "name", "participant", "author")
_START_KEYS = ("start", "start_time", "startTime", "begin")
_END_KEYS = ("end", "end_time", "endTime")
EXPECTED = 'expected a list of {"speaker", "text"} objects, or an object with a "turns" list of them'


@dataclass(frozen=True)
class JsonParse:
    """Turns read from a JSON export, and notes about what was skipped or unreadable."""

    turns: tuple[Turn, ...]
    notes: tuple[str, ...]


def load_json(text: str) -> Any:
    """The JSON value of ``text``; :class:`NotATranscript` with the parser's position if it is not JSON."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise NotATranscript(
            f"This JSON file is not valid JSON ({error.msg} at line {error.lineno}, column {error.colno})."
        ) from None
    except RecursionError:
        raise NotATranscript("This JSON file is nested too deeply to be a transcript.") from None


def parse_json(value: Any) -> JsonParse:
    """Turns of a decoded JSON export (see the module docstring for the shapes accepted)."""
    items = _items(value)
    if isinstance(items, str):  # {"transcript": "Alice: hi ..."}: the whole text in one string
        parsed = parse_plain(items)
        return JsonParse(parsed.turns, parsed.notes)
    if not items:
        raise NoTurns("This JSON file has an empty list of turns.")
    turns: list[Turn] = []
    skipped = bad_times = 0
    for item in items:
        text = _text(item) if isinstance(item, Mapping) else None
        if text is None:
            skipped += 1
            continue
        start, start_ok = _seconds(_first(item, _START_KEYS))
        end, end_ok = _seconds(_first(item, _END_KEYS))
        bad_times += not (start_ok and end_ok)
        turns.append(Turn(_speaker(_first(item, _SPEAKER_KEYS)), text, start, end))
    if not turns:
        raise NotATranscript(f"This JSON file has no transcript turns: {EXPECTED}.")
    notes = []
    if skipped:
        entries = "1 entry was" if skipped == 1 else f"{skipped} entries were"
        notes.append(f"{entries} skipped: no text in them.")
    if bad_times:
        turns_had = "1 turn had" if bad_times == 1 else f"{bad_times} turns had"
        notes.append(f"{turns_had} unreadable times; the text was kept.")
    return JsonParse(finalize(turns), tuple(notes))


def _items(value: Any) -> list[Any] | str:
    if isinstance(value, list):
        return value
    if isinstance(value, Mapping):
        for key in _LIST_KEYS:
            if isinstance(value.get(key), list):
                return list(value[key])
        for key in _TEXT_KEYS:
            if isinstance(value.get(key), str):
                return str(value[key])
    raise NotATranscript(f"This JSON file has no transcript turns: {EXPECTED}.")


def _first(item: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    return next((item[key] for key in keys if item.get(key) is not None), None)


def _text(item: Mapping[str, Any]) -> str | None:
    """The item's text; ``None`` if it has no text key at all (an empty or null text is an empty turn)."""
    if not any(key in item for key in _TEXT_KEYS):
        return None
    value = _first(item, _TEXT_KEYS)
    if isinstance(value, list):
        return " ".join(str(part) for part in value if isinstance(part, str | int | float))
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def _speaker(value: Any) -> str | None:
    if isinstance(value, Mapping):
        value = value.get("name")
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return f"Speaker {value}"  # diarisation tools number speakers
    return str(value) if isinstance(value, str) else None


def _seconds(value: Any) -> tuple[float | None, bool]:
    """(seconds, readable): numbers and numeric strings are seconds; clock strings are parsed; absent is fine."""
    if value is None:
        return None, True
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
        return (seconds, True) if math.isfinite(seconds) and seconds >= 0 else (None, False)
    if isinstance(value, str):
        try:
            return _seconds(float(value))
        except ValueError:
            clock = parse_clock(value)
            return clock, clock is not None
    return None, False
