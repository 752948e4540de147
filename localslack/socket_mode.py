"""Slack's side of Socket Mode: connection tickets, the websocket, envelopes, acks, disconnects, redelivery.

What an app sees, as Slack documents it (https://docs.slack.dev/apis/events-api/using-socket-mode/)::

    apps.connections.open (app-level token xapp-…)  ->  {"ok": true, "url": "wss://…/link/?ticket=…"}
    connect                                          <-  {"type": "hello", "num_connections": 1,
                                                          "debug_info": {...}, "connection_info": {"app_id": …}}
    each delivery                                    <-  {"envelope_id": "…", "type": "events_api" |
                                                          "interactive" | "slash_commands", "payload": {…},
                                                          "accepts_response_payload": …,
                                                          "retry_attempt": 0, "retry_reason": ""}  (events only)
    ack (within 3 s)                                 ->  {"envelope_id": "…", "payload": {…}}  (payload optional:
                                                          a slash command's reply, a view_submission's
                                                          response_action)
    the server wants the app elsewhere               <-  {"type": "disconnect", "reason": "refresh_requested",
                                                          "debug_info": {"host": …}}

An ``events_api`` envelope that is not acknowledged in time is delivered again, under a new envelope id,
with ``retry_attempt`` counting up (Slack retries events; an unacknowledged slash command or click fails
for the person instead). After a ``disconnect`` no new envelope goes to that connection; it is closed
after :attr:`SocketHub.drain_seconds` if the app has not closed it first.

Everything here runs on the local workspace's server loop; :class:`SocketHub`'s public methods are called
from other threads and hand their work to that loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import threading
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from aiohttp import WSMsgType, web

logger = logging.getLogger(__name__)

#: The envelope types Slack delivers over Socket Mode.
EnvelopeType = Literal["events_api", "interactive", "slash_commands"]

#: Why Slack asks an app to reconnect (``link_disabled`` means Socket Mode was turned off).
DisconnectReason = Literal["refresh_requested", "warning", "link_disabled"]

T = TypeVar("T")


@dataclass(frozen=True)
class SocketAnswer:
    """What came back for one delivery: ``acked`` with the ack's ``payload``, or why not."""

    outcome: Literal["acked", "no_ack", "no_connection"]
    payload: dict[str, Any] | None = None
    attempts: int = 0


@dataclass
class _Link:
    ws: web.WebSocketResponse
    number: int
    draining: bool = False


@dataclass
class SocketHub:
    """The Socket Mode server of the local workspace (one app, any number of connections)."""

    app_id: str
    #: Seconds Slack waits for an ack before it counts the delivery as failed (Slack's 3 s).
    ack_timeout: float = 3.0
    #: Redeliveries of an unacknowledged ``events_api`` envelope (Slack retries an event up to 3 times).
    max_retries: int = 3
    #: Seconds a delivery waits for an open connection (the app reconnecting) before it fails.
    connect_timeout: float = 10.0
    #: Seconds a connection told to ``disconnect`` may stay open before the server closes it.
    drain_seconds: float = 5.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _loop: asyncio.AbstractEventLoop | None = field(default=None, repr=False)
    _tickets: set[str] = field(default_factory=set, repr=False)
    _links: list[_Link] = field(default_factory=list, repr=False)
    _pending: dict[str, asyncio.Future[dict[str, Any] | None]] = field(default_factory=dict, repr=False)
    _closing: set[asyncio.Future[bool]] = field(default_factory=set, repr=False)
    _late_acks: int = 0
    _opened: int = 0
    #: Every envelope sent and every message the app sent back (acks, late or not), for inspection.
    _sent: list[dict[str, Any]] = field(default_factory=list, repr=False)
    _received: list[dict[str, Any]] = field(default_factory=list, repr=False)

    # -- driving it (any thread) -----------------------------------------------------------------

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """The server loop the websocket runs on (set when the workspace starts)."""
        self._loop = loop

    def issue_ticket(self) -> str:
        """A ticket for ``apps.connections.open``'s URL (valid until :meth:`reset`)."""
        ticket = secrets.token_urlsafe(16)
        with self._lock:
            self._tickets.add(ticket)
        return ticket

    def deliver(self, kind: EnvelopeType, payload: dict[str, Any], *, timeout: float) -> SocketAnswer:
        """Send ``payload`` in a ``kind`` envelope and wait for its ack (redelivering events as Slack does)."""
        return self._call(self._deliver(kind, payload), timeout)

    def disconnect(self, reason: DisconnectReason = "refresh_requested") -> int:
        """Tell every open connection to reconnect (``disconnect`` message); returns how many were told."""
        return self._call(self._disconnect(reason), 5.0)

    def drop(self) -> int:
        """Close every connection abruptly (a network failure, a server restart); returns how many."""
        return self._call(self._drop(), 5.0)

    def late_acks(self, count: int = 1) -> None:
        """Treat the acks of the next ``count`` envelopes as late: each is redelivered at once."""
        with self._lock:
            self._late_acks += count

    @property
    def open_connections(self) -> int:
        """Connections open and not told to disconnect."""
        with self._lock:
            return sum(1 for link in self._links if not link.draining and not link.ws.closed)

    @property
    def connections_opened(self) -> int:
        """Connections accepted since the last reset (the first one and every reconnect)."""
        with self._lock:
            return self._opened

    @property
    def sent(self) -> list[dict[str, Any]]:
        """Copies of every envelope and control message sent, in order."""
        with self._lock:
            return json.loads(json.dumps(self._sent))  # type: ignore[no-any-return]

    @property
    def received(self) -> list[dict[str, Any]]:
        """Every JSON message the app sent (its acks), in order of arrival, late ones included."""
        with self._lock:
            return json.loads(json.dumps(self._received))  # type: ignore[no-any-return]

    def reset(self) -> None:
        """Forget the records and the scripted late acks; open connections stay open."""
        with self._lock:
            self._sent.clear()
            self._received.clear()
            self._late_acks = 0
            self._opened = len(self._links)

    def _call(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        if self._loop is None:
            coro.close()
            raise RuntimeError("the Socket Mode server is not running")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    # -- the websocket (server loop) -------------------------------------------------------------

    async def serve(self, request: web.Request) -> web.StreamResponse:
        """``GET /link/?ticket=…``: one Socket Mode connection, from its hello to its close."""
        with self._lock:
            known = request.query.get("ticket", "") in self._tickets
        if not known:
            return web.json_response({"ok": False, "error": "invalid_ticket"}, status=401)
        ws = web.WebSocketResponse(autoping=True)  # answers the client's pings, as Slack does
        await ws.prepare(request)
        with self._lock:
            self._opened += 1
            link = _Link(ws, self._opened)
            self._links.append(link)
            count = sum(1 for other in self._links if not other.draining)
        await self._send(
            link,
            {
                "type": "hello",
                "num_connections": count,
                "debug_info": {"host": "applink-local", "build_number": 1, "approximate_connection_time": 18060},
                "connection_info": {"app_id": self.app_id},
            },
        )
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    self._on_text(message.data)
        finally:
            with self._lock:
                self._links.remove(link)
        return ws

    def _on_text(self, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            logger.warning("local Slack got a Socket Mode message that is not JSON")
            return
        if not isinstance(message, dict):
            return
        with self._lock:
            self._received.append(message)
        waiter = self._pending.pop(str(message.get("envelope_id") or ""), None)
        if waiter is not None and not waiter.done():
            payload = message.get("payload")
            waiter.set_result(payload if isinstance(payload, dict) else None)

    async def _send(self, link: _Link, message: dict[str, Any]) -> None:
        with self._lock:
            self._sent.append(json.loads(json.dumps(message)))
        await link.ws.send_str(json.dumps(message))

    async def _live_link(self, timeout: float) -> _Link | None:
        """The newest connection not told to disconnect, waiting up to ``timeout`` for the app to open one."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            with self._lock:
                live = [link for link in self._links if not link.draining and not link.ws.closed]
            if live:
                return live[-1]
            if asyncio.get_running_loop().time() >= deadline:
                return None
            await asyncio.sleep(0.02)

    async def _deliver(self, kind: EnvelopeType, payload: dict[str, Any]) -> SocketAnswer:
        retries = self.max_retries if kind == "events_api" else 0
        for attempt in range(retries + 1):
            link = await self._live_link(self.connect_timeout)
            if link is None:
                return SocketAnswer("no_connection", attempts=attempt)
            envelope_id = str(uuid.uuid4())
            envelope: dict[str, Any] = {
                "envelope_id": envelope_id,
                "type": kind,
                "payload": payload,
                # Slack takes a reply in the ack of slash commands and of view submissions.
                "accepts_response_payload": kind == "slash_commands"
                or (kind == "interactive" and payload.get("type") == "view_submission"),
            }
            if kind == "events_api":
                envelope.update(retry_attempt=attempt, retry_reason="timeout" if attempt else "")
            waiter: asyncio.Future[dict[str, Any] | None] = asyncio.get_running_loop().create_future()
            self._pending[envelope_id] = waiter
            with self._lock:
                late, self._late_acks = self._late_acks > 0, max(self._late_acks - 1, 0)
            try:
                await self._send(link, envelope)
                answer = await asyncio.wait_for(asyncio.shield(waiter), 0 if late else self.ack_timeout)
            except (TimeoutError, ConnectionError, RuntimeError):  # no ack in time, or the connection went
                self._pending.pop(envelope_id, None)
                continue
            return SocketAnswer("acked", answer, attempts=attempt + 1)
        return SocketAnswer("no_ack", attempts=retries + 1)

    async def _disconnect(self, reason: DisconnectReason) -> int:
        with self._lock:
            links = [link for link in self._links if not link.draining]
            for link in links:
                link.draining = True
        for link in links:
            await self._send(link, {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-local"}})
            asyncio.get_running_loop().call_later(self.drain_seconds, self._close_soon, link)
        return len(links)

    def _close_soon(self, link: _Link) -> None:
        if not link.ws.closed:
            self._closing.add(closing := asyncio.ensure_future(link.ws.close()))
            closing.add_done_callback(self._closing.discard)

    async def _drop(self) -> int:
        with self._lock:
            links = list(self._links)
        for link in links:
            await link.ws.close(code=1011, message=b"server went away")
        return len(links)
