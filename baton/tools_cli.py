"""``baton tools``: every action Baton can take, where it comes from, its risk, idempotency class and policy."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient

from baton.config import build_settings
from connectors.base import Connector
from connectors.mcp_tool import McpTool
from connectors.plugins import ConnectorServices
from core.policy import AUTO_RUN_ACTIONS
from workers.connector_wiring import PluginSet, build_registry, discover_plugins
from workers.mcp_catalogue import McpCatalogue, load_catalogue

#: Risk of a built-in depends on its arguments (where it posts, what it stores): shown as such.
BY_ARGUMENTS = "by arguments"
_IDEMPOTENCY = {"keyed": "keyed", "idempotent": "idempotent", "at_most_once": "at most once"}


def add_tools_parser(sub: Any, add: Callable[..., argparse.ArgumentParser]) -> None:
    """Register ``baton tools``."""
    add(
        "tools",
        cmd_tools,
        "List every action: source (built-in, plugin or MCP server), risk, idempotency class, policy.",
    )


def cmd_tools(args: argparse.Namespace) -> int:
    settings = build_settings(args)
    catalogue = load_catalogue(settings.mcp_servers)
    print("\n".join(tool_lines(catalogue, settings=settings)))
    return 0


def tool_lines(catalogue: McpCatalogue, *, settings: Any, plugins: PluginSet | None = None) -> list[str]:
    """The table ``baton tools`` prints (one action per line), then the servers and connector plugins that could
    not be loaded (``plugins``: the installed ones, found now unless given)."""
    plugins = plugins or discover_plugins()
    listing = listing_services(settings)
    registry = build_registry(
        settings, slack=listing.slack, connect=listing.connect, now=listing.now, mcp=catalogue, plugins=plugins
    )
    rows = [_row(connector) for connector in registry.every()]
    rows += [_row(tool) for tool in catalogue.denied]
    header = ("ACTION", "SOURCE", "RISK", "IDEMPOTENCY", "POLICY")
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [header, *sorted(rows)]
    ]
    lines += [f"unavailable: {name}: {problem}" for name, problem in catalogue.failures]
    lines += [f"unavailable: {problem.line()}" for problem in plugins.problems]
    return lines


def listing_services(settings: Any) -> ConnectorServices:
    """Clients for connectors that are only listed, never run: no workspace, database or clock is reached."""
    return ConnectorServices(settings=settings, slack=WebClient(token=None), connect=_no_database, now=_no_clock)


def _row(connector: Connector) -> tuple[str, str, str, str, str]:
    if isinstance(connector, McpTool):
        terms = connector.terms
        return (connector.action, connector.source, terms.risk.value, _IDEMPOTENCY[terms.idempotency], terms.policy)
    policy = "internal" if connector.internal else ("allow" if connector.action in AUTO_RUN_ACTIONS else "ask")
    return (connector.action, connector.source, BY_ARGUMENTS, _IDEMPOTENCY[connector.idempotency], policy)


def _no_database() -> Any:
    raise RuntimeError("baton tools lists actions; it never connects to the database")


def _no_clock() -> Any:
    raise RuntimeError("baton tools lists actions; it never reads the clock")
