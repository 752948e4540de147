"""``baton tools``: every action Baton can take, where it comes from, its risk, idempotency class and policy;
``baton tools refresh``: list the MCP servers again, store their tools and pins, and print what changed."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from baton.backends import migrate_database, resolve_backends
from baton.config import build_settings
from core.tool_listing import table_lines
from memory.db import connect
from memory.mcp_listings import ListingChange
from workers.mcp_catalogue import load_catalogue
from workers.mcp_listing import refresh_listings, stored_catalogue
from workers.tool_listing import listing_services, tool_listing

__all__ = ["add_tools_parser", "change_lines", "cmd_tools", "listing_services"]


def add_tools_parser(sub: Any, add: Callable[..., argparse.ArgumentParser]) -> None:
    """Register ``baton tools [refresh]``."""
    parser = add(
        "tools", cmd_tools,
        "List every action: source (built-in, plugin or MCP server), risk, idempotency class, policy.",
    )
    parser.add_argument(
        "action",
        nargs="?",
        choices=["refresh"],
        help="refresh: list the MCP servers again, store their tools (what /baton tools shows) and print what changed",
    )


def cmd_tools(args: argparse.Namespace) -> int:
    settings = build_settings(args)
    if getattr(args, "action", None) != "refresh":
        print("\n".join(table_lines(tool_listing(settings, load_catalogue(settings.mcp_servers)))))
        return 0
    settings, _services = resolve_backends(settings)
    assert settings.database_url is not None
    migrate_database(settings.database_url)
    with connect(settings.database_url) as conn:
        changes = refresh_listings(conn, settings.mcp_servers, now=datetime.now(UTC))
        catalogue = stored_catalogue(conn, settings.mcp_servers)
    print("\n".join(change_lines(changes, failures=dict(catalogue.failures))))
    return 0


def change_lines(changes: dict[str, ListingChange], *, failures: dict[str, str]) -> list[str]:
    """One line per server: what its new listing changed, or why it could not be listed."""
    if not changes:
        return ["no MCP servers are configured (see BATON_MCP_CONFIG)"]
    lines = []
    for server, change in sorted(changes.items()):
        if server in failures:
            lines.append(f"{server}: unavailable: {failures[server]} (its last listing is kept)")
            continue
        parts = [
            f"{label} {', '.join(names)}"
            for label, names in (("added", change.added), ("removed", change.removed), ("changed", change.changed))
            if names
        ]
        lines.append(f"{server}: " + ("; ".join(parts) if parts else "no change"))
    return lines
