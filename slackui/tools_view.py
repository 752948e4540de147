"""``/baton tools`` (pure): the table of every action, as the CLI prints it, in a code block."""

from __future__ import annotations

from core.tool_listing import ToolListing, table_lines
from slackui.limits import SECTION_TEXT, clip

TOOLS_INTRO = (
    "*Actions I can take* (risk, idempotency class and policy; MCP tools as last listed: "
    "an operator refreshes them with `baton tools refresh`)"
)
TOOLS_UNAVAILABLE = "_The action list is unavailable right now; try again in a moment._"


def tools_text(listing: ToolListing) -> str:
    """The ephemeral reply: intro, then the table (clipped to one message section's worth)."""
    table = "\n".join(table_lines(listing))
    return f"{TOOLS_INTRO}\n```{clip(table, SECTION_TEXT - len(TOOLS_INTRO) - 10)}```"
