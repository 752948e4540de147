"""Baton's App Home tab (pure): the person's open action items, approvals waiting for them, the plans
they asked for that are still pending, and their digest settings."""

from __future__ import annotations

from datetime import date
from typing import Any

from core.digest.facts import PlanFact
from slackui.limits import SECTION_TEXT, clip
from slackui.model_text import readable_refs

#: An open task as the Home tab lists it: (title, link to its meeting notes or None, due date or None).
HomeItem = tuple[str, str | None, date | None]

#: A Home tab holds up to 100 blocks; each list is capped well below so all of them fit.
LIST_CAP = 15


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, SECTION_TEXT)}}


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _linked(title: str, link: str | None) -> str:
    title = _escape(clip(readable_refs(title), 150))  # a link's label shows references as typed
    return f"<{link}|{title}>" if link else title


def _list(title: str, lines: list[str], empty: str) -> list[dict[str, Any]]:
    body = "\n".join(f"• {line}" for line in lines[:LIST_CAP]) or f"_{empty}_"
    if len(lines) > LIST_CAP:
        body += f"\n…and {len(lines) - LIST_CAP} more"
    return [_section(f"*{title}*\n{body}")]


def home_view(*, items: list[HomeItem], approvals: list[PlanFact], requested: list[PlanFact],
              digests: list[str], today: date) -> dict[str, Any]:
    """The ``home`` view to publish for one person."""
    item_lines = []
    for title, link, due_date in items:
        due = "no due date" if due_date is None else _due(due_date, today)
        item_lines.append(f"{_linked(title, link)} · {due}")
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "Baton", "emoji": True}},
        *_list("Your open action items", item_lines, "Nothing open. Nice."),
        {"type": "divider"},
        *_list("Waiting for your approval",
               [f"{_linked(p.title, p.link)} · {p.risk} risk · asked by <@{p.requester_id}>" for p in approvals],
               "Nothing waits for you."),
        *_list("Your pending requests", [f"{_linked(p.title, p.link)} · in <#{p.channel_id}>" for p in requested],
               "None."),
        {"type": "divider"},
        *_list("Digests", digests, "No digests yet. Try `/baton digest daily 09:00` in a channel, or "
                                   "`/baton digest me weekdays 08:30` for your own by DM."),
    ]
    return {"type": "home", "blocks": blocks}


def _due(day: date, today: date) -> str:
    days = (today - day).days
    if days > 0:
        return f"*{days} day{'s' if days != 1 else ''} overdue* ({day.isoformat()})"
    if days == 0:
        return "*due today*"
    return f"due {day.isoformat()}"
