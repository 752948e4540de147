"""Helpers for core-loop scenarios: find the card, click its buttons, read what Slack saw."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from slackui import plan_card


def card_posts(bot: Any) -> list[Any]:
    """chat.postMessage calls that posted a plan card (they carry the Approve/Reject/Review actions or a header)."""
    return [
        call
        for call in bot.slack.calls_to("chat.postMessage")
        if any(block.get("type") == "header" for block in call.params.get("blocks") or [])
    ]


def plan_row(db: Any) -> dict[str, Any]:
    rows = db.execute("SELECT * FROM plans ORDER BY id").fetchall()
    assert len(rows) == 1, f"expected one plan, found {len(rows)}"
    return rows[0]


def click(bot: Any, user: str, plan: dict[str, Any], action_id: str) -> Any:
    return bot.slack.click(
        user, channel=plan["card_channel"], message_ts=plan["card_ts"], action_id=action_id, value=str(plan["id"])
    )


def ephemerals_to(bot: Any, user: str) -> list[str]:
    texts = [
        call.params.get("text", "")
        for call in bot.slack.calls_to("chat.postEphemeral")
        if call.params.get("user") == user
    ]
    return texts


def latest_card_blocks(bot: Any, plan: dict[str, Any]) -> list[dict[str, Any]]:
    messages = [m for m in bot.slack.messages(plan["card_channel"]) if m.get("ts") == plan["card_ts"]]
    assert messages, "the card message is gone"
    return messages[0].get("blocks") or []


def card_text(bot: Any, plan: dict[str, Any]) -> str:
    return json.dumps(latest_card_blocks(bot, plan))


def has_buttons(bot: Any, plan: dict[str, Any]) -> bool:
    return any(block.get("type") == "actions" for block in latest_card_blocks(bot, plan))


def posts_in(bot: Any, channel: str, *, containing: str) -> list[dict[str, Any]]:
    """Messages Baton itself posted in ``channel`` (not cards) whose text contains ``containing``."""
    return [
        m
        for m in bot.slack.messages(channel)
        if m.get("bot_id")
        and containing in (m.get("text") or "")
        and not any(b.get("type") == "header" for b in m.get("blocks") or [])
    ]


def audit_kinds(db: Any, plan_id: int) -> list[str]:
    rows = db.execute(
        "SELECT kind FROM audit_log WHERE plan_id = %s OR request_id = (SELECT request_id FROM plans WHERE id = %s) "
        "ORDER BY id",
        (plan_id, plan_id),
    ).fetchall()
    return [row["kind"] for row in rows]


def assert_own_approval_refused(bot: Any, db: Any, plan: dict[str, Any], requester: str) -> None:
    """The requester presses Approve on their own high-risk plan: refused (told only to them, audited), still
    pending."""
    click(bot, requester, plan, plan_card.APPROVE)
    bot.run_jobs()
    assert plan_row(db)["status"] == "pending"
    bot.slack.wait_for_deliveries()
    assert eventually(lambda: any("someone else has to approve" in text for text in ephemerals_to(bot, requester)))
    assert "plan.click_refused" in audit_kinds(db, plan["id"])


def click_body(plan: dict[str, Any], *, user: str, team: str = "T0LOCAL") -> str:
    """A signed-able ``block_actions`` body pressing Approve on the card as first posted.

    Built from the plan row rather than the live message, so a second press can happen "before"
    the card lost its buttons, as with a real double click or a replayed request.
    """
    return foreign_click_body(plan, team=team, user=user)


def foreign_click_body(plan: dict[str, Any], *, team: str, user: str) -> str:
    payload = {
        "type": "block_actions",
        "team": {"id": team, "domain": "other"},
        "user": {"id": user, "username": "mallory", "name": "mallory", "team_id": team},
        "api_app_id": "A0BATON",
        "container": {"type": "message", "message_ts": plan["card_ts"], "channel_id": plan["card_channel"]},
        "trigger_id": "1.T0OTHER.abc",
        "channel": {"id": plan["card_channel"], "name": "general"},
        "actions": [
            {
                "type": "button",
                "action_id": plan_card.APPROVE,
                "block_id": f"plan_actions_{plan['id']}",
                "value": str(plan["id"]),
                "action_ts": "1700000000.000001",
                "text": {"type": "plain_text", "text": "Approve"},
            }
        ],
        "response_url": "http://127.0.0.1:9/hooks/none",
    }
    return "payload=" + quote(json.dumps(payload))


def eventually(check: Any, *, timeout: float = 5.0) -> Any:
    """Poll ``check()`` until it returns something truthy (listeners finish just after their ack)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.02)


def ask_baton_shortcut_body(*, user: str, channel: str, author: str, ts: str, text: str, trigger: str) -> str:
    """A signed-ready "Ask Baton" message shortcut payload: ``user`` asks about ``author``'s message."""
    payload = {
        "type": "message_action",
        "callback_id": "ask_baton",
        "trigger_id": trigger,
        "team": {"id": "T0LOCAL", "domain": "local"},
        "user": {"id": user, "name": user.lower()},
        "channel": {"id": channel, "name": channel.lower()},
        "message": {"type": "message", "user": author, "ts": ts, "text": text},
        "response_url": "http://127.0.0.1:9/hooks/none",
        "message_ts": ts,
    }
    return "payload=" + quote(json.dumps(payload))


def approve_twice_and_run(bot: Any, plan: dict[str, Any], *, user: str = "U0BOB") -> None:
    """Press Approve twice with one signed body (a double click, or Slack replaying the request), then run the
    jobs it enqueued and those they enqueue."""
    body = click_body(plan, user=user)
    form = "application/x-www-form-urlencoded"
    assert bot.post_signed(body, content_type=form).status == 200
    assert bot.post_signed(body, content_type=form).status == 200
    bot.run_jobs(wait_for=1)
    bot.run_jobs()
