"""What a person does with an AI app's split view: open an assistant thread, look at another channel beside it.

Slack starts the thread itself: it posts the thread's first message in the person's DM with the app (subtype
``assistant_app_thread``) and sends ``assistant_thread_started``; when the person looks at another channel, it sends
``assistant_thread_context_changed``. Both carry ``assistant_thread`` = ``{user_id, channel_id, thread_ts, context:
{channel_id, team_id, enterprise_id}}``, as Slack documents them. Messages in the thread are ordinary DM messages
(``post_as_user(..., thread_ts=...)``).
"""

from __future__ import annotations

import copy
import threading
from typing import TYPE_CHECKING, Any

from localslack.delivery import DeliveryResponse, Outgoing
from localslack.errors import UnknownObject
from localslack.state import Channel, Identity, IdFactory, TsClock, User, WorkspaceState


class AssistantActions:
    """Mixin for :class:`~localslack.workspace.LocalSlack`: the assistant-thread events people cause."""

    identity: Identity
    _lock: threading.RLock
    _state: WorkspaceState
    _clock: TsClock
    _ids: IdFactory

    if TYPE_CHECKING:

        def _user(self, user_id: str) -> User: ...
        def _channel(self, ref: str) -> Channel: ...
        def _envelope(self, event: dict[str, Any], event_id: str | None = None) -> dict[str, Any]: ...
        def _send(self, outgoing: Outgoing) -> DeliveryResponse: ...
        def _can_deliver(self) -> bool: ...

    def open_assistant_thread(
        self, user_id: str, *, looking_at: str | None = None
    ) -> tuple[str, str, DeliveryResponse | None]:
        """``user_id`` opens the app's split view beside channel ``looking_at`` (or from the app's DM: no
        context). Returns (DM id, thread ts, the bot's answer to ``assistant_thread_started``, None when nothing
        could be delivered: no ``events_url`` and no socket)."""
        with self._lock:
            user = self._user(user_id)
            dm = "D" + user.id[1:]
            if dm not in self._state.channels:
                raise UnknownObject(f"{user_id} has no DM with the app")
            ts = self._clock.next_ts()
            self._state.store_message(
                dm,
                {
                    "type": "message",
                    "subtype": "assistant_app_thread",
                    "user": self.identity.bot_user_id,
                    "bot_id": self.identity.bot_id,
                    "text": "New Assistant Thread",
                    "ts": ts,
                    "team": self.identity.team_id,
                },
            )
            self._state.assistant_threads.setdefault((dm, ts), {})["context"] = self._thread_context(looking_at)
            event = self._thread_event("assistant_thread_started", user.id, dm, ts, looking_at)
        return dm, ts, self._deliver(event)

    def change_assistant_context(self, user_id: str, thread_ts: str, *, looking_at: str) -> DeliveryResponse | None:
        """``user_id`` looks at ``looking_at`` beside their open assistant thread ``thread_ts``."""
        with self._lock:
            user = self._user(user_id)
            dm = "D" + user.id[1:]
            thread = self._state.assistant_threads.get((dm, thread_ts))
            if thread is None or "context" not in thread:
                raise UnknownObject(f"{user_id} has no assistant thread {thread_ts}")
            thread["context"] = self._thread_context(looking_at)
            event = self._thread_event("assistant_thread_context_changed", user.id, dm, thread_ts, looking_at)
        return self._deliver(event)

    def _deliver(self, event: dict[str, Any]) -> DeliveryResponse | None:
        return self._send(Outgoing("events_api", self._envelope(event))) if self._can_deliver() else None

    def assistant_thread(self, channel: str, thread_ts: str) -> dict[str, Any]:
        """What the bot set on a thread: ``status`` (and every ``statuses`` in order), ``prompts``, ``title``."""
        with self._lock:
            return copy.deepcopy(self._state.assistant_threads.get((channel, thread_ts), {}))

    def _thread_context(self, looking_at: str | None) -> dict[str, str]:
        if looking_at is None:
            return {}
        channel = self._channel(looking_at)
        return {"channel_id": channel.id, "team_id": self.identity.team_id, "enterprise_id": ""}

    def _thread_event(self, kind: str, user_id: str, dm: str, thread_ts: str, looking_at: str | None) -> dict[str, Any]:
        return {
            "type": kind,
            "event_ts": self._clock.next_ts(),
            "assistant_thread": {
                "user_id": user_id,
                "channel_id": dm,
                "thread_ts": thread_ts,
                "context": self._thread_context(looking_at),
            },
        }


__all__ = ["AssistantActions"]
