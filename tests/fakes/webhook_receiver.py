"""A webhook receiver for tests: a real HTTP server on ``127.0.0.1:0`` that behaves like a careful API.

It records every request, verifies Baton's HMAC signature when it knows the secret (401 when wrong),
and honours ``Idempotency-Key``: the first request under a key is *processed* (it becomes an entry of
:attr:`WebhookReceiver.effects`), a repeat gets the first answer again with ``Idempotent-Replayed: true``
and changes nothing. Scripted answers (:meth:`WebhookReceiver.inject`) simulate trouble:

* ``status=500`` / ``status=404`` / ``status=302``: answered at once, nothing processed;
* ``status=429, retry_after=30``: the same, with a ``Retry-After`` header;
* ``delay=1.0`` alone: processed, then answered late (a client with a shorter timeout gives up although
  the effect happened - the case idempotency keys exist for).

Start once per session, :meth:`reset` per test.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class ReceivedWebhook:
    """One request as received: path, headers (lower-cased names), raw body, and what the receiver made of it."""

    path: str
    headers: dict[str, str]
    body: bytes
    signature_ok: bool | None  # None when the receiver has no secret
    replayed: bool
    status: int

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Scripted:
    status: int | None = None
    retry_after: str | None = None
    delay: float = 0.0
    location: str | None = None


class WebhookReceiver:
    """See the module docstring."""

    def __init__(self) -> None:
        self.secret: str | None = None
        self.requests: list[ReceivedWebhook] = []
        #: Processed deliveries by idempotency key (a request without a key gets a fresh entry each time).
        self.effects: dict[str, Any] = {}
        self._answers: dict[str, tuple[int, bytes]] = {}
        self._script: deque[Scripted] = deque()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True, name="webhook-receiver")

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reset(self, *, secret: str | None = None) -> None:
        with self._lock:
            self.secret = secret
            self.requests.clear()
            self.effects.clear()
            self._answers.clear()
            self._script.clear()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>`` (no trailing slash)."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def inject(self, *, status: int | None = None, retry_after: float | None = None, delay: float = 0.0,
               location: str | None = None, times: int = 1) -> None:
        """Script the next ``times`` answers (see the module docstring)."""
        with self._lock:
            for _ in range(times):
                self._script.append(Scripted(status=status, delay=delay, location=location,
                                             retry_after=None if retry_after is None else str(int(retry_after))))

    # -- HTTP ----------------------------------------------------------------------------------------

    def _verify(self, headers: dict[str, str], body: bytes) -> bool | None:
        if self.secret is None:
            return None
        timestamp = headers.get("x-baton-timestamp", "")
        expected = "sha256=" + hmac.new(self.secret.encode(), timestamp.encode() + b"." + body,
                                        hashlib.sha256).hexdigest()
        return bool(timestamp) and hmac.compare_digest(expected, headers.get("x-baton-signature", ""))

    def _handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes, float]:
        with self._lock:
            scripted = self._script.popleft() if self._script else Scripted()
            signature_ok = self._verify(headers, body)
            key = headers.get("idempotency-key")
            replayed = key is not None and key in self._answers
            if scripted.status is not None:
                status, extra, answer = scripted.status, {}, json.dumps({"error": "scripted"}).encode()
                if scripted.retry_after is not None:
                    extra["Retry-After"] = scripted.retry_after
                if scripted.location is not None:
                    extra["Location"] = scripted.location
            elif signature_ok is False:
                status, extra, answer = 401, {}, b'{"error": "bad signature"}'
            elif replayed:
                assert key is not None
                status, answer = self._answers[key]
                extra = {"Idempotent-Replayed": "true"}
            else:
                status, extra = 200, {}
                answer = json.dumps({"ok": True, "received": len(self.effects) + 1}).encode()
                self.effects[key or f"no-key-{len(self.effects)}"] = json.loads(body)
                if key is not None:
                    self._answers[key] = (status, answer)
            self.requests.append(ReceivedWebhook(path, headers, body, signature_ok, replayed, status))
        return status, extra, answer, scripted.delay

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, extra, answer, delay = receiver._handle(self.path, headers, body)
                if delay:
                    time.sleep(delay)
                try:
                    self.send_response(status)
                    for name, value in extra.items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
