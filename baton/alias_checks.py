"""``baton doctor``'s word on the chat aliases: each alias's action must be one this deployment offers.

An alias naming an action that is not there (a typo, a tool the server no longer lists, a ``deny`` tool, a server
that is down) is refused when it matches and left out of ``/baton help``; the doctor says so beforehand.
"""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient

from core.mcp_config import McpConfig
from workers.connector_wiring import build_registry
from workers.mcp_catalogue import McpCatalogue


def alias_problems(settings: Any, config: McpConfig, catalogue: McpCatalogue) -> list[str] | None:
    """One problem per alias whose action is not available (``[]``: all are); None when there are no aliases."""
    if not config.aliases:
        return None
    registry = build_registry(
        settings,
        slack=WebClient(token=None),
        connect=_never,
        now=_never,
        mcp=catalogue,  # nothing is called
    )
    available = set(registry.actions)
    denied = {tool.action for tool in catalogue.denied}
    return [
        f"“{alias.pattern}” runs {alias.action}, which "
        + ("is denied by policy" if alias.action in denied else "is not an available action")
        for alias in config.aliases
        if alias.action not in available
    ]


def _never() -> Any:
    raise RuntimeError("checking aliases lists actions; it never connects or reads the clock")
