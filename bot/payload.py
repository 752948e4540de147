"""Reading the ids every interaction payload carries (block actions, view submissions, shortcuts).

Bolt hands listeners the parsed body as a plain dict; these read it defensively, so a field Slack leaves out
(or a forged payload) gives an empty id rather than an exception after the ack.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: An interaction payload as bolt parses it.
Body = Mapping[str, Any]


def plan_id(value: Any) -> int | None:
    text = str(value or "")
    return int(text) if text.isdigit() else None


def team_id(body: Body) -> str:
    return str((body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id") or "")


def user_id(body: Body) -> str:
    return str((body.get("user") or {}).get("id") or "")


def channel_id(body: Body) -> str | None:
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    return str(channel) if channel else None
