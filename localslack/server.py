"""The HTTP side of the local workspace: an aiohttp app on 127.0.0.1, port 0, in its own thread and loop.

Routes::

    GET|POST /api/{method}            Web API (query, JSON or form parameters, as slack_sdk sends them)
    POST     /hooks/{hook_id}         the response_url of a click or slash command
    GET      /files/{team-file}/...   url_private and url_private_download of uploaded files
    GET      /link/?ticket=...        the Socket Mode websocket (``apps.connections.open`` hands out the URL)

The server only speaks HTTP and websockets; what to answer is the :class:`Backend`'s business, and the
Socket Mode conversation the :class:`~localslack.socket_mode.SocketHub`'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qsl

from aiohttp import web

from localslack.errors import NotReady
from localslack.recording import Injection
from localslack.socket_mode import SocketHub

logger = logging.getLogger(__name__)

#: The name response_url POSTs are recorded (and can be injected) under.
HOOK_METHOD = "response_url"

#: Form fields slack_sdk sends as JSON text; parsed so handlers and recorded calls see structures.
JSON_FIELDS = ("blocks", "attachments", "view", "metadata")


@dataclass(frozen=True)
class Reply:
    """An HTTP answer: a JSON body, or raw ``content`` when it is set."""

    status: int = 200
    body: dict[str, Any] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    content: bytes | None = None
    content_type: str = "application/json"


class Backend(Protocol):
    """What the HTTP layer asks the workspace."""

    def take_injection(self, method: str) -> Injection | None:
        """The scripted answer for this call of ``method``, if any."""

    def api_call(self, method: str, params: dict[str, Any], headers: dict[str, str],
                 injection: Injection | None, *, connection: str = "") -> Reply:
        """Answer (and record) one Web API call; ``hook:<id>`` for a response_url POST."""

    def download(self, file_key: str, headers: dict[str, str]) -> Reply:
        """Answer a GET of a file URL."""


def parse_params(query: Mapping[str, str], body: bytes, content_type: str) -> dict[str, Any]:
    """Merge query string and body into one dict, as Slack reads arguments from either."""
    params: dict[str, Any] = dict(query)
    if body:
        if content_type == "application/json":
            data = json.loads(body)
            if not isinstance(data, dict):
                raise ValueError("JSON body must be an object")
            params.update(data)
        else:
            params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    for key in JSON_FIELDS:
        value = params.get(key)
        if isinstance(value, str) and value[:1] in ("[", "{"):
            # Invalid JSON stays text: the handler answers invalid_blocks_format / invalid_arguments.
            with contextlib.suppress(json.JSONDecodeError):
                params[key] = json.loads(value)
    return params


def _respond(reply: Reply) -> web.Response:
    if reply.content is not None:
        return web.Response(status=reply.status, body=reply.content, headers=dict(reply.headers),
                            content_type=reply.content_type)
    return web.json_response(reply.body, status=reply.status, headers=dict(reply.headers))


def build_app(backend: Backend, *, socket: SocketHub | None = None) -> web.Application:
    """The aiohttp application serving ``backend`` (and Socket Mode connections to ``socket``)."""

    async def call(request: web.Request, method: str, extra: dict[str, str]) -> web.Response:
        try:
            params = parse_params(request.query, await request.read(), request.content_type)
        except (ValueError, UnicodeDecodeError):
            return web.json_response({"ok": False, "error": "invalid_json"})
        params.update(extra)
        injection = backend.take_injection(method)
        if injection is not None and injection.delay:
            await asyncio.sleep(injection.delay)
        peer = request.transport.get_extra_info("peername") if request.transport is not None else None
        connection = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) and len(peer) >= 2 else ""
        return _respond(backend.api_call(method, params, dict(request.headers), injection, connection=connection))

    async def api(request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if method == HOOK_METHOD:  # only reachable through /hooks/, where the URL itself is the credential
            return web.json_response({"ok": False, "error": "unknown_method", "req_method": method})
        return await call(request, method, {})

    async def hook(request: web.Request) -> web.Response:
        return await call(request, HOOK_METHOD, {"hook_id": request.match_info["hook_id"]})

    async def files(request: web.Request) -> web.Response:
        return _respond(backend.download(request.match_info["file_key"], dict(request.headers)))

    app = web.Application()
    app.router.add_route("*", "/api/{method}", api)
    app.router.add_post("/hooks/{hook_id}", hook)
    app.router.add_get("/files/{file_key}/{tail:.*}", files)
    if socket is not None:
        app.router.add_get("/link/", socket.serve)
    return app


class ServerThread:
    """Runs an aiohttp app on ``127.0.0.1:0`` in a daemon thread with its own event loop."""

    def __init__(self, app: web.Application, *, name: str = "local-slack-http") -> None:
        self._app = app
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The event loop serving the app (for work other threads hand to it)."""
        if self._loop is None:
            raise NotReady("local Slack server is not started")
        return self._loop

    def start(self, timeout: float = 10.0) -> int:
        """Start serving; returns the bound port."""
        ready = threading.Event()
        errors: list[BaseException] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, args=(ready, errors), name=self._name, daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise NotReady("local Slack server did not start in time")
        if errors:
            raise NotReady("local Slack server failed to start") from errors[0]
        return self.port

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving, close every connection and the loop, and join the thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        self._loop = self._thread = None

    def _run(self, ready: threading.Event, errors: list[BaseException]) -> None:
        loop = self._loop
        assert loop is not None
        asyncio.set_event_loop(loop)
        runner = web.AppRunner(self._app, access_log=None, handle_signals=False, shutdown_timeout=0.5)
        try:
            loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, "127.0.0.1", 0)
            loop.run_until_complete(site.start())
            self.port = runner.addresses[0][1]
        except BaseException as error:  # reported to start() in the caller's thread
            errors.append(error)
            ready.set()
            loop.run_until_complete(runner.cleanup())
            loop.close()
            return
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(runner.cleanup())
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
