"""Helpers for meeting scenarios: a pinned clock, uploads, the notes card, scheduler ticks."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from slackui import meeting_views
from workers.job_context import install
from workers.scheduler import scheduler_tick

#: Monday 2026-11-23, 10:00 UTC (11:00 in Alice's Berlin, 05:00 in Bob's New York).
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)

SAMPLE_VTT = b"""WEBVTT

1
00:00:01.000 --> 00:00:05.000
Alice: Welcome everyone, this is the launch planning meeting for the new billing page.

2
00:00:05.000 --> 00:00:10.000
Bob: We decided to ship the beta to all customers on the first of next month.

3
00:00:10.000 --> 00:00:15.000
Alice: I'll send the launch checklist to the whole team by Friday.

4
00:00:15.000 --> 00:00:20.000
Bob: Sounds good. I will update the pricing page tomorrow.
"""

MENTION = "<@U0BATON> notes please"


def set_clock(bot: Any, moment: datetime) -> None:
    """Pin the injected clock (web process and worker) to ``moment``."""
    bot.clock.offset = moment - datetime.now(UTC)


def upload(bot: Any, content: bytes = SAMPLE_VTT, *, name: str = "launch.vtt", user: str = "U0ALICE",
           channel: str = "C0GENERAL", comment: str | None = MENTION, thread_ts: str | None = None,
           filetype: str = "text", jobs: int = 1) -> str:
    """Upload a file (mentioning Baton by default) and run the jobs it causes; returns the file id."""
    file_id = bot.slack.upload_file(user, channel, name=name, content=content, filetype=filetype,
                                    initial_comment=comment, thread_ts=thread_ts)
    bot.run_jobs(wait_for=jobs)
    return str(file_id)


def tick(bot: Any) -> dict[str, list[int]]:
    """One scheduler tick at the injected time (digests, follow-ups, the reconciler), then the jobs it queued."""
    context = bot.context(**bot.setting_changes)
    install(context)
    done = scheduler_tick(context, now=context.now())
    bot.run_jobs()
    return done


def meeting_row(db: Any) -> dict[str, Any]:
    rows = db.execute("SELECT * FROM meetings ORDER BY id").fetchall()
    assert len(rows) == 1, f"expected one meeting, found {len(rows)}"
    return rows[0]


def card(bot: Any, meeting: dict[str, Any]) -> dict[str, Any]:
    found = [m for m in bot.slack.messages(meeting["card_channel"]) if m.get("ts") == meeting["card_ts"]]
    assert found, "the notes card is gone"
    return found[0]


def card_json(bot: Any, meeting: dict[str, Any]) -> str:
    return json.dumps(card(bot, meeting).get("blocks"))


def create_followups(bot: Any, meeting: dict[str, Any], *, user: str = "U0ALICE") -> Any:
    return bot.slack.click(user, channel=meeting["card_channel"], message_ts=meeting["card_ts"],
                           action_id=meeting_views.CREATE_FOLLOWUPS, value=str(meeting["id"]))


def replayed_create(bot: Any, meeting: dict[str, Any], *, user: str) -> Any:
    """A signed Create follow-ups press built from the card as first posted (a double click or a replay
    arriving after the card lost its button)."""
    payload = {
        "type": "block_actions", "team": {"id": "T0LOCAL", "domain": "baton-local"},
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": "T0LOCAL"},
        "api_app_id": "A0BATON", "trigger_id": "1.T0LOCAL.replay",
        "container": {"type": "message", "message_ts": meeting["card_ts"], "channel_id": meeting["card_channel"]},
        "channel": {"id": meeting["card_channel"], "name": "general"}, "state": {"values": {}},
        "actions": [{"type": "button", "action_id": meeting_views.CREATE_FOLLOWUPS,
                     "block_id": f"meeting_actions:{meeting['id']}", "value": str(meeting["id"]),
                     "action_ts": "1700000000.000001", "text": {"type": "plain_text", "text": "Create follow-ups"}}],
        "response_url": "http://127.0.0.1:9/hooks/none",
    }
    return bot.post_signed("payload=" + quote(json.dumps(payload)), content_type="application/x-www-form-urlencoded")


def bot_posts(bot: Any, channel: str, *, containing: str = "") -> list[dict[str, Any]]:
    return [m for m in bot.slack.messages(channel) if m.get("bot_id") and containing in json.dumps(m)]


def replies(bot: Any, meeting: dict[str, Any], *, containing: str) -> list[dict[str, Any]]:
    """Baton's messages in the meeting thread (not the card) whose text contains ``containing``."""
    return [m for m in bot_posts(bot, meeting["card_channel"], containing=containing)
            if m.get("ts") != meeting["card_ts"] and containing in (m.get("text") or "")]


def tasks(db: Any) -> list[dict[str, Any]]:
    return db.execute("SELECT * FROM tasks ORDER BY id").fetchall()


def click_item(bot: Any, message: dict[str, Any], channel: str, action_id: str, item: int, *,
               user: str) -> Any:
    return bot.slack.click(user, channel=channel, message_ts=message["ts"], action_id=action_id,
                           block_id=f"{meeting_views.ITEM_BLOCK_PREFIX}{item}")
