"""Every action Baton can take, as ``baton tools`` and ``/baton tools`` show it (pure: rows in, lines out).

A row names the action, its source, risk, idempotency class and policy. Sources: ``built-in`` (Baton's own
connectors), ``mcp:<server>`` (a tool of a configured MCP server), and ``plugin:<name>`` for a connector a
plugin registers (a connector's ``source`` attribute is shown as it is, so a plugin sets its own).
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: How each idempotency class reads.
IDEMPOTENCY_LABELS = {"keyed": "keyed", "idempotent": "idempotent", "at_most_once": "at most once"}
#: A built-in's risk depends on its arguments (where it posts, what it stores).
BY_ARGUMENTS = "by arguments"
HEADER = ("ACTION", "SOURCE", "RISK", "IDEMPOTENCY", "POLICY")


@dataclass(frozen=True, order=True)
class ToolRow:
    """One action: ``policy`` is ``allow`` / ``ask`` / ``deny`` (MCP), or ``internal`` for Baton's own flows."""

    action: str
    source: str
    risk: str
    idempotency: str
    policy: str

    def cells(self) -> tuple[str, str, str, str, str]:
        return (
            self.action,
            self.source,
            self.risk,
            IDEMPOTENCY_LABELS.get(self.idempotency, self.idempotency),
            self.policy,
        )


@dataclass(frozen=True)
class ToolListing:
    """The rows, sorted, and the MCP servers (or tools) that could not be listed, with why."""

    rows: tuple[ToolRow, ...]
    unavailable: tuple[tuple[str, str], ...] = field(default_factory=tuple)


def table_lines(listing: ToolListing) -> list[str]:
    """An aligned table (header first), then one ``unavailable: <server>: <problem>`` line each."""
    table = [HEADER, *(row.cells() for row in sorted(listing.rows))]
    widths = [max(len(cells[i]) for cells in table) for i in range(len(HEADER))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip() for cells in table
    ]
    return lines + [f"unavailable: {name}: {problem}" for name, problem in listing.unavailable]
