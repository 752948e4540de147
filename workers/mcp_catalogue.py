"""The MCP tools this worker offers: every configured server's tools, listed once when the worker starts.

A server that does not start or list its tools in time is reported (logged here, shown by ``baton doctor`` and
``baton tools``) and its tools are absent; Baton itself keeps running. A tool whose policy is ``deny`` is kept
in the listing (``baton tools`` shows it) but never becomes an action the planner can use.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
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
    #: The newest stored listing (``memory.mcp_listings``) this catalogue reflects; 0: listed live, not stored.
    version: int = 0

    def connectors(self, *, taken: Iterable[str] = ()) -> list[Connector]:
        """The usable tools as connectors, leaving out any whose action name is ``taken`` (a built-in's)."""
        reserved = set(taken)
        return [tool for tool in self.tools if tool.action not in reserved]


#: One server's listing: its tools, or why it could not be listed.
Listed = Sequence[ToolDefinition] | str


def load_catalogue(config: McpConfig) -> McpCatalogue:
    """List every server's tools live and make the catalogue (nothing is stored)."""
    return build_catalogue(config, list_servers(config))


def list_servers(config: McpConfig, *, only: Iterable[str] | None = None) -> dict[str, Listed]:
    """List every server's tools (or those named in ``only``), all at once (each within its ``timeout``, or the
    default listing timeout), so a server that hangs delays start-up by its own timeout only."""
    names = [name for name in config.servers if only is None or name in set(only)]
    if not names:
        return {}
    listed: dict[str, Listed] = {}
    with ThreadPoolExecutor(max_workers=min(len(names), _MAX_PARALLEL_LISTINGS)) as pool:
        listings = {name: pool.submit(_list, name, config.servers[name]) for name in names}
    for name, future in listings.items():
        try:
            listed[name] = future.result()
        except ServerUnavailable as err:
            log.warning("MCP server %s is unavailable, its tools are left out: %s", name, err)
            listed[name] = str(err)
            continue
        log.info("MCP server %s: %d tools", name, len(listed[name]))
    return listed


def build_catalogue(config: McpConfig, listed: Mapping[str, Listed], *, version: int = 0) -> McpCatalogue:
    """The catalogue of ``listed`` tools under ``config``'s terms (risk, policy, timeout per tool)."""
    tools: list[McpTool] = []
    denied: list[McpTool] = []
    failures: list[tuple[str, str]] = []
    for name, definitions in listed.items():
        server = config.servers.get(name)
        if server is None:
            continue
        if isinstance(definitions, str):
            failures.append((name, definitions))
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
    return McpCatalogue(tools=tuple(tools), denied=tuple(denied), failures=tuple(failures), version=version)


def _list(name: str, server: Server) -> list[ToolDefinition]:
    return list_tools(name, server, timeout=server.baton.timeout or defaults.MCP_LIST_TIMEOUT_SECONDS)
