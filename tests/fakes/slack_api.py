"""Pytest fixtures for the local Slack workspace and a tiny receiver standing in for the bot.

``local_slack_server`` is started once per session; ``local_slack`` resets it for each test (the same
names and meaning as the root conftest's, which take precedence where both exist). ``event_receiver`` is
a real HTTP server on port 0 recording what the workspace delivers; it also answers
``url_verification`` with the challenge, as a bot must. Load with
``pytest_plugins = ["tests.fakes.slack_api"]``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
from slack_sdk import WebClient

from localslack import LocalSlack


@dataclass(frozen=True)
class ReceivedRequest:
    """One request the receiver got: path, headers (names lower-cased), raw body, and the body parsed."""

    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        """The body as JSON (events), or the decoded ``payload`` field (interactivity)."""
        if self.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            return json.loads(self.form["payload"])
        return json.loads(self.body)

    @property
    def form(self) -> dict[str, str]:
        """The body as a form (slash commands, interactivity); empty for JSON bodies."""
        if not self.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            return {}
        return {k: v[0] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}


class EventReceiver:
    """An HTTP server on ``127.0.0.1:0`` that records every POST and answers 200."""

    def __init__(self) -> None:
        self.requests: list[ReceivedRequest] = []
        self.status = 200
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._lock:
                    headers = {k.lower(): v for k, v in self.headers.items()}
                    receiver.requests.append(ReceivedRequest(self.path, headers, body))
                answer = b""
                if self.headers.get("Content-Type") == "application/json":
                    data = json.loads(body)
                    if data.get("type") == "url_verification":
                        answer = json.dumps({"challenge": data["challenge"]}).encode()
                self.send_response(receiver.status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """Where to point ``LocalSlack.events_url``."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/slack/events"

    def events(self) -> list[dict[str, Any]]:
        """The JSON bodies of the Events API deliveries received so far."""
        with self._lock:
            return [r.json for r in self.requests if r.headers.get("content-type") == "application/json"]

    def interactions(self) -> list[dict[str, Any]]:
        """The decoded ``payload`` of the interactivity deliveries (clicks, view submissions) so far."""
        with self._lock:
            return [json.loads(r.form["payload"]) for r in self.requests if "payload" in r.form]

    def reset(self) -> None:
        """Forget received requests and answer 200 again."""
        with self._lock:
            self.requests.clear()
        self.status = 200

    def close(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


@pytest.fixture(scope="session")
def local_slack_server() -> Iterator[LocalSlack]:
    """One local Slack workspace for the whole session (the root conftest may provide its own)."""
    workspace = LocalSlack().start()
    yield workspace
    workspace.stop()


@pytest.fixture
def local_slack(local_slack_server: LocalSlack) -> Iterator[LocalSlack]:
    """The session's workspace, reset to its seeded state; echoes are drained after the test."""
    local_slack_server.reset()
    yield local_slack_server
    local_slack_server.wait_for_deliveries()


@pytest.fixture(scope="session")
def _session_receiver() -> Iterator[EventReceiver]:
    receiver = EventReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def event_receiver(local_slack: LocalSlack, _session_receiver: EventReceiver) -> Iterator[EventReceiver]:
    """A receiver standing in for the bot during this test; ``events_url`` is restored afterwards."""
    _session_receiver.reset()
    previous, local_slack.events_url = local_slack.events_url, _session_receiver.url
    yield _session_receiver
    local_slack.wait_for_deliveries()
    local_slack.events_url = previous


@pytest.fixture
def slack_client(local_slack: LocalSlack) -> WebClient:
    """A real ``slack_sdk`` client pointed at the local workspace with the bot token."""
    return WebClient(token=local_slack.bot_token, base_url=local_slack.api_url, timeout=5)
