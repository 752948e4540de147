"""Where a JSON object ends in text that arrives in pieces (pure), so a streamed reply can be stopped early.

A model asked for one JSON object may go on writing after it: a closing Markdown fence, an explanation, a second
object (small models in plain-text mode do). :class:`ObjectEnd` reads the pieces as they come and says where the
first top-level object closed and whether anything but whitespace followed it; the caller then stops reading and
keeps the text up to the end. Braces inside strings (escapes included) do not count. Text before the first ``{``
(a fence, a sentence) is skipped, as :func:`workers.llm.client.parse_json_object` tolerates a fence.

The scan only finds the end; whether the object is valid JSON is decided by parsing it afterwards.
"""

from __future__ import annotations


class ObjectEnd:
    """Finds the end of the first top-level ``{...}`` in text fed piece by piece (see the module docstring)."""

    def __init__(self) -> None:
        self._seen = 0  # characters fed so far
        self._depth = 0
        self._in_string = False
        self._escaped = False
        self._started = False
        #: Characters from the start of the text to just past the object's closing brace; None until it closed.
        self.end: int | None = None
        #: Whether anything but whitespace followed the closed object.
        self.trailing = False

    def feed(self, piece: str) -> None:
        """Read the next ``piece`` of the text."""
        for offset, char in enumerate(piece):
            if self.end is not None:
                if not char.isspace():
                    self.trailing = True
                    break
                continue
            self._step(char, at=self._seen + offset)
        self._seen += len(piece)

    def _step(self, char: str, *, at: int) -> None:
        if not self._started:
            if char == "{":
                self._started, self._depth = True, 1
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
                self.end = at + 1
