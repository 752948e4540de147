"""The MCP tools as last listed, per server (``mcp_listings``): what changed, what ``/baton tools`` shows, and
what a worker with an older listing takes instead of its own.

Each store takes a new ``version`` from a sequence, so "is there a newer listing than mine?" is one
``max(version)`` query. A server that could not be listed keeps its last tools and records the problem.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg

from core.mcp_tools import ToolDefinition


@dataclass(frozen=True)
class Listing:
    """One server's stored listing: its tools, or the problem of its last try, and its version."""

    server: str
    tools: tuple[ToolDefinition, ...]
    problem: str | None
    listed_at: datetime
    version: int


@dataclass(frozen=True)
class ListingChange:
    """What a new listing changed: tools added, removed, and described differently (their pin changed)."""

    added: tuple[str, ...] = field(default_factory=tuple)
    removed: tuple[str, ...] = field(default_factory=tuple)
    changed: tuple[str, ...] = field(default_factory=tuple)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)


def store_listing(
    conn: psycopg.Connection[Any],
    server: str,
    *,
    tools: Sequence[ToolDefinition] | None,
    problem: str | None = None,
    now: datetime,
) -> ListingChange:
    """Record ``server``'s tools as listed now (``tools``), or that it could not be listed (``problem``, its last
    tools kept). Returns what changed since the stored listing."""
    with conn.transaction():
        row = conn.execute("SELECT tools FROM mcp_listings WHERE server = %s FOR UPDATE", (server,)).fetchone()
        before = {item["name"]: item["pin"] for item in (row["tools"] if row else [])}
        if tools is None:
            conn.execute(
                """
                INSERT INTO mcp_listings (server, problem, listed_at) VALUES (%s, %s, %s)
                ON CONFLICT (server) DO UPDATE SET problem = EXCLUDED.problem, listed_at = EXCLUDED.listed_at,
                                                   version = nextval('mcp_listing_versions')
                """,
                (server, problem, now),
            )
            return ListingChange()
        stored = [
            {
                "name": tool.name,
                "description": tool.description,
                "inputSchema": dict(tool.input_schema),
                "annotations": dict(tool.annotations),
                "pin": tool.pin,
            }
            for tool in tools
        ]
        conn.execute(
            """
            INSERT INTO mcp_listings (server, tools, problem, listed_at) VALUES (%s, %s, NULL, %s)
            ON CONFLICT (server) DO UPDATE SET tools = EXCLUDED.tools, problem = NULL, listed_at = EXCLUDED.listed_at,
                                               version = nextval('mcp_listing_versions')
            """,
            (server, json.dumps(stored), now),
        )
    after = {tool.name: tool.pin for tool in tools}
    return ListingChange(
        added=tuple(sorted(set(after) - set(before))),
        removed=tuple(sorted(set(before) - set(after))),
        changed=tuple(sorted(name for name in set(after) & set(before) if after[name] != before[name])),
    )


def load_listings(conn: psycopg.Connection[Any], servers: Iterable[str]) -> list[Listing]:
    """The stored listings of ``servers`` (those that have one)."""
    rows = conn.execute(
        "SELECT server, tools, problem, listed_at, version FROM mcp_listings WHERE server = ANY(%s) ORDER BY server",
        (sorted(servers),),
    ).fetchall()
    return [
        Listing(
            server=row["server"],
            tools=tuple(
                ToolDefinition(
                    server=row["server"],
                    name=item["name"],
                    description=item["description"],
                    input_schema=item["inputSchema"],
                    annotations=item["annotations"],
                )
                for item in row["tools"]
            ),
            problem=row["problem"],
            listed_at=row["listed_at"],
            version=int(row["version"]),
        )
        for row in rows
    ]


def unavailable(conn: psycopg.Connection[Any]) -> list[tuple[str, str]]:
    """The servers whose last listing failed, with why."""
    rows = conn.execute("SELECT server, problem FROM mcp_listings WHERE problem IS NOT NULL ORDER BY server")
    return [(row["server"], row["problem"]) for row in rows.fetchall()]


def latest_version(conn: psycopg.Connection[Any], servers: Iterable[str]) -> int:
    """The newest version among ``servers``' listings (0 when none was ever stored)."""
    row = conn.execute(
        "SELECT COALESCE(max(version), 0) AS version FROM mcp_listings WHERE server = ANY(%s)", (sorted(servers),)
    ).fetchone()
    return int(row["version"] if isinstance(row, dict) else row[0]) if row else 0
