"""``/baton tools`` (pure): the table of every action, as the CLI prints it, in a code block."""

from __future__ import annotations

from core.tool_listing import ToolListing, table_lines
from slackui.limits import MESSAGE_TEXT

TOOLS_INTRO = (
    "*Actions I can take* (risk, idempotency class and policy; MCP tools as last listed: "
    "an operator refreshes them with `baton tools refresh`)"
)
TOOLS_UNAVAILABLE = "_The action list is unavailable right now; try again in a moment._"
#: After a table cut to fit one message (a catalogue of several hundred tools).
TOOLS_MORE = "_{count} more lines left out to fit one message; `baton tools` lists them all._"


def tools_text(listing: ToolListing) -> str:
    """The ephemeral reply: intro, then the table. It is a message's ``text`` (no blocks), so every action of a
    large catalogue fits (a section would hold ~40 rows); past one message the table is cut where a line ends,
    saying how many lines are left out and where to see them all."""
    lines = table_lines(listing)
    budget = MESSAGE_TEXT - len(TOOLS_INTRO) - len(TOOLS_MORE) - 20  # the fences, newlines and the count
    kept: list[str] = []
    for line in lines:
        budget -= len(line) + 1
        if budget < 0:
            break
        kept.append(line)
    table = "\n".join(kept)
    more = "" if len(kept) == len(lines) else "\n" + TOOLS_MORE.format(count=len(lines) - len(kept))
    return f"{TOOLS_INTRO}\n```{table}```{more}"
