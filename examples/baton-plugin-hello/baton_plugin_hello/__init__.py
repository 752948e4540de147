"""``hello.append_line``: append one line to ``BATON_HOME/hello/lines.txt``, once per idempotency key.

Idempotency class: keyed. Each line is written with the step's key in front of it, under an exclusive lock on the
file; before writing, ``execute`` looks the key up and, when it is there (a worker died after writing and before
Baton's ledger recorded it, or a retry), returns the line already written instead of writing another.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from connectors.base import Args, Connector, PermanentError
from connectors.plugins import ConnectorServices
from core.types import RequestOrigin, Risk


class AppendLineArgs(Args):
    """One line of text (no line breaks: the file keeps one entry a line)."""

    text: str = Field(min_length=1, max_length=500, pattern=r"^[^\r\n]+$", description="The line to append.")


class AppendLine(Connector):
    """Append a line to the team's hello file."""

    action: ClassVar[str] = "hello.append_line"
    summary: ClassVar[str] = "Append one line of text to the team's hello file (example plugin)."
    args_model: ClassVar[type[Args]] = AppendLineArgs
    idempotency: ClassVar[str] = "keyed"

    def __init__(self, *, path: Path) -> None:
        self.path = path

    def preview(self, args: AppendLineArgs, *, origin: RequestOrigin) -> str:
        return f"Append the line “{args.text}” to `{self.path.name}`."

    def risk(self, args: AppendLineArgs, *, origin: RequestOrigin) -> Risk:
        return Risk.LOW

    def execute(self, args: AppendLineArgs, *, origin: RequestOrigin, key: str) -> dict[str, Any]:
        if "\t" in key or "\n" in key:
            raise PermanentError("the idempotency key cannot be stored in the hello file")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a+", encoding="utf-8") as file:
            fcntl.flock(file, fcntl.LOCK_EX)  # two workers with the same key: the second finds the first's line
            file.seek(0)
            lines = file.read().splitlines()
            for number, line in enumerate(lines, start=1):
                if line.split("\t", 1)[0] == key:
                    return {"line": number, "already_written": True}
            file.write(f"{key}\t{args.text}\n")
            file.flush()
            os.fsync(file.fileno())
            return {"line": len(lines) + 1}


def register(services: ConnectorServices) -> list[Connector]:
    """The ``baton.connectors`` entry point: Baton calls it with its clients and settings."""
    return [AppendLine(path=services.settings.baton_home / "hello" / "lines.txt")]
