"""What people do in the local workspace, delivered to the bot signed and shaped exactly as Slack does.

Every method stores what Slack would store, then delivers synchronously (a signed POST to ``events_url``,
or a Socket Mode envelope when ``delivery`` is ``"socket"``) and returns the bot's answer. Unknown users,
channels, messages or buttons raise :class:`UnknownObject` (a ``LookupError``): a test or demo script
that clicks a button the bot never drew is itself wrong.
"""

from __future__ import annotations

import copy
import logging
import secrets
import threading
from typing import TYPE_CHECKING, Any, Literal

from localslack import inputs, objects, payloads
from localslack.delivery import Delivery, DeliveryResponse, Outgoing, post_signed
from localslack.errors import InvalidValue, NotReady, UnknownObject
from localslack.socket_mode import SocketHub
from localslack.state import Channel, Identity, IdFactory, StoredFile, TsClock, User, WorkspaceState

logger = logging.getLogger(__name__)


class PeopleActions:
    """Mixin for :class:`~localslack.workspace.LocalSlack`: people's actions and signed delivery."""

    identity: Identity
    events_url: str | None
    delivery: Literal["http", "socket"]
    socket: SocketHub
    delivery_timeout: float
    _lock: threading.RLock
    _state: WorkspaceState
    _clock: TsClock
    _ids: IdFactory

    if TYPE_CHECKING:

        @property
        def base_url(self) -> str: ...

    def post_as_user(self, user_id: str, channel: str, text: str, *,
                     thread_ts: str | None = None) -> Delivery:
        """``user_id`` types ``text`` in ``channel``: a ``message`` event, plus ``app_mention`` when the bot
        is mentioned in a channel. Nothing is delivered where the bot is not a member, or while
        ``events_url`` is unset (the message is still stored).
        """
        with self._lock:
            user, where = self._user(user_id), self._channel(channel)
            if where.is_archived:
                raise UnknownObject(f"#{where.name} is archived")
            root, parent_user = self._state.thread_root(where.id, thread_ts)
            ts = self._clock.next_ts()
            message = payloads.user_message(self.identity, user.id, text, ts, thread_ts=root,
                                            parent_user_id=parent_user)
            self._state.store_message(where.id, message)
            envelopes = self._events_for(message, where)
        return Delivery(ts, where.id, self._deliver_all(envelopes), tuple(envelopes))

    def upload_file(self, user_id: str, channel: str, *, name: str, content: bytes, filetype: str = "text",
                    title: str | None = None, initial_comment: str | None = None,
                    thread_ts: str | None = None) -> str:
        """``user_id`` shares a file in ``channel`` (as a reply in ``thread_ts``'s thread if given): a
        ``file_share`` message event, plus ``app_mention`` (with ``files``) when ``initial_comment``
        mentions the bot; returns the file id.

        The file is served at its ``url_private``/``url_private_download`` to the bot token only.
        """
        with self._lock:
            user, where = self._user(user_id), self._channel(channel)
            root, parent_user = self._state.thread_root(where.id, thread_ts)
            ts = self._clock.next_ts()
            file = StoredFile(id=self._ids.new("F"), name=name, title=title or name, filetype=filetype,
                              content=bytes(content), user=user.id, channel=where.id,
                              created=int(self._clock.now()), message_ts=ts, thread_ts=root)
            self._state.files[file.id] = file
            message = payloads.user_message(self.identity, user.id, initial_comment or "", ts, thread_ts=root,
                                            parent_user_id=parent_user)
            message.update(files=[objects.file_object(self.identity, file, base_url=self.base_url)],
                           upload=True, display_as_bot=False, subtype="file_share")
            self._state.store_message(where.id, message)
            envelopes = self._events_for(message, where)
        self._deliver_all(envelopes)
        return file.id

    def deliver_event(self, event: dict[str, Any], *, retry_num: int | None = None,
                      retry_reason: str = "http_timeout", event_id: str | None = None) -> DeliveryResponse:
        """Deliver any inner ``event`` in the ``event_callback`` envelope.

        Pass the first delivery's ``event_id`` and a ``retry_num`` to replay it as Slack's retry
        (``X-Slack-Retry-Num`` / ``X-Slack-Retry-Reason`` headers).
        """
        inner = copy.deepcopy(event)
        if "ts" in inner:
            inner.setdefault("event_ts", inner["ts"])
        envelope = self._envelope(inner, event_id)
        return self._send(Outgoing("events_api", envelope, retry_num=retry_num, retry_reason=retry_reason))

    def click(self, user_id: str, *, channel: str, message_ts: str, action_id: str,
              value: str | list[str] | None = None, block_id: str | None = None) -> DeliveryResponse:
        """``user_id`` clicks (or picks ``value`` in) element ``action_id`` of a stored or ephemeral message.

        For a button, ``value`` overrides the button's own. For an input element ``value`` is what the
        person picks, validated as Slack's client would: a user id (``users_select``), an option value
        (``static_select``; ``None`` deselects), a date ``YYYY-MM-DD`` (``datepicker``), a time ``HH:mm``
        (``timepicker``), and for ``checkboxes`` the full new list of ticked option values (``[]`` unticks
        everything) or one option value to toggle. The pick is remembered for this person and the payload's
        ``state.values`` carries all of their inputs in the message (see :mod:`localslack.inputs`).

        Returns the bot's answer to the ``block_actions`` POST. Raises :class:`UnknownObject` for an unknown
        message, element, user or option and :class:`~localslack.errors.InvalidValue` for a malformed
        value; nothing is remembered or sent then.
        """
        with self._lock:
            user, where = self._user(user_id), self._channel(channel)
            message, is_ephemeral = self._clickable(where, message_ts)
            blocks = message.get("blocks", [])
            found = payloads.find_element(blocks, action_id, block_id)
            if found is None:
                raise UnknownObject(f"message {message_ts} has no element with action_id {action_id!r}")
            element, found_block = found
            action = self._act(where, user, message_ts, blocks, element, found_block, value)
            picks = self._state.inputs.get((where.id, message_ts), {}).get(user.id, {})
            payload = payloads.block_actions_payload(
                self.identity, user, where, message=message, is_ephemeral=is_ephemeral, action=action,
                trigger_id=self._issue_trigger(), response_url=self._issue_hook(where, user, message_ts),
                state_values=inputs.state_values(blocks, picks))
        return self._send(Outgoing("interactive", payload))

    def submit_view(self, user_id: str, view_id: str, *, values: dict[str, Any]) -> DeliveryResponse:
        """``user_id`` submits the open modal ``view_id``; ``values`` is ``{block_id: {action_id: {...}}}``.

        Returns the bot's answer to the ``view_submission`` POST.
        """
        with self._lock:
            user = self._user(user_id)
            view = self._state.views.get(view_id)
            if view is None:
                raise UnknownObject(f"no open view {view_id}")
            payload = payloads.view_submission_payload(self.identity, user, view, values=values,
                                                       trigger_id=self._issue_trigger())
        return self._send(Outgoing("interactive", payload))

    def slash_command(self, user_id: str, channel: str, command: str, text: str) -> DeliveryResponse:
        """``user_id`` runs ``command`` (e.g. ``/baton``) with ``text`` in ``channel``."""
        with self._lock:
            user, where = self._user(user_id), self._channel(channel)
            fields = payloads.slash_command_fields(self.identity, user, where, command=command, text=text,
                                                   response_url=self._issue_hook(where, user, None),
                                                   trigger_id=self._issue_trigger())
        return self._send(Outgoing("slash_commands", dict(fields)))

    def url_verification(self, challenge: str) -> DeliveryResponse:
        """Slack's ``url_verification`` handshake; the bot must answer with ``challenge``."""
        body = {"token": self.identity.verification_token, "challenge": challenge, "type": "url_verification"}
        return self._send(Outgoing("url_verification", body))

    # -- helpers -----------------------------------------------------------------------------------

    def _user(self, user_id: str) -> User:
        user = self._state.users.get(user_id)
        if user is None:
            raise UnknownObject(f"no user {user_id} in the local workspace")
        return user

    def _channel(self, ref: str) -> Channel:
        channel = self._state.resolve_channel(ref)
        if channel is None:
            raise UnknownObject(f"no channel {ref} in the local workspace")
        return channel

    def _act(self, channel: Channel, user: User, ts: str, blocks: list[dict[str, Any]], element: dict[str, Any],
             block_id: str, value: str | list[str] | None) -> dict[str, Any]:
        """The ``actions[]`` entry for ``user`` using ``element``; a pick in an input element is remembered."""
        action_ts = f"{self._clock.now():.6f}"
        if not (inputs.is_stateful(element) and block_id):
            if isinstance(value, list):
                raise InvalidValue(f"{element.get('type', 'button')} {element.get('action_id')!r} takes one "
                                   "value, not a list")
            return payloads.action_object(element, block_id, value, action_ts=action_ts)
        before = self._state.inputs.get((channel.id, ts), {}).get(user.id, {})
        current = inputs.state_values(blocks, before)[block_id][element["action_id"]]
        directory = inputs.Directory(has_user=lambda uid: uid in self._state.users,
                                     has_channel=lambda cid: cid in self._state.channels)
        entry = inputs.picked_entry(element, value, current=current, directory=directory)
        inputs.remember(self._state.picks(channel.id, ts, user.id), block_id, element, entry)
        return inputs.input_action(element, block_id, entry, action_ts=action_ts)

    def _clickable(self, channel: Channel, ts: str) -> tuple[dict[str, Any], bool]:
        """(message, is_ephemeral): the stored or ephemeral message ``ts`` of ``channel``."""
        message = self._state.find_message(channel.id, ts)
        if message is not None:
            return message, False
        message = self._state.find_ephemeral(channel.id, ts)
        if message is None:
            raise UnknownObject(f"no message {ts} in {channel.id}")
        return message, True

    def _issue_trigger(self) -> str:
        now = self._clock.now()
        trigger_id = f"{int(now * 1000)}.{self.identity.team_id}.{secrets.token_hex(16)}"
        self._state.triggers[trigger_id] = now
        return trigger_id

    def _issue_hook(self, channel: Channel, user: User, message_ts: str | None) -> str:
        hook_id = secrets.token_hex(12)
        self._state.hooks[hook_id] = {"channel": channel.id, "user": user.id, "message_ts": message_ts}
        return f"{self.base_url}hooks/{hook_id}"

    def _events_for(self, message: dict[str, Any], channel: Channel) -> list[dict[str, Any]]:
        """Envelopes Slack sends for a person's new message: none where the bot is not a member."""
        if not (channel.is_member or channel.is_im):
            return []
        events = [payloads.message_event(message, channel)]
        bot = self.identity.bot_user_id
        text = message.get("text", "")
        if not channel.is_im and (f"<@{bot}>" in text or f"<@{bot}|" in text):
            events.append(payloads.app_mention_event(message, channel))
        return [self._envelope(event) for event in events]

    def _envelope(self, event: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
        with self._lock:
            return payloads.event_envelope(self.identity, event, event_id=event_id or self._ids.new("Ev"),
                                           event_time=int(self._clock.now()))

    def _deliver_all(self, envelopes: list[dict[str, Any]]) -> tuple[DeliveryResponse, ...]:
        if not self._can_deliver():
            return ()
        return tuple(self._send(Outgoing("events_api", envelope)) for envelope in envelopes)

    def _can_deliver(self) -> bool:
        return self.delivery == "socket" or self.events_url is not None

    def _send(self, outgoing: Outgoing) -> DeliveryResponse:
        if self.delivery == "socket":
            return self._send_over_socket(outgoing)
        url = self.events_url
        if url is None:
            raise NotReady("LocalSlack.events_url is not set: point it at the bot's /slack/events URL")
        body, content_type = outgoing.http_body()
        return post_signed(url, body, signing_secret=self.identity.signing_secret, content_type=content_type,
                           timeout=self.delivery_timeout, extra_headers=outgoing.http_headers())

    def _send_over_socket(self, outgoing: Outgoing) -> DeliveryResponse:
        """Deliver as a Socket Mode envelope: 200 with the ack's payload as the body (JSON, or empty when
        the ack had none), 408 when no ack came after Slack's redeliveries, 503 when no app was connected."""
        if outgoing.kind == "url_verification":
            raise NotReady("Socket Mode has no url_verification handshake: it is an HTTP-only request")
        hub = self.socket
        # Long enough for every attempt to time out and for the app to reconnect before each.
        timeout = (hub.max_retries + 1) * (hub.ack_timeout + hub.connect_timeout) + 5
        answer = hub.deliver(outgoing.kind, outgoing.payload, timeout=timeout)
        if answer.outcome == "no_connection":
            return DeliveryResponse(503, "", {})
        if answer.outcome == "no_ack":
            return DeliveryResponse(408, "", {})
        body = payloads.to_json(answer.payload) if answer.payload is not None else ""
        return DeliveryResponse(200, body, {"Content-Type": "application/json"} if body else {})

    def _deliver_quietly(self, envelope: dict[str, Any]) -> None:
        """Deliver from the background queue: a bot that is gone or slow is logged, not raised."""
        if not self._can_deliver():
            return
        try:
            answer = self._send(Outgoing("events_api", envelope))
        except OSError as error:
            logger.warning("local Slack could not deliver %s to %s: %s", envelope["event_id"],
                           self.events_url, error)
            return
        if self.delivery == "socket" and answer.status != 200:
            logger.warning("local Slack delivered %s and got %s", envelope["event_id"], answer.status)
