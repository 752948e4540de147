"""A modal that only tells the person something (it replaces a form that can no longer be submitted)."""

from __future__ import annotations

from typing import Any

from slackui.limits import mrkdwn, plain


def notice_modal(text: str, *, title: str = "Baton") -> dict[str, Any]:
    """A modal with one section of ``text`` and a Close button."""
    return {
        "type": "modal",
        "title": plain(title, 24),
        "close": plain("Close", 24),
        "blocks": [{"type": "section", "text": mrkdwn(text)}],
    }
