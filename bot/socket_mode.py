"""Socket Mode: the same bolt app and listeners, reached over a websocket Baton opens (no public URL).

Bolt's aiohttp adapter (:class:`AsyncSocketModeHandler`) and slack_sdk's aiohttp ``SocketModeClient`` do
the websocket: ``apps.connections.open`` with the app-level token, pings, reconnecting after a
``disconnect`` message or a dropped connection. Baton adds what its HTTP endpoint does after the
signature check, so a payload reaches the listeners the same way whatever the transport:

1. The envelope's payload is cleaned and shape-checked as the HTTP body it stands for
   (:func:`bot.inbound.read_envelope`: lone surrogates, NUL, field types).
2. :meth:`bot.endpoint.SlackEndpoint.dispatch` hands it to bolt (record -> ack -> enqueue, the same
   event_id and trigger_id dedupe), with Slack's retry headers taken from the envelope.
3. The answer becomes the ack, through bolt's own ``send_async_response`` (a slash command's reply or a
   view_submission's ``response_action`` travels in the ack's payload). A body refused in step 1 is
   acknowledged and dropped, as its redelivery would be refused again; a failure before anything was
   recorded (HTTP's 400) is not acknowledged, so Slack delivers the event again.

On top of slack_sdk's reconnect loop, failed attempts to open a connection back off exponentially
(capped, with jitter) instead of retrying every ping interval, and every ``hello`` (one per connection)
is counted, so ``/readyz`` and ``/metrics`` can tell a live socket and how often it was replaced.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.socket_mode.async_internals import send_async_response
from slack_bolt.adapter.socket_mode.internals import build_headers
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.endpoint import SlackEndpoint, log_refused
from bot.inbound import Refused, read_envelope
from core import correlation, defaults

log = logging.getLogger(__name__)

#: ``observe(kind, status, seconds)``: one envelope answered (kind ``event``, ``command`` or ``action``).
Observe = Callable[[str, int, float], None]

#: The ack-latency label of each envelope type (the same labels as HTTP requests).
KINDS = {"events_api": "event", "slash_commands": "command", "interactive": "action"}


@dataclass(frozen=True)
class SocketOptions:
    """How the websocket is kept: ping interval and the backoff between failed attempts to connect."""

    ping_interval: float = defaults.SOCKET_PING_INTERVAL_SECONDS
    backoff_first: float = defaults.SOCKET_BACKOFF_FIRST_SECONDS
    backoff_cap: float = defaults.SOCKET_BACKOFF_CAP_SECONDS

    def backoff(self, failures: int, *, rand: Callable[[], float] = random.random) -> float:
        """Seconds to wait before the next attempt after ``failures`` failed ones in a row (full jitter over
        the upper half: between half and all of ``first * 2^(failures-1)``, at most ``cap``)."""
        if failures <= 0:
            return 0.0
        ceiling = min(self.backoff_cap, self.backoff_first * 2.0 ** min(failures - 1, 30))
        return ceiling * (0.5 + rand() / 2)


class ReconnectingClient(SocketModeClient):
    """slack_sdk's aiohttp Socket Mode client, backing off between failed attempts to get a connection URL."""

    def __init__(self, *, app_token: str, web_client: AsyncWebClient, options: SocketOptions) -> None:
        client_log = logging.getLogger(f"{__name__}.client")
        # slack_sdk's DEBUG lines carry every frame received, payloads and all; Baton never logs content.
        client_log.setLevel(max(client_log.getEffectiveLevel(), logging.INFO))
        super().__init__(
            app_token=app_token, web_client=web_client, ping_interval=options.ping_interval, logger=client_log
        )
        self._options = options
        #: Failed ``apps.connections.open`` calls since the last connection was established.
        self.failures = 0

    async def issue_new_wss_url(self) -> str:
        """``apps.connections.open``, after the backoff its earlier failures call for."""
        if self.failures:
            delay = self._options.backoff(self.failures)
            log.info("Socket Mode: retrying apps.connections.open in %.1f s (%d failed)", delay, self.failures)
            await asyncio.sleep(delay)
        try:
            url = await super().issue_new_wss_url()
        except Exception:
            self.failures += 1
            raise
        return url

    async def connect(self) -> None:
        """Open a connection (slack_sdk retries until it has one or the client is closed)."""
        await super().connect()  # type: ignore[no-untyped-call]
        if self.current_session is not None and not self.current_session.closed:
            self.failures = 0


@dataclass
class SocketState:
    """What the web process reports about its websocket."""

    #: ``hello`` messages received: one per connection Slack accepted.
    connections: int = 0

    @property
    def reconnects(self) -> int:
        return max(self.connections - 1, 0)


class BatonSocketModeHandler(AsyncSocketModeHandler):
    """Bolt's aiohttp Socket Mode adapter, with each envelope cleaned and checked before bolt sees it.

    ``observe`` is told of each envelope answered, ``on_hello(reconnect)`` of each connection opened.
    """

    def __init__(
        self,
        endpoint: SlackEndpoint,
        *,
        app_token: str,
        web_client: AsyncWebClient,
        options: SocketOptions = SocketOptions(),
        observe: Observe | None = None,
        on_hello: Callable[[bool], None] | None = None,
    ) -> None:
        # Not super().__init__(): it builds slack_sdk's client itself; this is the same client class with
        # the backoff above. Build it inside the running event loop (slack_sdk starts a task at once).
        self.app = endpoint.app
        self.app_token = app_token
        self.endpoint = endpoint
        self.state = SocketState()
        self._observe = observe
        self._on_hello = on_hello
        self.client = ReconnectingClient(app_token=app_token, web_client=web_client, options=options)
        self.client.socket_mode_request_listeners.append(self.handle)  # type: ignore[arg-type]
        self.client.message_listeners.append(self._on_message)

    async def is_connected(self) -> bool:
        """True while a connection Slack said hello on is open and answering pings."""
        return self.state.connections > 0 and await self.client.is_connected()

    def socket_open(self) -> bool:
        """The same without waiting (for a metrics gauge): said hello, open, not found stale."""
        session = self.client.current_session
        return self.state.connections > 0 and session is not None and not session.closed and not self.client.stale

    async def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        """Answer one envelope: clean and check, dispatch, ack (or leave it for Slack to redeliver)."""
        started = time.perf_counter()
        status = 400
        with correlation.bind(None):  # each envelope starts without one; bolt's middleware sets it
            try:
                status = await self._answer(client, req, time.time())
            finally:
                elapsed = time.perf_counter() - started
                kind = KINDS.get(req.type, "other")
                if self._observe is not None:
                    self._observe(kind, status, elapsed)
                log.info("slack %s envelope answered %s in %.1f ms", kind, status, elapsed * 1000)

    async def _answer(self, client: SocketModeClient, req: SocketModeRequest, started: float) -> int:
        """The status an HTTP request would have got; ``started`` is the wall-clock time bolt's ack sender wants."""
        # The type and id come off the wire: ascii() keeps a hostile one to one printable line.
        about = f"{str(req.type)[:40]!a} envelope {str(req.envelope_id)[:64]!a}, attempt {req.retry_attempt}"
        try:
            inbound = read_envelope(req.type, req.payload)
        except Refused as refused:
            log_refused(refused, about)
            await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
            return refused.status
        response = await self.endpoint.dispatch(inbound, about=about, headers=build_headers(req), mode="socket_mode")
        if response.status == 200:
            await send_async_response(client, req, response, started)
        else:
            log.info("Socket Mode: not acknowledged (%s); Slack delivers it again", about)
        return response.status

    async def _on_message(self, client: AsyncBaseSocketModeClient, message: dict[str, Any], raw: str | None) -> None:
        if message.get("type") == "hello":
            self.state.connections += 1
            if self.state.reconnects:
                log.info("Socket Mode: reconnected (%d reconnects so far)", self.state.reconnects)
            else:
                log.info("Socket Mode: connected")
            if self._on_hello is not None:
                self._on_hello(self.state.reconnects > 0)
