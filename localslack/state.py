"""The local workspace's data: users, channels, messages, files, views. Pure data, no I/O.

Nothing here is thread-safe on its own: :class:`~localslack.workspace.LocalSlack` holds one lock
around every read and write. Message objects are stored as the plain dicts Slack returns, so handlers
can hand out (copies of) them directly.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Identity:
    """Who the workspace and the bot are: ids, secrets and display names."""

    bot_token: str
    signing_secret: str
    team_id: str
    bot_user_id: str
    bot_id: str
    app_id: str
    verification_token: str = "local-verification-token"
    team_domain: str = "baton-local"
    team_name: str = "Baton Local"
    bot_name: str = "baton"
    #: The Enterprise Grid org the workspace belongs to (None outside one).
    enterprise_id: str | None = None
    #: The app is installed org-wide (by an org admin), not in this workspace alone: deliveries say so.
    org_install: bool = False


@dataclass
class User:
    """A workspace member (a person or the bot)."""

    id: str
    name: str
    real_name: str
    tz: str = "UTC"
    is_bot: bool = False


@dataclass
class Channel:
    """A conversation: a public channel (``C…``), private channel (``G…``) or a DM with the bot (``D…``)."""

    id: str
    name: str
    is_member: bool = True
    purpose: str = ""
    is_archived: bool = False
    user: str | None = None  # the person at the other end of a DM
    created: int = 0

    @property
    def is_im(self) -> bool:
        """True for a direct-message channel."""
        return self.id.startswith("D")

    @property
    def channel_type(self) -> str:
        """The ``channel_type`` Slack puts on message events: ``channel``, ``group`` or ``im``."""
        if self.is_im:
            return "im"
        return "group" if self.id.startswith("G") else "channel"


@dataclass
class StoredFile:
    """An uploaded file and the message that shared it."""

    id: str
    name: str
    title: str
    filetype: str
    content: bytes
    user: str
    channel: str
    created: int
    message_ts: str = ""
    thread_ts: str | None = None  # the thread root, for a file shared as a reply


@dataclass
class UserGroup:
    """A user group (``S…``, mentioned as ``<!subteam^S…|@handle>``) and its members."""

    id: str
    handle: str
    name: str
    users: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Pick:
    """What one person picked in one input element, and the element's initial value at the time.

    Both are ``state.values`` entries (``{"type": "users_select", "selected_user": "U0BOB"}``); keeping
    ``initial`` lets a ``chat.update`` that changes the element's initial value reset the pick.
    """

    initial: dict[str, Any]
    current: dict[str, Any]


#: A person's picks in one message: ``{block_id: {action_id: Pick}}``.
Picks = dict[str, dict[str, Pick]]


class TsClock:
    """Hands out Slack message timestamps (``"1700000000.000100"``): unique and strictly increasing."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._last_us = 0

    def now(self) -> float:
        """The current time in seconds, from the injected clock."""
        return self._clock()

    def next_ts(self) -> str:
        """Return a new ``ts`` greater than every one handed out before, close to the clock's time."""
        self._last_us = max(int(self._clock() * 1_000_000), self._last_us + 1)
        seconds, micros = divmod(self._last_us, 1_000_000)
        return f"{seconds}.{micros:06d}"


class IdFactory:
    """Makes Slack-looking ids (``F…``, ``V…``, ``Ev…``) unique within this process and across runs.

    A random stem per factory keeps ids from a previous test session out of a persisted dedup ledger.
    """

    def __init__(self) -> None:
        self._stem = secrets.token_hex(3).upper()
        self._count = 0

    def new(self, prefix: str) -> str:
        """Return the next id starting with ``prefix``."""
        self._count += 1
        return f"{prefix}{self._stem}{self._count:05X}"


@dataclass
class WorkspaceState:
    """Everything the local workspace stores. Reset by replacing it with a freshly seeded one."""

    users: dict[str, User] = field(default_factory=dict)
    channels: dict[str, Channel] = field(default_factory=dict)
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # channel -> by ts
    ephemerals: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    files: dict[str, StoredFile] = field(default_factory=dict)
    views: dict[str, dict[str, Any]] = field(default_factory=dict)
    usergroups: dict[str, UserGroup] = field(default_factory=dict)
    homes: dict[str, str] = field(default_factory=dict)  # user id -> view id of their App Home
    scheduled: list[dict[str, Any]] = field(default_factory=list)
    triggers: dict[str, float] = field(default_factory=dict)  # trigger_id -> issued at (clock seconds)
    exchanged_triggers: set[str] = field(default_factory=set)
    hooks: dict[str, dict[str, Any]] = field(default_factory=dict)  # response_url id -> where it points
    # (channel id, message ts) -> user id -> that person's picks in the message's input elements
    inputs: dict[tuple[str, str], dict[str, Picks]] = field(default_factory=dict)
    # (DM id, thread ts) of each assistant thread -> its status, suggested prompts, title and channel context
    assistant_threads: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    # (channel id, ts) of messages still streaming (chat.startStream until chat.stopStream)
    streaming: set[tuple[str, str]] = field(default_factory=set)

    def add_user(self, user: User) -> None:
        """Add or replace a user; a person also gets a DM channel with the bot (``D`` + id without ``U``)."""
        self.users[user.id] = user
        if not user.is_bot:
            dm_id = "D" + user.id[1:]
            self.channels.setdefault(dm_id, Channel(id=dm_id, name=dm_id, user=user.id))

    def add_channel(self, channel: Channel) -> None:
        """Add or replace a channel."""
        self.channels[channel.id] = channel

    def resolve_channel(self, ref: str) -> Channel | None:
        """Find a channel by id, by name (``general`` or ``#general``) or by user id (their DM)."""
        if ref in self.channels:
            return self.channels[ref]
        if ref in self.users:
            return next((c for c in self.channels.values() if c.is_im and c.user == ref), None)
        name = ref.removeprefix("#")
        return next((c for c in self.channels.values() if not c.is_im and c.name == name), None)

    def store_message(self, channel_id: str, message: dict[str, Any]) -> None:
        """Store ``message``; a thread reply also updates its parent's reply fields, as Slack does."""
        self.messages.setdefault(channel_id, []).append(message)
        thread_ts = message.get("thread_ts")
        if thread_ts and thread_ts != message["ts"]:
            parent = self.find_message(channel_id, thread_ts)
            if parent is not None:
                author = message.get("user") or message.get("bot_id", "")
                users = [*parent.get("reply_users", [])]
                if author not in users:
                    users.append(author)
                parent.update(thread_ts=thread_ts, reply_count=parent.get("reply_count", 0) + 1,
                              reply_users=users, reply_users_count=len(users), latest_reply=message["ts"])

    def thread_root(self, channel_id: str, thread_ts: str | None) -> tuple[str | None, str | None]:
        """(root ts, root author) for a reply to ``thread_ts``; a reply's own ts maps to its thread's root."""
        if not thread_ts:
            return None, None
        parent = self.find_message(channel_id, thread_ts)
        if parent is None:
            return thread_ts, None
        root = parent.get("thread_ts") or parent["ts"]
        if root != parent["ts"]:
            parent = self.find_message(channel_id, root) or parent
        return root, parent.get("user") or parent.get("bot_id")

    def find_message(self, channel_id: str, ts: str) -> dict[str, Any] | None:
        """The stored message with this ``ts`` in this channel, or None."""
        return next((m for m in self.messages.get(channel_id, []) if m["ts"] == ts), None)

    def find_ephemeral(self, channel_id: str, ts: str) -> dict[str, Any] | None:
        """The ephemeral message with this ``ts`` in this channel, or None."""
        return next((m for m in self.ephemerals.get(channel_id, []) if m["ts"] == ts), None)

    def remove_message(self, channel_id: str, ts: str) -> dict[str, Any] | None:
        """Delete a message; deleting a reply lowers its parent's ``reply_count``."""
        message = self.find_message(channel_id, ts)
        if message is None:
            return None
        self.messages[channel_id].remove(message)
        self.inputs.pop((channel_id, ts), None)
        thread_ts = message.get("thread_ts")
        parent = self.find_message(channel_id, thread_ts) if thread_ts and thread_ts != ts else None
        if parent is not None:
            parent["reply_count"] = max(parent.get("reply_count", 1) - 1, 0)
        return message

    def picks(self, channel_id: str, ts: str, user_id: str) -> Picks:
        """The (mutable) picks of ``user_id`` in the message ``ts`` of ``channel_id``."""
        return self.inputs.setdefault((channel_id, ts), {}).setdefault(user_id, {})

    def thread(self, channel_id: str, thread_ts: str) -> list[dict[str, Any]]:
        """The parent and its replies, oldest first."""
        return [m for m in self.messages.get(channel_id, [])
                if m["ts"] == thread_ts or m.get("thread_ts") == thread_ts]


def seeded_state(identity: Identity, *, created: int) -> WorkspaceState:
    """A workspace with Alice, Bob, the bot, ``#general``, ``#ops``, a DM per person and the user group
    ``@baton-admins`` (``S0ADMINS``) with Alice in it."""
    state = WorkspaceState()
    state.add_user(User("U0ALICE", "alice", "Alice Example", tz="Europe/Berlin"))
    state.add_user(User("U0BOB", "bob", "Bob Example", tz="America/New_York"))
    state.add_user(User(identity.bot_user_id, identity.bot_name, identity.bot_name.title(), is_bot=True))
    state.add_channel(Channel("C0GENERAL", "general", created=created,
                              purpose="Company-wide announcements and work-based matters"))
    state.add_channel(Channel("C0OPS", "ops", created=created,
                              purpose="Operations: deploys, incidents and on-call handovers"))
    state.usergroups["S0ADMINS"] = UserGroup("S0ADMINS", "baton-admins", "Baton admins", ["U0ALICE"])
    for channel in state.channels.values():
        channel.created = created
    return state
