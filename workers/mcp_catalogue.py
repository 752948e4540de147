"""The MCP tools this worker offers: every configured server's tools, listed once when the worker starts.

A server that does not start or list its tools in time is reported (logged here, shown by ``baton doctor`` and
``baton tools``) and its tools are absent; Baton itself keeps running. A tool whose policy is ``deny`` is kept
in the listing (``baton tools`` shows it) but never becomes an action the planner can use.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from connectors.base import Connector
from connectors.mcp_session import ServerUnavailable, list_tools
from connectors.mcp_tool import McpTool
from core import defaults
from core.mcp_config import McpConfig, Server
from core.mcp_tools import ToolDefinition, tool_terms

log = logging.getLogger(__name__)

#: Servers started and listed at the same time (each is a subprocess or an HTTP session while it lists).
_MAX_PARALLEL_LISTINGS = 8


@dataclass(frozen=True)
class McpCatalogue:
    """Listed tools (usable and denied), and the servers or tools that failed with why."""

    tools: tuple[McpTool, ...] = ()
    denied: tuple[McpTool, ...] = ()
    failures: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    def connectors(self, *, taken: Iterable[str] = ()) -> list[Connector]:
        """The usable tools as connectors, leaving out any whose action name is ``taken`` (a built-in's)."""
        reserved = set(taken)
        return [tool for tool in self.tools if tool.action not in reserved]


def load_catalogue(config: McpConfig) -> McpCatalogue:
    """List every server's tools, all at once (each within its ``timeout``, or the default listing timeout), so
    a server that hangs delays start-up by its own timeout only."""
    tools: list[McpTool] = []
    denied: list[McpTool] = []
    failures: list[tuple[str, str]] = []
    if not config.servers:
        return McpCatalogue()
    with ThreadPoolExecutor(max_workers=min(len(config.servers), _MAX_PARALLEL_LISTINGS)) as pool:
        listings = {name: pool.submit(_list, name, server) for name, server in config.servers.items()}
    for name, future in listings.items():
        server = config.servers[name]
        try:
            definitions = future.result()
        except ServerUnavailable as err:
            log.warning("MCP server %s is unavailable, its tools are left out: %s", name, err)
            failures.append((name, str(err)))
            continue
        for definition in definitions:
            terms = tool_terms(
                definition, server.baton.for_tool(definition.name), default_timeout=defaults.MCP_CALL_TIMEOUT_SECONDS
            )
            try:
                tool = McpTool(definition, terms, server=server)
            except ValueError as err:
                log.warning("MCP tool %s is left out: %s", definition.action, err)
                failures.append((definition.action, str(err)))
                continue
            (denied if terms.policy == "deny" else tools).append(tool)
        log.info("MCP server %s: %d tools", name, len(definitions))
    return McpCatalogue(tools=tuple(tools), denied=tuple(denied), failures=tuple(failures))


def _list(name: str, server: Server) -> list[ToolDefinition]:
    return list_tools(name, server, timeout=server.baton.timeout or defaults.MCP_LIST_TIMEOUT_SECONDS)
