"""What a Web API method handler gets: the workspace, the identity, and an outbox for side effects.

Handlers are plain functions ``handler(ctx, params) -> response dict``. They run under the workspace
lock, so they must not block or deliver anything: they put echoes and notices in ``ctx.outbox`` and the
workspace sends those from its delivery thread once the lock is released. A Slack error is raised as
:class:`ApiError` and answered as HTTP 200 ``{"ok": false, "error": …}``, exactly as Slack does.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from localslack.state import Channel, Identity, TsClock, WorkspaceState


class ApiError(Exception):
    """A Slack Web API error answer (``ok: false``), optionally with schema problems."""

    def __init__(self, error: str, problems: list[str] | None = None, *, warning: bool = False) -> None:
        super().__init__(error)
        self.error = error
        self.problems = problems or []
        self.level = "WARN" if warning else "ERROR"

    def body(self) -> dict[str, Any]:
        """The JSON body Slack answers with."""
        body: dict[str, Any] = {"ok": False, "error": self.error}
        if self.problems:
            body["errors"] = list(self.problems)
            body["response_metadata"] = {"messages": [f"[{self.level}] {p}" for p in self.problems]}
        return body


@dataclass(frozen=True)
class Outbound:
    """A side effect to run after the handler: ``echo`` delivers an event, ``notice`` feeds ``on_post``."""

    kind: Literal["echo", "notice"]
    payload: dict[str, Any]


@dataclass
class MethodContext:
    """Everything a handler may touch."""

    state: WorkspaceState
    identity: Identity
    clock: TsClock
    base_url: str
    new_id: Callable[[str], str]
    outbox: list[Outbound] = field(default_factory=list)

    def echo(self, event: dict[str, Any]) -> None:
        """Deliver ``event`` (an inner event) to the bot later, from the delivery thread."""
        self.outbox.append(Outbound("echo", event))

    def notice(self, method: str, **payload: Any) -> None:
        """Tell ``on_post`` listeners about something the bot showed to people."""
        self.outbox.append(Outbound("notice", {"method": method, **payload}))

    def channel(self, params: dict[str, Any], key: str = "channel") -> Channel:
        """The channel named by ``params[key]`` (id, name or user id), or ``channel_not_found``."""
        ref = params.get(key)
        channel = self.state.resolve_channel(ref) if isinstance(ref, str) and ref else None
        if channel is None:
            raise ApiError("channel_not_found")
        return channel

    def writable_channel(self, params: dict[str, Any]) -> Channel:
        """A channel the bot may post in: exists, not archived, and the bot is a member."""
        channel = self.channel(params)
        if channel.is_archived:
            raise ApiError("is_archived")
        if not channel.is_member and not channel.is_im:
            raise ApiError("not_in_channel")
        return channel

    def readable_channel(self, params: dict[str, Any]) -> Channel:
        """A channel whose history the bot may read (it must be a member, as with a bot token)."""
        channel = self.channel(params)
        if not channel.is_member and not channel.is_im:
            raise ApiError("not_in_channel")
        return channel


def required(params: dict[str, Any], key: str, error: str = "invalid_arguments") -> str:
    """``params[key]`` as a non-empty string, or the Slack error for a missing argument."""
    value = params.get(key)
    if value is None or value == "":
        raise ApiError(error, [f"missing required field: {key}"] if error == "invalid_arguments" else None)
    return str(value)


def flag(params: dict[str, Any], key: str) -> bool:
    """A boolean argument sent as JSON ``true`` or form ``"true"``/``"1"``."""
    value = params.get(key)
    return value is True or str(value).lower() in ("true", "1")


def int_arg(params: dict[str, Any], key: str, default: int) -> int:
    """An integer argument, or ``default`` when absent; a non-number is ``invalid_arguments``."""
    value = params.get(key)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError("invalid_arguments", [f"expected integer [json-pointer:/{key}]"]) from None


def page(items: list[Any], params: dict[str, Any], *, default_limit: int = 100) -> tuple[list[Any], str]:
    """Cursor pagination as Slack does it: (this page, ``next_cursor`` or ``""``)."""
    limit = int_arg(params, "limit", default_limit) or default_limit
    start = _decode_cursor(str(params.get("cursor") or ""))
    chunk = items[start:start + limit]
    if start + limit >= len(items):
        return chunk, ""
    return chunk, base64.b64encode(f"offset:{start + limit}".encode()).decode()


def _decode_cursor(cursor: str) -> int:
    if not cursor:
        return 0
    try:
        return int(base64.b64decode(cursor).decode().removeprefix("offset:"))
    except ValueError:
        raise ApiError("invalid_cursor") from None


Handler = Callable[[MethodContext, dict[str, Any]], dict[str, Any]]
