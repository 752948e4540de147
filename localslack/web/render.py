"""The browser workspace's HTML: the page shell and the fragments the page polls for. Pure over a snapshot.

Templates are Jinja (autoescaped) under ``templates/``; Block Kit is :class:`~localslack.web.blocks.BlockRenderer`'s.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from localslack.web.blocks import BlockRenderer
from localslack.web.mrkdwn import emojize, to_html
from localslack.web.snapshot import Snapshot

_ENV = Environment(loader=PackageLoader("localslack.web", "templates"), autoescape=select_autoescape(["j2"]))
#: Where the page lives on the local workspace's server.
BASE = "/ui/"
HOME = "home"


def link(viewer: str) -> Callable[..., str]:
    """``link(channel, thread_ts="")``: the page URL for ``viewer`` with that channel (and thread) open."""

    def build(channel: str, thread_ts: str = "") -> str:
        query = {"as": viewer, "c": channel, **({"thread": thread_ts} if thread_ts else {})}
        return BASE + "?" + urlencode(query)

    return build


def _clock(ts: str) -> str:
    try:
        return dt.datetime.fromtimestamp(float(ts), dt.UTC).strftime("%H:%M")
    except ValueError:
        return ""


class PageRenderer:
    """Renders what ``viewer`` sees in ``channel`` (``"home"`` for App Home) from one snapshot."""

    def __init__(
        self, snap: Snapshot, *, viewer: str, channel: str, workspace: str, shortcuts: dict[str, str] | None = None
    ) -> None:
        self.snap, self.viewer, self.channel, self.workspace = snap, viewer, channel, workspace
        self._common: dict[str, Any] = {
            "link": link(viewer),
            "channel": channel,
            "viewer": viewer,
            "bot_name": snap.bot_name,
            "author": self._author,
            "clock": _clock,
            "blocks": self._message_blocks,
            "text": self._text,
            "emoji": lambda name: emojize(f":{name}:"),
            "shortcuts": shortcuts or {},
        }

    def _renderer(self, values: dict[str, Any] | None = None) -> BlockRenderer:
        rooms = {room.id: room.name for room in self.snap.rooms if not room.is_dm}
        return BlockRenderer(
            self.snap.users,
            self.snap.channels,
            values=values or {},
            people=self.snap.people,
            rooms=rooms,
            local_link=link(self.viewer),
        )

    def _author(self, message: dict[str, Any]) -> str:
        if message.get("bot_id"):
            return str((message.get("bot_profile") or {}).get("name") or self.snap.bot_name)
        return self.snap.users.get(str(message.get("user", "")), str(message.get("user", "")))

    def _text(self, obj: object) -> Markup:
        if isinstance(obj, str):
            return to_html(obj, users=self.snap.users, channels=self.snap.channels, local_link=link(self.viewer))
        return self._renderer().text(obj)

    def _message_blocks(self, message: dict[str, Any]) -> Markup:
        return self._renderer(self.snap.values.get(message["ts"])).blocks(message.get("blocks"))

    def page(self, *, thread: str) -> str:
        """The page shell; its script fills it from :meth:`state`."""
        room = next((r for r in self.snap.rooms if r.id == self.channel), None)
        label = ("#" + room.name if not room.is_dm else room.name) if room else self.channel
        return _ENV.get_template("page.html.j2").render(
            workspace=self.workspace,
            base=BASE,
            viewer=self.viewer,
            channel=self.channel,
            thread=thread,
            people=self.snap.people,
            room_label=label,
            bot_name=self.snap.bot_name,
        )

    def state(self, *, thread: str, modal: dict[str, Any] | None) -> dict[str, Any]:
        """Everything the page shows, as HTML fragments (``modal`` is the viewer's open view, if any)."""
        top = [
            m
            for m in self.snap.messages
            if not m.get("thread_ts") or m.get("thread_ts") == m["ts"] or m.get("subtype") == "thread_broadcast"
        ]
        mine = [m for m in self.snap.ephemerals if not m.get("thread_ts")]
        items = sorted([*top, *mine], key=lambda m: float(m["ts"]))
        rooms = _ENV.get_template("rooms.html.j2").render(rooms=self.snap.rooms, **self._common)
        state: dict[str, Any] = {"rooms": rooms, "title": self._title(), "thread": "", "modal": None}
        if self.channel == HOME:
            body = self._renderer().blocks(self.snap.home.get("blocks")) if self.snap.home else None
            state["messages"] = _ENV.get_template("home.html.j2").render(body=body, **self._common)
        else:
            state["messages"] = _ENV.get_template("messages.html.j2").render(items=items, **self._common)
        if thread:
            replies = [
                m
                for m in [*self.snap.messages, *self.snap.ephemerals]
                if m["ts"] == thread or m.get("thread_ts") == thread
            ]
            replies.sort(key=lambda m: float(m["ts"]))
            state["thread"] = _ENV.get_template("thread.html.j2").render(items=replies, **self._common)
        if modal is not None:
            body = self._renderer().blocks(modal.get("blocks"))
            html = _ENV.get_template("modal.html.j2").render(view=modal, body=body, **self._common)
            state["modal"] = {
                "key": f"{modal.get('id')}:{modal.get('hash', '')}:{len(html)}",
                "html": html,
                "view_id": modal.get("id"),
            }
        return state

    def _title(self) -> str:
        if self.channel == HOME:
            return f"{self.snap.bot_name} — Home"
        room = next((r for r in self.snap.rooms if r.id == self.channel), None)
        if room is None:
            return self.channel
        return room.name if room.is_dm else "#" + room.name
