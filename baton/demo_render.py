"""Render what the bot shows in Slack as plain terminal text (for ``baton demo``). Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL = re.compile(r"<#([CDG][A-Z0-9]+)(?:\|([^>]*))?>")
_LINK = re.compile(r"<(https?://[^|>]+)(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<!(here|channel|everyone)>")
_DATE = re.compile(r"<!date\^\d+\^[^|>]*\|([^>]*)>")


@dataclass(frozen=True)
class Button:
    """A button the person can press with ``/click``."""

    label: str
    action_id: str
    value: str | None
    block_id: str | None
    channel: str
    message_ts: str


def plain(text: str, *, users: Mapping[str, str], channels: Mapping[str, str]) -> str:
    """Slack mrkdwn with mentions and links made readable."""
    text = _DATE.sub(lambda m: m.group(1), text)
    text = _USER.sub(lambda m: "@" + users.get(m.group(1), m.group(1)), text)
    text = _CHANNEL.sub(lambda m: "#" + (m.group(2) or channels.get(m.group(1), m.group(1))), text)
    text = _LINK.sub(lambda m: f"{m.group(2)} ({m.group(1)})" if m.group(2) else m.group(1), text)
    text = _SPECIAL.sub(lambda m: "@" + m.group(1), text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def render_notice(
    notice: dict[str, Any], *, users: Mapping[str, str], channels: Mapping[str, str]
) -> tuple[list[str], list[Button]]:
    """Lines to print for one thing the bot showed (a post, an update, an ephemeral, a modal), and its buttons."""
    method = notice.get("method", "")
    if method == "views.open":
        view = notice.get("view") or {}
        title = (view.get("title") or {}).get("text", "")
        lines = [f"  ┌ modal: {title}"]
        lines += ["  │ " + line for line in _blocks_text(view.get("blocks") or [], users, channels)]
        return lines, []
    message = notice.get("message") or {}
    channel = notice.get("channel", "")
    where = "#" + channels.get(channel, channel)
    label = {
        "chat.update": "updated",
        "chat.postEphemeral": "only visible to you",
        "response_url": "updated",
    }.get(method, "")
    thread = (
        " (in thread)" if message.get("thread_ts") and message.get("thread_ts") != message.get("ts") else ""
    )
    header = f"[{where}] Baton{thread}" + (f" — {label}" if label else "") + ":"
    blocks = message.get("blocks") or []
    body = _blocks_text(blocks, users, channels) if blocks else []
    if not body:
        body = plain(message.get("text", ""), users=users, channels=channels).splitlines()
    buttons = _buttons(blocks, channel=channel, ts=str(notice.get("ts") or message.get("ts") or ""))
    lines = [header, *("  " + line for line in body)]
    if buttons:
        lines.append("  " + "  ".join(f"[{b.label}]" for b in buttons) + "   (press with /click <label>)")
    return lines, buttons


def _blocks_text(
    blocks: list[dict[str, Any]], users: Mapping[str, str], channels: Mapping[str, str]
) -> list[str]:
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind in ("section", "header"):
            text = (block.get("text") or {}).get("text", "")
            lines += plain(text, users=users, channels=channels).splitlines()
            for field in block.get("fields") or []:
                lines.append(plain(field.get("text", ""), users=users, channels=channels))
        elif kind == "context":
            parts = [element.get("text", "") for element in block.get("elements") or [] if "text" in element]
            lines.append(plain(" · ".join(parts), users=users, channels=channels))
        elif kind == "divider":
            lines.append("─" * 40)
        elif kind == "rich_text":
            lines.append(_rich_text(block))
        elif kind == "actions":
            inputs = [_input_text(e, users) for e in block.get("elements") or [] if e.get("type") != "button"]
            if inputs:
                lines.append("    " + " · ".join(inputs))
    return lines


def _input_text(element: dict[str, Any], users: Mapping[str, str]) -> str:
    """How an input element on a message reads in the terminal (its initial value)."""
    kind = element.get("type")
    if kind == "checkboxes":
        label = ((element.get("options") or [{}])[0].get("text") or {}).get("text", "")
        return ("[x] " if element.get("initial_options") else "[ ] ") + str(label)
    if kind == "users_select":
        user = element.get("initial_user")
        return "owner: " + (f"@{users.get(user, user)}" if user else "(nobody yet)")
    if kind == "datepicker":
        return "due: " + str(element.get("initial_date") or "(no date)")
    return str((element.get("placeholder") or {}).get("text") or kind)


def _rich_text(block: dict[str, Any]) -> str:
    words: list[str] = []
    for section in block.get("elements") or []:
        for element in section.get("elements") or []:
            words.append(element.get("text", ""))
    return "".join(words)


def _buttons(blocks: list[dict[str, Any]], *, channel: str, ts: str) -> list[Button]:
    found: list[Button] = []
    for block in blocks:
        elements = list(block.get("elements") or []) if block.get("type") == "actions" else []
        accessory = block.get("accessory")
        if isinstance(accessory, dict):
            elements.append(accessory)
        for element in elements:
            if element.get("type") == "button":
                found.append(
                    Button(
                        label=(element.get("text") or {}).get("text", element.get("action_id", "")),
                        action_id=element.get("action_id", ""),
                        value=element.get("value"),
                        block_id=block.get("block_id"),
                        channel=channel,
                        message_ts=ts,
                    )
                )
    return found


def find_button(buttons: list[Button], wanted: str) -> Button | None:
    """The button whose label or action_id matches ``wanted`` (case-insensitive, prefix allowed)."""
    key = wanted.strip().lower()
    for button in reversed(buttons):
        if key in (button.label.lower(), button.action_id.lower()):
            return button
    for button in reversed(buttons):
        if button.label.lower().startswith(key) or button.action_id.lower().startswith(key):
            return button
    return None
