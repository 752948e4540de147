"""Tables that tests register, printed in the terminal summary of a normal run (no ``-s`` needed).

A test asks for the ``quality_report`` fixture and calls it with a title, column headers and rows;
after the run, :func:`pytest_terminal_summary` prints every table registered, even when the test
that registered it failed its assertions (that is when the numbers matter most)::

    def test_precision(quality_report):
        quality_report("redaction", [("email", 0.98, 1.0)], headers=("kind", "precision", "recall"))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pytest


@dataclass(frozen=True)
class Table:
    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def lines(self) -> list[str]:
        """The table as aligned text: text columns left-aligned, numbers right-aligned."""
        grid = [self.headers, *self.rows] if self.headers else list(self.rows)
        if not grid:
            return ["(no rows)"]
        columns = max(len(row) for row in grid)
        grid = [row + ("",) * (columns - len(row)) for row in grid]
        widths = [max(len(row[i]) for row in grid) for i in range(columns)]
        numeric = [all(_is_number(row[i]) for row in self.rows if row[i]) for i in range(columns)]

        def render(row: tuple[str, ...]) -> str:
            cells = (cell.rjust(w) if num else cell.ljust(w) for cell, w, num in zip(row, widths, numeric, strict=True))
            return "  ".join(cells).rstrip()

        out = [render(row) for row in grid]
        if self.headers:
            out.insert(1, "  ".join("-" * w for w in widths))
        return out


Report = Callable[..., None]
_TABLES = pytest.StashKey[list[Table]]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_TABLES] = []


@pytest.fixture
def quality_report(request: pytest.FixtureRequest) -> Report:
    """``quality_report(title, rows, headers=())``: add a table to the end-of-run summary."""
    tables = request.config.stash.setdefault(_TABLES, [])

    def report(title: str, rows: Sequence[Sequence[object]], *, headers: Sequence[str] = ()) -> None:
        tables.append(
            Table(title, tuple(str(h) for h in headers), tuple(tuple(_cell(value) for value in row) for row in rows))
        )

    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    for table in config.stash.get(_TABLES, []):
        terminalreporter.write_sep("=", table.title)
        for line in table.lines():
            terminalreporter.write_line(line)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
