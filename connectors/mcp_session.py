"""Talking to one MCP server with the official ``mcp`` SDK: list its tools, or call one tool.

Each call opens its own session (starts the stdio server, or connects over streamable HTTP), does its work
under a deadline and closes it: a worker forks a process per job, and a session cannot cross a fork. The SDK is
asynchronous; these functions run it to completion with ``anyio.run`` so connectors stay synchronous.

Exceptions::

    McpError
     ├── ServerUnavailable   the server did not start, connect or list its tools (in time); nothing was called
     ├── ToolChanged         the tool's definition differs from the pinned one (or it is gone); nothing was called
     └── CallInterrupted     the call was sent and then timed out or lost its connection: it may have happened
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio

from core.mcp_config import HttpServer, Server
from core.mcp_tools import ToolDefinition

if TYPE_CHECKING:
    from mcp import Client
    from mcp_types import CallToolResult, Tool

log = logging.getLogger(__name__)

#: JSON-RPC 2.0 errors that mean the server refused the request before doing anything (others, such as an
#: internal error or a closed connection, may come after the tool started): parse error, invalid request, method
#: not found, invalid params (the spec's fixed codes; ``mcp_types`` names them).
_REFUSALS = frozenset({-32700, -32600, -32601, -32602})
#: What this module takes from the SDK (imported where used, all at once by :func:`load_sdk`).
_SDK_MODULES = (
    "mcp",
    "mcp.client.stdio",
    "mcp.client.streamable_http",
    "mcp.shared._httpx_utils",
    "mcp.shared.exceptions",
)
#: Pages of ``tools/list`` read at most (a server that keeps paginating is cut off here).
MAX_LIST_PAGES = 20


class McpError(Exception):
    """Base of failures talking to an MCP server; ``str(err)`` is a short reason."""


class ServerUnavailable(McpError):
    """The server did not start, connect or answer ``tools/list`` in time. Nothing was called."""


class ToolChanged(McpError):
    """The server now describes the tool differently from the pinned definition (or no longer offers it)."""


class CallInterrupted(McpError):
    """The call was sent and then timed out or the connection dropped: it may or may not have happened."""


class CallRefused(McpError):
    """The server answered the call with a protocol error (unknown tool, invalid params): nothing happened."""


@dataclass(frozen=True)
class CallOutcome:
    """A completed ``tools/call``: its content as text, its structured content, and whether it is an error."""

    text: str
    structured: Mapping[str, Any] | None
    is_error: bool


def load_sdk() -> None:
    """Import the ``mcp`` SDK now. It is imported on first use otherwise: ~30 MB and ~1 s that a process with no
    MCP server configured never needs; a worker with servers calls this before it forks, so its jobs inherit it."""
    for module in _SDK_MODULES:
        importlib.import_module(module)


def list_tools(name: str, server: Server, *, timeout: float) -> list[ToolDefinition]:
    """Every tool ``server`` offers, as definitions under the configured ``name``; raises ServerUnavailable."""

    async def run() -> list[ToolDefinition]:
        with anyio.fail_after(timeout):
            async with _client(server) as client:
                return await _listed(name, client)

    try:
        return anyio.run(run)
    except Exception as raised:  # the SDK, the subprocess and the network raise many kinds; all mean "unavailable"
        err = _leaf(raised)
        if isinstance(err, TimeoutError):
            raise ServerUnavailable(f"did not start and list its tools within {timeout:g} s") from None
        raise ServerUnavailable(_reason(err)) from err


def call_tool(
    name: str, server: Server, *, tool: str, arguments: Mapping[str, Any], timeout: float, expected_pin: str | None
) -> CallOutcome:
    """Call ``tool`` once. With ``expected_pin``, list the tools first in the same session and refuse
    (ToolChanged) if the definition's pin differs. The deadline covers the whole session."""
    sent = False

    async def run() -> CallOutcome:
        nonlocal sent
        with anyio.fail_after(timeout):
            async with _client(server) as client:
                if expected_pin is not None:
                    current = {definition.name: definition for definition in await _listed(name, client)}
                    definition = current.get(tool)
                    if definition is None:
                        raise ToolChanged(f"{name} no longer offers the tool {tool}")
                    if definition.pin != expected_pin:
                        raise ToolChanged(f"the tool {name}.{tool} changed since the plan was approved")
                sent = True
                result = await client.call_tool(tool, dict(arguments))
                return _outcome(result)

    try:
        return anyio.run(run)
    except Exception as raised:  # task groups wrap what the session raised: look at the leaf
        from mcp.shared.exceptions import MCPError  # deferred: the SDK is loaded on first use (load_sdk)

        err = _leaf(raised)
        if isinstance(err, McpError):
            raise err from None
        if isinstance(err, MCPError) and err.code in _REFUSALS:  # the server refused the request: nothing ran
            raise (CallRefused if sent else ServerUnavailable)(_reason(err)) from err
        if isinstance(err, TimeoutError):
            if sent:
                raise CallInterrupted(f"no answer within {timeout:g} s") from None
            raise ServerUnavailable(f"did not start within {timeout:g} s") from None
        if sent:
            raise CallInterrupted(f"the connection was lost during the call ({_reason(err)})") from err
        raise ServerUnavailable(_reason(err)) from err


@asynccontextmanager
async def _client(server: Server) -> AsyncIterator[Client]:
    """A connected session; for HTTP, with an HTTP client of our own that is closed with it (the SDK leaves a
    client it was given open)."""
    from mcp import Client  # deferred: the SDK is loaded on first use (load_sdk)
    from mcp.client.stdio import StdioServerParameters  # deferred: as above
    from mcp.client.streamable_http import streamable_http_client  # deferred: as above
    from mcp.shared._httpx_utils import create_mcp_http_client  # deferred: as above

    if isinstance(server, HttpServer):
        async with create_mcp_http_client(headers=dict(server.headers)) as http:
            transport = streamable_http_client(server.url, http_client=http)
            async with Client(transport, mode="legacy", cache=None) as client:
                yield client
        return
    params = StdioServerParameters(command=server.command, args=list(server.args), env=dict(server.env) or None,
                                   cwd=server.cwd)
    async with Client(params, mode="legacy", cache=None) as client:
        yield client


async def _listed(name: str, client: Client) -> list[ToolDefinition]:
    tools: list[ToolDefinition] = []
    cursor: str | None = None
    for _ in range(MAX_LIST_PAGES):
        page = await client.list_tools(cursor=cursor)
        tools.extend(_definition(name, tool) for tool in page.tools)
        cursor = page.next_cursor
        if not cursor:
            break
    return tools


def _definition(server: str, tool: Tool) -> ToolDefinition:
    annotations = tool.annotations.model_dump(mode="json", by_alias=True, exclude_none=True) if tool.annotations else {}
    return ToolDefinition(
        server=server,
        name=tool.name,
        description=tool.description or "",
        input_schema=dict(tool.input_schema),
        annotations=annotations,
    )


def _outcome(result: CallToolResult) -> CallOutcome:
    parts: list[str] = []
    for block in result.content:
        kind = getattr(block, "type", "")
        if kind == "text":
            parts.append(str(getattr(block, "text", "")))
        elif kind == "resource_link":
            parts.append(f"[resource {getattr(block, 'uri', '')}]")
        elif kind == "resource":
            resource = getattr(block, "resource", None)
            parts.append(str(getattr(resource, "text", "") or f"[resource {getattr(resource, 'uri', '')}]"))
        else:
            parts.append(f"[{kind or 'content'}]")
    structured = result.structured_content if isinstance(result.structured_content, dict) else None
    return CallOutcome(text="\n".join(parts), structured=structured, is_error=bool(result.is_error))


def _leaf(err: BaseException) -> BaseException:
    """The first exception inside (nested) exception groups, which anyio's task groups raise."""
    while isinstance(err, BaseExceptionGroup) and err.exceptions:
        err = err.exceptions[0]
    return err


def _reason(err: BaseException) -> str:
    """A short reason (the first leaf of an exception group)."""
    err = _leaf(err)
    text = str(err).strip() or type(err).__name__
    return text[:300]
