"""Where a JSON object ends in text that arrives in pieces (pure), so a streamed reply can be stopped early.

A model asked for one JSON object may go on writing after it: a closing Markdown fence, an explanation, a second
object (small models in plain-text mode do). :class:`ObjectEnd` reads the pieces as they come and says where the
first top-level object that parses as JSON closed, and whether anything but whitespace followed it; the caller
then stops reading and keeps the text up to the end (:func:`cut_after_object`). Braces inside strings (escapes
included) do not count. Text before the object (a fence, a sentence, even a stray ``{x}`` that is not JSON) is
skipped: a brace-balanced span that does not parse is passed over and the scan goes on after it.
"""

from __future__ import annotations

import json
from typing import Any


class ObjectEnd:
    """Finds the first top-level JSON object in text fed piece by piece (see the module docstring)."""

    def __init__(self) -> None:
        self._pieces: list[str] = []
        self._seen = 0  # characters fed so far
        self._depth = 0
        self._in_string = False
        self._escaped = False
        self._start: int | None = None  # where the object being scanned began
        #: Characters from the start of the text to just past the object's closing brace; None until one closed.
        self.end: int | None = None
        #: The object, once one closed.
        self.value: dict[str, Any] | None = None
        #: Whether anything but whitespace followed the object.
        self.trailing = False

    def feed(self, piece: str) -> None:
        """Read the next ``piece`` of the text."""
        self._pieces.append(piece)
        for offset, char in enumerate(piece):
            if self.end is not None:
                if not char.isspace():
                    self.trailing = True
                    break
                continue
            self._step(char, at=self._seen + offset)
        self._seen += len(piece)

    def _step(self, char: str, *, at: int) -> None:
        if self._start is None:
            if char == "{":
                self._start, self._depth = at, 1
            return
        if self._in_string:
            if self._escaped:
                self._escaped = False
            elif char == "\\":
                self._escaped = True
            elif char == '"':
                self._in_string = False
            return
        if char == '"':
            self._in_string = True
        elif char in "{[":
            self._depth += 1
        elif char in "}]":
            self._depth -= 1
            if self._depth == 0:
                self._close(at + 1)

    def _close(self, end: int) -> None:
        assert self._start is not None
        span = "".join(self._pieces)[self._start : end]
        self._start = None
        try:
            value = json.loads(span)
        except ValueError:
            return  # balanced but not JSON ("{x}" in a sentence): look on after it
        if isinstance(value, dict):
            self.end, self.value = end, value


def cut_after_object(text: str, scan: ObjectEnd) -> str:
    """``text`` (what ``scan`` was fed) up to the end of its object when something followed it, else whole."""
    if scan.end is not None and scan.trailing:
        return text[: scan.end]
    return text


def first_object(text: str) -> dict[str, Any] | None:
    """The first JSON object in ``text``, with whatever comes before or after it, or None."""
    scan = ObjectEnd()
    scan.feed(text)
    return scan.value
