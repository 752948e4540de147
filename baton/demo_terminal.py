"""The demo's screen: what the bot shows in the local workspace, printed as it arrives, and what is on it
(the buttons and inputs a person may use, the form that is open, the names of people and channels)."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any, TextIO

from slack_sdk import WebClient

from baton.demo_render import Button, Field, message_fields, render_notice

#: The channels of the local workspace (``localslack.state.seeded_state``).
SEEDED_CHANNELS = ("general", "ops")


class Terminal:
    """Prints what happens in the workspace; thread-safe (deliveries arrive on other threads)."""

    def __init__(self, out: TextIO, web: WebClient) -> None:
        self.out = out
        self.web = web
        self.ansi = bool(getattr(out, "isatty", lambda: False)())
        self.buttons: list[Button] = []
        self.fields: list[Field] = []
        self.users: dict[str, str] = {}
        self.channels: dict[str, str] = {}
        self.dms: dict[str, str] = {}  # DM channel id -> the person at the other end
        self.viewer = ""
        self.local_urls: tuple[str, ...] = ()  # the local workspace's https://<team>.slack.com/: nothing there
        self.modal: dict[str, Any] | None = None  # the last form the bot opened
        self._lock = threading.Lock()
        self._shown: dict[str, list[str]] = {}  # message ts -> body lines last printed

    def say(self, text: str = "") -> None:
        """Print one line (or several) at once."""
        with self._lock:
            print(text, file=self.out, flush=True)

    def learn_names(self, channels: Iterable[str] = SEEDED_CHANNELS) -> None:
        """Learn the workspace's members and these channels, so mentions print as names, and its URL."""
        self.local_urls = (str(self.web.auth_test().get("url") or ""),)
        members: list[dict[str, Any]] = self.web.users_list().get("members", [])
        for member in members:
            self.users[member["id"]] = member["name"]
        for name in channels:
            info = self.web.conversations_info(channel=name)["channel"]
            self.channels[str(info["id"])] = str(info.get("name") or name)

    @property
    def people(self) -> list[str]:
        """Names of the people one can act as (the bot excluded)."""
        return [name for user_id, name in self.users.items() if name != "baton" and user_id != "U0BATON"]

    def channel_name(self, channel_id: str) -> str:
        """The channel's name (looked up once); a DM's person is remembered as well."""
        if channel_id not in self.channels:
            try:
                info = self.web.conversations_info(channel=channel_id)["channel"]
            except Exception:  # the id is shown as it is: nothing here is worth stopping the demo for
                self.channels[channel_id] = channel_id
            else:
                self.channels[channel_id] = info.get("name") or channel_id
                if info.get("is_im") and info.get("user"):
                    self.dms[channel_id] = str(info["user"])
        return self.channels[channel_id]

    def where(self, channel_id: str) -> str:
        """``#general``; ``your DM with @baton``, or ``DM to @bob`` for someone else's."""
        name = self.channel_name(channel_id)
        owner = self.dms.get(channel_id)
        if owner is None:
            return "#" + name
        return "your DM with @baton" if owner == self.viewer else f"DM to @{self.users.get(owner, owner)}"

    def on_notice(self, notice: dict[str, Any]) -> None:
        """Show one thing the bot did in the workspace (``LocalSlack.on_post`` callback)."""
        channel = notice.get("channel")
        if channel:
            self.channel_name(channel)
        if notice.get("method") == "views.open":
            self.modal = notice.get("view")
        lines, buttons = render_notice(
            notice,
            users=self.users,
            channels=self.channels,
            dms=self.dms,
            viewer=self.viewer,
            ansi=self.ansi,
            local_urls=self.local_urls,
        )
        if notice.get("method") == "views.open":
            lines.append("  └ fill and send it with /modal <field>=<value> …  (/modal shows the fields)")
        fields = message_fields(notice, users=self.users, channels=self.channels, dms=self.dms)
        if any(f.visible_to in (None, self.viewer) for f in fields):
            lines.append("  (tick boxes, owners and dates: /pick lists them, /pick <number> <value> sets one)")
        ts = str(notice.get("ts") or "")
        with self._lock:
            if ts:
                self.buttons = [b for b in self.buttons if b.message_ts != ts] + buttons
                self.fields = [f for f in self.fields if f.message_ts != ts] + fields
            before = self._shown.get(ts)
            if ts:
                self._shown[ts] = lines[1:]
            if before is not None and notice.get("method") in ("chat.update", "response_url"):
                # An update of a message already on screen: show only what changed.
                changed = [line for line in lines[1:] if line not in before]
                if not changed:
                    return
                lines = [lines[0], *changed]
            print("\n".join(lines), file=self.out, flush=True)
