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
from connectors.plugins import ConnectorServices
from core.policy import AUTO_RUN_ACTIONS
from core.settings import Settings
from core.tool_listing import BY_ARGUMENTS, ToolListing, ToolRow
from workers.connector_wiring import PluginSet, build_registry, discover_plugins
from workers.mcp_catalogue import McpCatalogue
from workers.mcp_listing import stored_catalogue


def tool_listing(settings: Settings, catalogue: McpCatalogue, *, plugins: PluginSet | None = None) -> ToolListing:
    """Every action of the built-ins, the connector plugins (``plugins``: the installed ones, found now unless
    given) and ``catalogue``; and the servers and plugins that could not be loaded."""
    plugins = plugins or discover_plugins()
    listing = listing_services(settings)
    registry = build_registry(
        settings, slack=listing.slack, connect=listing.connect, now=listing.now, mcp=catalogue, plugins=plugins
    )
    rows = [_row(connector) for connector in registry.every()] + [_row(tool) for tool in catalogue.denied]
    skipped = tuple((f"plugin {p.plugin} ({p.source})", f"{p.problem}; skipped") for p in plugins.problems)
    return ToolListing(rows=tuple(sorted(rows)), unavailable=catalogue.failures + skipped)


def listing_services(settings: Settings) -> ConnectorServices:
    """Clients for connectors that are only listed, never run: no workspace, database or clock is reached."""
    return ConnectorServices(settings=settings, slack=WebClient(token=None), connect=_no_database, now=_no_clock)


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
