"""``/baton tools``'s reply holds every action of a large catalogue, and says so when one message cannot."""

from __future__ import annotations

from core.tool_listing import ToolListing, ToolRow
from slackui.limits import MESSAGE_TEXT, SECTION_TEXT
from slackui.tools_view import tools_text


def listing(tools: int) -> ToolListing:
    rows = tuple(
        ToolRow(f"tracker.tool_number_{n:04d}", "mcp:tracker", "high", "at_most_once", "ask") for n in range(tools)
    )
    return ToolListing(rows=rows, unavailable=(("git", "did not start"),))


def test_a_catalogue_longer_than_a_section_is_listed_whole():
    text = tools_text(listing(200))
    assert len(text) > SECTION_TEXT and len(text) <= MESSAGE_TEXT
    assert all(f"tracker.tool_number_{n:04d}" in text for n in range(200))
    assert text.endswith("unavailable: git: did not start```")


def test_past_one_message_the_table_is_cut_at_a_line_and_says_how_much_is_left_out():
    text = tools_text(listing(2000))
    assert len(text) <= MESSAGE_TEXT
    table = text[text.index("```") + 3 : text.rindex("```")].splitlines()
    assert table[0].split() == ["ACTION", "SOURCE", "RISK", "IDEMPOTENCY", "POLICY"]
    assert all(line.split()[-1] == "ask" for line in table[1:])  # no half row
    left_out = 2000 + 2 - len(table)  # the rows and the unavailable line not shown
    assert text.endswith(f"_{left_out} more lines left out to fit one message; `baton tools` lists them all._")
