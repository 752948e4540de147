"""``LocalSlack``: the local workspace as one object: server lifecycle, Web API answers, inspection.

What people do in the workspace (post, click, upload, run a command) lives in
:class:`~localslack.people.PeopleActions`, which this class mixes in.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Literal

from localslack import inputs, objects
from localslack.assistant_people import AssistantActions
from localslack.chat_methods import response_url
from localslack.context import ApiError, Handler, MethodContext, Outbound
from localslack.delivery import DeliveryQueue
from localslack.errors import DeliveriesPending, NotReady
from localslack.methods import METHODS
from localslack.people import PeopleActions
from localslack.recording import Injection, Injections, RecordedCall
from localslack.server import Reply, ServerThread, build_app
from localslack.socket_mode import SocketHub
from localslack.state import Channel, Identity, IdFactory, TsClock, User, UserGroup, seeded_state
from localslack.web.routes import BrowserWorkspace

logger = logging.getLogger(__name__)

#: What Slack answers a file URL without a valid token: a login page, with status 200.
LOGIN_PAGE = (b"<!DOCTYPE html><html><head><title>Slack</title></head><body>"
              b"<h1>Sign in to Baton Local</h1>"
              b"<form action=\"/signin\" method=\"post\"></form></body></html>")


def _header(headers: dict[str, str], name: str) -> str:
    return next((v for k, v in headers.items() if k.lower() == name.lower()), "")


class LocalSlack(PeopleActions, AssistantActions):
    """A Slack workspace on loopback: a Web API server for the bot, and signed deliveries to the bot.

    Seeded with Alice (``U0ALICE``), Bob (``U0BOB``), the bot, ``#general`` (``C0GENERAL``), ``#ops``
    (``C0OPS``), a DM per person (``D0ALICE``, ``D0BOB``) and the user group ``@baton-admins``
    (``S0ADMINS``, Alice only). Start once, :meth:`reset` between tests.

    Deliveries go over HTTP to :attr:`events_url` (``None`` until set), signed, or, with :attr:`delivery`
    set to ``"socket"``, over Socket Mode to the app connected with ``app_token`` (see :attr:`socket`).
    """

    def __init__(self, *, bot_token: str = "xoxb-local", signing_secret: str = "local-secret",
                 team_id: str = "T0LOCAL", bot_user_id: str = "U0BATON", bot_id: str = "B0BATON",
                 app_id: str = "A0BATON", app_token: str = "xapp-1-A0BATON-local",
                 clock: Callable[[], float] = time.time, delivery_timeout: float = 10.0,
                 enterprise_id: str | None = None) -> None:
        self.identity = Identity(bot_token=bot_token, signing_secret=signing_secret, team_id=team_id,
                                 bot_user_id=bot_user_id, bot_id=bot_id, app_id=app_id, enterprise_id=enterprise_id)
        self.events_url: str | None = None
        #: How people's actions reach the bot: signed HTTP POSTs to ``events_url``, or Socket Mode envelopes.
        self.delivery: Literal["http", "socket"] = "http"
        #: The app-level token ``apps.connections.open`` accepts (Socket Mode only).
        self.app_token = app_token
        #: The Socket Mode server: disconnects, dropped connections and late acks are scripted on it.
        self.socket = SocketHub(app_id=app_id)
        self.delivery_timeout = delivery_timeout
        self._lock = threading.RLock()
        self._clock = TsClock(clock)
        self._ids = IdFactory()
        self._state = seeded_state(self.identity, created=int(clock()))
        self._calls: list[RecordedCall] = []
        self._injections = Injections()
        self._listeners: list[Callable[[dict[str, Any]], None]] = []
        self._queue = DeliveryQueue()
        self._server: ServerThread | None = None
        #: The workspace in a browser, served under ``/ui/`` by the same server (``localslack.web``).
        self.browser = BrowserWorkspace(self, calls=lambda: self.calls)
        self._listeners.append(self.browser.modals.on_post)

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> LocalSlack:
        """Bind ``127.0.0.1:0`` and serve from a daemon thread; returns ``self``."""
        if self._server is None:
            app = build_app(self, socket=self.socket)
            self.browser.mount(app)
            server = ServerThread(app)
            server.start()
            self.socket.attach(server.loop)
            self._server = server
            self._queue.start()
        return self

    def stop(self) -> None:
        """Stop the delivery thread and the server (idempotent)."""
        self._queue.stop()
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> LocalSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget messages, files, views, calls, injections and pending echoes; restore the seeded data."""
        self._queue.clear()
        self._injections.clear()
        self.socket.reset()
        with self._lock:
            self._state = seeded_state(self.identity, created=int(self._clock.now()))
            self._calls.clear()
        self.browser.reset()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/`` of the running server."""
        if self._server is None:
            raise NotReady("LocalSlack is not started: call start() first")
        return f"http://127.0.0.1:{self._server.port}/"

    @property
    def api_url(self) -> str:
        """The Web API base URL, in ``WebClient(base_url=...)`` form (trailing slash)."""
        return f"{self.base_url}api/"

    @property
    def bot_token(self) -> str:
        """The only token the Web API accepts."""
        return self.identity.bot_token

    @property
    def signing_secret(self) -> str:
        """The secret deliveries are signed with."""
        return self.identity.signing_secret

    # -- workspace data ----------------------------------------------------------------------------

    def add_user(self, user_id: str, name: str, *, real_name: str | None = None, tz: str = "UTC",
                 is_bot: bool = False) -> None:
        """Add a member; a person also gets a DM with the bot (``D`` + the id without its first letter)."""
        with self._lock:
            self._state.add_user(User(user_id, name, real_name or name.title(), tz=tz, is_bot=is_bot))

    def add_channel(self, channel_id: str, name: str, *, is_member: bool = True, purpose: str = "",
                    is_archived: bool = False) -> None:
        """Add a channel (``C…`` public, ``G…`` private)."""
        with self._lock:
            self._state.add_channel(Channel(channel_id, name, is_member=is_member, purpose=purpose,
                                            is_archived=is_archived, created=int(self._clock.now())))

    def add_usergroup(self, group_id: str, handle: str, users: list[str], *, name: str | None = None) -> None:
        """Add or replace a user group (``S…``) with these members (``usergroups.users.list`` answers them)."""
        with self._lock:
            self._state.usergroups[group_id] = UserGroup(group_id, handle, name or handle.title(), list(users))

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """Copies of the stored messages of ``channel`` (id or name), replies included, oldest first."""
        with self._lock:
            found = self._state.resolve_channel(channel)
            return copy.deepcopy(self._state.messages.get(found.id, [])) if found else []

    def ephemeral_messages(self, channel: str) -> list[dict[str, Any]]:
        """Copies of the ephemeral messages the bot showed in ``channel`` (each has ``recipient``)."""
        with self._lock:
            found = self._state.resolve_channel(channel)
            return copy.deepcopy(self._state.ephemerals.get(found.id, [])) if found else []

    def input_state(self, user_id: str, channel: str, message_ts: str) -> dict[str, Any]:
        """The ``state.values`` ``user_id``'s next click on message ``message_ts`` would carry.

        ``{block_id: {action_id: {"type": …, "selected_…": …}}}``: the person's picks, else initial values.
        """
        with self._lock:
            user, where = self._user(user_id), self._channel(channel)
            message, _ = self._clickable(where, message_ts)
            picks = self._state.inputs.get((where.id, message_ts), {}).get(user.id, {})
            return inputs.state_values(message.get("blocks", []), picks)

    def scheduled_messages(self) -> list[dict[str, Any]]:
        """Copies of the messages scheduled with ``chat.scheduleMessage`` (never sent by themselves)."""
        with self._lock:
            return copy.deepcopy(self._state.scheduled)

    def views(self) -> dict[str, dict[str, Any]]:
        """Copies of the views the bot opened or published, by view id."""
        with self._lock:
            return copy.deepcopy(self._state.views)

    @property
    def calls(self) -> list[RecordedCall]:
        """Every Web API call answered since the last reset, in order."""
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str) -> list[RecordedCall]:
        """The recorded calls of one method."""
        return [c for c in self.calls if c.method == method]

    # -- scripting ---------------------------------------------------------------------------------

    def inject(self, method: str, *, status: int | None = None, error: str | None = None,
               retry_after: float | None = None, delay: float | None = None, times: int = 1) -> None:
        """Script the next ``times`` answers of ``method`` (see :class:`localslack.Injection`)."""
        if retry_after is not None and status is None:
            status = 429
        self._injections.add(Injection(method, status=status, error=error, retry_after=retry_after,
                                       delay=delay, times=times))

    def on_post(self, callback: Callable[[dict[str, Any]], None]) -> Callable[[], None]:
        """Call ``callback(event)`` for each message or modal the bot shows; returns an unsubscribe function.

        ``event`` is ``{"method": "chat.postMessage"|"chat.update"|"chat.postEphemeral"|"views.open"|
        "response_url", "channel", "ts", "message"}`` (``user`` for ephemerals; ``trigger_id`` and ``view``
        for ``views.open``). Callbacks run on the delivery thread, in order.
        """
        with self._lock:
            self._listeners.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._listeners:
                    self._listeners.remove(callback)

        return unsubscribe

    def wait_for_deliveries(self, timeout: float = 5.0) -> None:
        """Block until every queued echo and ``on_post`` callback has run, else :class:`DeliveriesPending`."""
        if not self._queue.wait(timeout):
            raise DeliveriesPending(f"local Slack deliveries still pending after {timeout} s")

    # -- Backend (called from the server thread) ---------------------------------------------------

    def take_injection(self, method: str) -> Injection | None:
        """The scripted answer for this call of ``method``, if any."""
        return self._injections.take(method)

    def api_call(self, method: str, params: dict[str, Any], headers: dict[str, str],
                 injection: Injection | None, *, connection: str = "") -> Reply:
        """Answer one Web API (or response_url) call and record it."""
        if injection is not None and injection.replaces_reply:
            status, body, extra = injection.reply()
            reply = Reply(status, body, extra)
        else:
            reply = self._answer(method, params, headers)
        with self._lock:
            self._calls.append(RecordedCall(method, copy.deepcopy(params), headers, reply.status,
                                            copy.deepcopy(reply.body), connection))
        return reply

    def download(self, file_key: str, headers: dict[str, str]) -> Reply:
        """A file's bytes for the bot token; Slack's login page (HTTP 200) for anyone else."""
        if _header(headers, "Authorization") != f"Bearer {self.identity.bot_token}":
            return Reply(200, content=LOGIN_PAGE, content_type="text/html")
        team_id, _, file_id = file_key.partition("-")
        with self._lock:
            file = self._state.files.get(file_id) if team_id == self.identity.team_id else None
        if file is None:
            return Reply(404, content=b"Not Found", content_type="text/plain")
        mimetype, _ = objects.filetype_info(file.filetype, file.name)
        return Reply(200, content=file.content, content_type=mimetype)

    def _auth_error(self, params: dict[str, Any], headers: dict[str, str]) -> str | None:
        authorization = _header(headers, "Authorization")
        token = authorization[7:] if authorization.lower().startswith("bearer ") else params.get("token")
        if not token:
            return "not_authed"
        if token == self.app_token:  # an app-level token opens Socket Mode connections and nothing else
            return "not_allowed_token_type"
        return None if token == self.identity.bot_token else "invalid_auth"

    def _answer(self, method: str, params: dict[str, Any], headers: dict[str, str]) -> Reply:
        handler: Handler
        if method == "response_url":  # a hook URL: its secret id is the credential, not a token
            handler = response_url
        elif method == "apps.connections.open":
            return self._open_connection(params, headers)
        else:
            if method not in METHODS:
                return Reply(200, {"ok": False, "error": "unknown_method", "req_method": method})
            auth_error = self._auth_error(params, headers)
            if auth_error:
                return Reply(200, {"ok": False, "error": auth_error})
            handler = METHODS[method]
        with self._lock:
            ctx = self._context()
            try:
                body = handler(ctx, params)
            except ApiError as error:
                return Reply(200, error.body())
            except Exception:
                logger.exception("local Slack failed to answer %s", method)
                return Reply(500, {"ok": False, "error": "internal_error"})
            listeners = list(self._listeners)
            outbound = [self._outbound_job(item, listeners) for item in ctx.outbox]
        for job in outbound:
            self._queue.put(job)
        return Reply(200, body)

    def _open_connection(self, params: dict[str, Any], headers: dict[str, str]) -> Reply:
        """``apps.connections.open``: a websocket URL for the app-level token, as Slack answers it."""
        authorization = _header(headers, "Authorization")
        token = authorization[7:] if authorization.lower().startswith("bearer ") else params.get("token")
        if not token:
            return Reply(200, {"ok": False, "error": "not_authed"})
        if token == self.identity.bot_token:
            return Reply(200, {"ok": False, "error": "not_allowed_token_type"})
        if token != self.app_token:
            return Reply(200, {"ok": False, "error": "invalid_auth"})
        ws_base = self.base_url.replace("http://", "ws://", 1)
        url = f"{ws_base}link/?ticket={self.socket.issue_ticket()}&app_id={self.identity.app_id}"
        return Reply(200, {"ok": True, "url": url})

    def _context(self) -> MethodContext:
        base_url = self.base_url if self._server is not None else "http://127.0.0.1:0/"
        return MethodContext(self._state, self.identity, self._clock, base_url, self._ids.new)

    def _outbound_job(self, item: Outbound, listeners: list[Callable[[dict[str, Any]], None]]
                      ) -> Callable[[], None]:
        if item.kind == "echo":
            envelope = self._envelope(item.payload)
            return lambda: self._deliver_quietly(envelope)

        def notify() -> None:
            for listener in listeners:
                listener(copy.deepcopy(item.payload))

        return notify
