"""What one person sees of the workspace right now: a consistent copy taken under the workspace's lock.

The browser pages are rendered from this copy, never from the live state, so a render never races a
Web API call that is changing a message.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from localslack import inputs
from localslack.people import PeopleActions


@dataclass(frozen=True)
class Room:
    """A sidebar entry: a channel, or the person's DM with the bot."""

    id: str
    name: str
    is_dm: bool


@dataclass(frozen=True)
class Snapshot:
    """Names, rooms, one channel's messages and the viewer's ephemerals, picks and App Home."""

    users: dict[str, str]
    people: dict[str, str]
    rooms: list[Room]
    messages: list[dict[str, Any]]
    ephemerals: list[dict[str, Any]]
    values: dict[str, dict[str, Any]]  # message ts -> the viewer's state.values in it
    views: dict[str, dict[str, Any]]
    home: dict[str, Any] | None
    bot_name: str

    @property
    def channels(self) -> dict[str, str]:
        """Channel id -> name (DMs by the bot's name)."""
        return {room.id: room.name for room in self.rooms}


def take(slack: PeopleActions, viewer: str, channel_id: str) -> Snapshot:
    """The copy ``viewer`` sees with ``channel_id`` open."""
    with slack._lock:  # the workspace's own lock: the page is one consistent moment
        state = slack._state
        users = {u.id: u.name for u in state.users.values()}
        people = {u.id: u.name for u in state.users.values() if not u.is_bot}
        bot_name = state.users[slack.identity.bot_user_id].name if slack.identity.bot_user_id in state.users else "bot"
        rooms = [Room(c.id, c.name, False) for c in state.channels.values() if not c.is_im and not c.is_archived]
        rooms += [Room(c.id, bot_name, True) for c in state.channels.values() if c.is_im and c.user == viewer]
        messages = copy.deepcopy(state.messages.get(channel_id, []))
        ephemerals = [copy.deepcopy(m) for m in state.ephemerals.get(channel_id, []) if m.get("recipient") == viewer]
        values: dict[str, dict[str, Any]] = {}
        for message in [*messages, *ephemerals]:
            picks = state.inputs.get((channel_id, message["ts"]), {}).get(viewer, {})
            values[message["ts"]] = inputs.state_values(message.get("blocks"), picks)
        home_id = state.homes.get(viewer)
        home = copy.deepcopy(state.views.get(home_id)) if home_id else None
        return Snapshot(
            users=users,
            people=people,
            rooms=rooms,
            messages=messages,
            ephemerals=ephemerals,
            values=values,
            views=copy.deepcopy(state.views),
            home=home,
            bot_name=bot_name,
        )
