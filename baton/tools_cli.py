"""``baton tools``: every action Baton can take, where it comes from, its risk, idempotency class and policy."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient

from baton.config import build_settings
from connectors.base import Connector
from connectors.mcp_tool import McpTool
from core.policy import AUTO_RUN_ACTIONS
from workers.connector_wiring import build_registry
from workers.mcp_catalogue import McpCatalogue, load_catalogue

#: Risk of a built-in depends on its arguments (where it posts, what it stores): shown as such.
BY_ARGUMENTS = "by arguments"
_IDEMPOTENCY = {"keyed": "keyed", "idempotent": "idempotent", "at_most_once": "at most once"}


def add_tools_parser(sub: Any, add: Callable[..., argparse.ArgumentParser]) -> None:
    """Register ``baton tools``."""
    add("tools", cmd_tools, "List every action: source (built-in or MCP server), risk, idempotency class, policy.")


def cmd_tools(args: argparse.Namespace) -> int:
    settings = build_settings(args)
    catalogue = load_catalogue(settings.mcp_servers)
    print("\n".join(tool_lines(catalogue, settings=settings)))
    return 0


def tool_lines(catalogue: McpCatalogue, *, settings: Any) -> list[str]:
    """The table ``baton tools`` prints (one action per line), then the servers that could not be listed."""
    registry = build_registry(
        settings,
        slack=WebClient(token=None),  # never called: listing actions reaches no workspace
        connect=_no_database,
        now=_no_clock,
        mcp=catalogue,
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
    return lines


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
