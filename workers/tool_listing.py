"""The rows of ``baton tools`` and ``/baton tools``: every connector of the registry, and the denied MCP tools.

``baton tools`` lists the MCP servers live; ``/baton tools`` (the web process, through ``workers/api.py``)
reads the stored listing (``workers/mcp_listing.py``), so the slash command answers without starting a server.
"""

from __future__ import annotations

from typing import Any

import psycopg
from slack_sdk import WebClient

from connectors.base import Connector
from connectors.mcp_tool import McpTool
from core.policy import AUTO_RUN_ACTIONS
from core.settings import Settings
from core.tool_listing import BY_ARGUMENTS, ToolListing, ToolRow
from workers.connector_wiring import build_registry
from workers.mcp_catalogue import McpCatalogue
from workers.mcp_listing import stored_catalogue


def tool_listing(settings: Settings, catalogue: McpCatalogue) -> ToolListing:
    """Every action of the built-ins and ``catalogue``, and the servers that could not be listed."""
    registry = build_registry(
        settings,
        slack=WebClient(token=None),  # never called: listing actions reaches no workspace
        connect=_no_database,
        now=_no_clock,
        mcp=catalogue,
    )
    rows = [_row(connector) for connector in registry.every()] + [_row(tool) for tool in catalogue.denied]
    return ToolListing(rows=tuple(sorted(rows)), unavailable=catalogue.failures)


def stored_tool_listing(conn: psycopg.Connection[Any], settings: Settings) -> ToolListing:
    """:func:`tool_listing` with the MCP tools as last stored (no server is started)."""
    return tool_listing(settings, stored_catalogue(conn, settings.mcp_servers))


def _row(connector: Connector) -> ToolRow:
    if isinstance(connector, McpTool):
        terms = connector.terms
        return ToolRow(connector.action, connector.source, terms.risk.value, terms.idempotency, terms.policy)
    policy = "internal" if connector.internal else ("allow" if connector.action in AUTO_RUN_ACTIONS else "ask")
    return ToolRow(connector.action, connector.source, BY_ARGUMENTS, connector.idempotency, policy)


def _no_database() -> Any:
    raise RuntimeError("listing actions never connects to the database")


def _no_clock() -> Any:
    raise RuntimeError("listing actions never reads the clock")
