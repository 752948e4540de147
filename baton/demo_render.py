"""Render what the bot shows in Slack as terminal text (for ``baton demo``), and say which button a
``/click`` means. Pure.

Each button remembers who can see it: everyone in the channel, or only one person (an ephemeral message,
or a DM with the bot). The terminal shows every message, but offers a button only to someone who can see it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from baton.demo_mrkdwn import plain

#: mrkdwn -> terminal text, with the names and settings of one rendering (:func:`plain`, partly applied).
Write = Callable[[str], str]


@dataclass(frozen=True)
class Button:
    """A button the person can press with ``/click``."""

    label: str
    action_id: str
    value: str | None
    block_id: str | None
    channel: str
    message_ts: str
    #: The only person who sees the message (ephemeral or DM); None for everyone in the channel.
    visible_to: str | None = None
    #: What the button is about (its section's text, else the message's first line), to tell alike ones apart.
    context: str = ""
    #: For a button in an actions block: the first line of the section just above it (an item's title), if
    #: that is not the context already.
    detail: str = ""

    @property
    def about(self) -> str:
        """Context and detail, as one line."""
        return f"{self.context} — {self.detail}" if self.detail else self.context


@dataclass(frozen=True)
class Field:
    """An input on a message (a tick box, an owner picker, a date) the person can set with ``/pick``."""

    kind: str  # the element type: checkboxes, users_select, datepicker, static_select, ...
    name: str  # how the terminal calls it: the tick box's label, "owner", "due", the placeholder
    element: dict[str, Any]
    block_id: str
    channel: str
    message_ts: str
    visible_to: str | None
    #: What it is about: the text of the section above it (an action item's title).
    context: str


def message_fields(
    notice: dict[str, Any], *, users: Mapping[str, str], channels: Mapping[str, str], dms: Mapping[str, str]
) -> list[Field]:
    """The inputs of the message in ``notice`` (none for a modal: ``/modal`` fills those), in order."""
    if notice.get("method") == "views.open":
        return []
    message = notice.get("message") or {}
    channel = notice.get("channel", "")
    visible_to = notice.get("user") or message.get("recipient") or dms.get(channel)
    found: list[Field] = []
    about = ""
    for block in message.get("blocks") or []:
        if block.get("type") == "section":
            text = plain((block.get("text") or {}).get("text", ""), users=users, channels=channels)
            about = text.splitlines()[0] if text else ""
        if block.get("type") != "actions":
            continue
        for element in block.get("elements") or []:
            kind = element.get("type", "")
            if kind in ("button", "overflow") or "action_id" not in element:
                continue
            found.append(
                Field(
                    kind=kind,
                    name=_field_name(element),
                    element=element,
                    block_id=str(block.get("block_id", "")),
                    channel=channel,
                    message_ts=str(notice.get("ts") or message.get("ts") or ""),
                    visible_to=visible_to,
                    context=_strip_number(about),
                )
            )
    return found


def _field_name(element: dict[str, Any]) -> str:
    kind = element.get("type")
    if kind == "checkboxes":
        return " / ".join(_option_label(o) for o in element.get("options") or [])
    if kind == "users_select":
        return "owner"
    if kind == "datepicker":
        return "due"
    return str((element.get("placeholder") or {}).get("text") or element.get("action_id", kind))


def _option_label(option: dict[str, Any]) -> str:
    return str((option.get("text") or {}).get("text", option.get("value", "")))


def _strip_number(text: str) -> str:
    """``1. Send the checklist · said: “by Friday”`` -> ``Send the checklist``."""
    head = text.split(" · ", 1)[0]
    number, dot, rest = head.partition(". ")
    return rest if dot and number.isdigit() else head


def render_notice(
    notice: dict[str, Any],
    *,
    users: Mapping[str, str],
    channels: Mapping[str, str],
    dms: Mapping[str, str] | None = None,
    viewer: str = "",
    ansi: bool = False,
    local_urls: tuple[str, ...] = (),
) -> tuple[list[str], list[Button]]:
    """Lines to print for one thing the bot showed (a post, an update, an ephemeral, a modal), and its buttons.

    ``dms`` maps a DM channel to its person; ``viewer`` is who is at the keyboard now (buttons of a message
    only someone else sees are shown but not offered); ``local_urls``: see :func:`plain`.
    """
    write = partial(plain, users=users, channels=channels, ansi=ansi, local_urls=local_urls)
    method = notice.get("method", "")
    if method == "views.open":
        view = notice.get("view") or {}
        title = (view.get("title") or {}).get("text", "")
        lines = [f"  ┌ modal: {title}"]
        lines += ["  │ " + line for line in _blocks_text(view.get("blocks") or [], write, users)]
        return lines, []
    message = notice.get("message") or {}
    channel = notice.get("channel", "")
    owner = (dms or {}).get(channel)
    ephemeral_to = notice.get("user") or message.get("recipient")
    visible_to = ephemeral_to or owner
    where = f"DM to @{users.get(owner, owner)}" if owner else "#" + channels.get(channel, channel)
    if ephemeral_to:
        label = "only visible to " + ("you" if ephemeral_to == viewer else "@" + users.get(ephemeral_to, ephemeral_to))
    else:
        label = {"chat.update": "updated", "response_url": "updated"}.get(method, "")
    thread = " (in thread)" if message.get("thread_ts") and message.get("thread_ts") != message.get("ts") else ""
    header = f"[{where}] Baton{thread}" + (f" — {label}" if label else "") + ":"
    blocks = message.get("blocks") or []
    body = (_blocks_text(blocks, write, users) if blocks else []) or write(message.get("text", "")).splitlines()
    flat = partial(plain, users=users, channels=channels, local_urls=local_urls)
    readable = _blocks_text(blocks, flat, users) or flat(message.get("text", "")).splitlines()
    buttons = _buttons(
        blocks,
        channel=channel,
        ts=str(notice.get("ts") or message.get("ts") or ""),
        visible_to=visible_to,
        title=readable[0] if readable else "",
        readable=flat,
    )
    lines = [header, *("  " + line for line in body)]
    if buttons:
        hint = (
            "(press with /click <label>)"
            if visible_to in (None, viewer)
            else f"(only @{users.get(visible_to, visible_to)} can press these: /as {users.get(visible_to, visible_to)})"
        )
        lines.append("  " + "  ".join(f"[{b.label}]" for b in buttons) + "   " + hint)
    return lines, buttons


def render_home(
    view: dict[str, Any],
    *,
    owner: str,
    users: Mapping[str, str],
    channels: Mapping[str, str],
    ansi: bool = False,
    local_urls: tuple[str, ...] = (),
) -> list[str]:
    """Lines for a person's App Home tab (the view Baton published for them)."""
    write = partial(plain, users=users, channels=channels, ansi=ansi, local_urls=local_urls)
    lines = _blocks_text(view.get("blocks") or [], write, users)
    return [f"[App Home of @{users.get(owner, owner)}]", *("  " + line for line in lines)]


def render_reply(
    body: str,
    *,
    status: int,
    command: str,
    channel: str,
    users: Mapping[str, str],
    channels: Mapping[str, str],
    ansi: bool = False,
    local_urls: tuple[str, ...] = (),
) -> list[str]:
    """Lines for the bot's immediate HTTP answer to a slash command, click or modal (nothing when empty)."""
    if status >= 400:
        return [f"(Baton answered {command} with HTTP {status}: {body.strip()[:200]})"]
    try:
        reply = json.loads(body) if body.strip() else {}
    except ValueError:
        reply = {"text": body}
    if not isinstance(reply, dict):
        return []
    if reply.get("response_action") == "errors":
        errors = reply.get("errors") or {}
        return [f"({command} was not accepted: " + "; ".join(f"{k}: {v}" for k, v in errors.items()) + ")"]
    write = partial(plain, users=users, channels=channels, ansi=ansi, local_urls=local_urls)
    blocks = reply.get("blocks") or []
    text = (_blocks_text(blocks, write, users) if blocks else []) or write(str(reply.get("text") or "")).splitlines()
    if not text:
        return []
    where = "#" + channels.get(channel, channel)
    return [f"[{where}] Baton — reply to {command}, only visible to you:", *("  " + line for line in text)]


def match_buttons(buttons: list[Button], wanted: str, *, viewer: str) -> list[Button]:
    """The buttons ``/click wanted`` may mean, among those ``viewer`` can see; never a guess between several.

    No label: all of them. Else the buttons whose label or action_id is ``wanted`` (case-insensitive); else
    those it is the start of; else, for ``<label> <words>``, those with that label whose message or section
    contains the words (``/click delete release train``). More than one means the caller asks which.
    """
    visible = [b for b in buttons if b.visible_to in (None, viewer)]
    key = " ".join(wanted.lower().split())
    if not key:
        return visible
    exact = [b for b in visible if key in (b.label.lower(), b.action_id.lower())]
    if exact:
        return exact
    prefix = [b for b in visible if b.label.lower().startswith(key) or b.action_id.lower().startswith(key)]
    if prefix:
        return prefix
    return [b for b in visible if key.startswith(b.label.lower() + " ") and key[len(b.label) + 1 :] in b.about.lower()]


#: How a task of a ``plan`` block reads in the terminal, by status.
_TASK_MARK = {"pending": "○", "in_progress": "◐", "complete": "✓", "error": "✗"}


def _blocks_text(blocks: list[dict[str, Any]], write: Write, users: Mapping[str, str]) -> list[str]:
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind in ("section", "header"):
            text = (block.get("text") or {}).get("text", "")
            lines += write(text).splitlines()
            for field in block.get("fields") or []:
                lines.append(write(field.get("text", "")))
        elif kind == "context":
            parts = [element.get("text", "") for element in block.get("elements") or [] if "text" in element]
            lines.append(write(" · ".join(parts)))
        elif kind == "divider":
            lines.append("─" * 40)
        elif kind == "rich_text":
            lines.append(_rich_text(block))
        elif kind == "plan":  # BATON_SLACK_PLAN_BLOCKS: the steps as tasks
            lines.append(write(str(block.get("title") or "")))
            for task in block.get("tasks") or []:
                lines.append(f"  {_TASK_MARK.get(task.get('status'), '·')} {write(str(task.get('title') or ''))}")
        elif kind == "actions":
            inputs = [_input_text(e, users) for e in block.get("elements") or [] if e.get("type") != "button"]
            if inputs:
                lines.append("    " + " · ".join(inputs))
        elif kind == "input":
            label = (block.get("label") or {}).get("text", "")
            element = block.get("element") or {}
            lines.append(f"{label}: " + _input_text(element, users) + f"   (field {block.get('block_id', '')})")
    return lines


def _input_text(element: dict[str, Any], users: Mapping[str, str]) -> str:
    """How an input element reads in the terminal (its initial value)."""
    kind = element.get("type")
    if kind == "checkboxes":
        ticked = {o.get("value") for o in element.get("initial_options") or []}
        return " ".join(
            ("[x] " if option.get("value") in ticked else "[ ] ") + str((option.get("text") or {}).get("text", ""))
            for option in element.get("options") or [{}]
        )
    if kind == "users_select":
        user = element.get("initial_user")
        return "owner: " + (f"@{users.get(user, user)}" if user else "(nobody yet)")
    if kind == "datepicker":
        return "due: " + str(element.get("initial_date") or "(no date)")
    if kind == "plain_text_input":
        return str(element.get("initial_value") or (element.get("placeholder") or {}).get("text") or "(text)")
    return str((element.get("placeholder") or {}).get("text") or kind)


def _rich_text(block: dict[str, Any]) -> str:
    words: list[str] = []
    for section in block.get("elements") or []:
        for element in section.get("elements") or []:
            words.append(element.get("text", ""))
    return "".join(words)


def _buttons(
    blocks: list[dict[str, Any]],
    *,
    channel: str,
    ts: str,
    visible_to: str | None,
    title: str,
    readable: Callable[[str], str],
) -> list[Button]:
    found: list[Button] = []
    above = ""  # the first line of the last section seen
    for block in blocks:
        elements = list(block.get("elements") or []) if block.get("type") == "actions" else []
        accessory = block.get("accessory")
        context, detail = title, (above if above != title else "")
        text = ""
        if block.get("type") == "section":
            text = readable((block.get("text") or {}).get("text", ""))
            above = text.strip().split("\n", 1)[0]
        if isinstance(accessory, dict):
            elements.append(accessory)
            context, detail = " ".join(text.split()) or title, ""
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
                        visible_to=visible_to,
                        context=context,
                        detail=detail,
                    )
                )
    return found


__all__ = [
    "Button",
    "Field",
    "match_buttons",
    "message_fields",
    "plain",
    "render_home",
    "render_notice",
    "render_reply",
]
