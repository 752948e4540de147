"""Shared test harness: real Postgres + pgvector, real Redis, the local Slack workspace as the
Slack fake, the fake OpenAI API, the bot's real HTTP app, signed requests, and an in-process
RQ worker. Servers start once per session; state is reset per test."""

from __future__ import annotations

import json
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis

from baton.web_server import WebServer
from connectors.slack_clients import job_client
from core import defaults
from core.settings import Settings
from localslack import LocalSlack, signed_headers
from memory.db import connect
from tests.fakes.backends import Backends, reset_database, reset_redis, session_backends
from tests.fakes.inprocess_worker import InProcessWorker
from tests.fakes.openai_fixtures import fake_openai, fake_openai_server  # noqa: F401  (fixtures)
from workers.api import connect_redis, get_queue
from workers.job_context import WorkerContext, install

pytest_plugins = ["tests.plugins.quality_report"]

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
FIXTURES = SHARED / "fixtures"
SIGNING_SECRET = "test-signing-secret-" + secrets.token_hex(8)
BOT_TOKEN = "xoxb-test-token"


def load_fixture(relative: str) -> Any:
    """A JSON file from ``../shared/fixtures/`` (real Slack payloads, meeting transcripts)."""
    return json.loads((FIXTURES / relative).read_text())


# -- backends ------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def backends(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backends]:
    with session_backends(tmp_path_factory.mktemp("baton-home")) as found:
        yield found


@pytest.fixture
def db(backends: Backends) -> Iterator[Any]:
    """A Postgres connection (dict rows, autocommit) on a freshly emptied, migrated schema."""
    reset_database(backends.database_url)
    with connect(backends.database_url) as conn:
        yield conn


@pytest.fixture
def redis_conn(backends: Backends) -> Iterator[redis.Redis]:
    connection = connect_redis(backends.redis_url)
    reset_redis(connection)
    yield connection
    connection.close()


# -- Slack ---------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def local_slack_server() -> Iterator[LocalSlack]:
    slack = LocalSlack(bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET).start()
    yield slack
    slack.stop()


@pytest.fixture
def local_slack(local_slack_server: LocalSlack) -> LocalSlack:
    """The Slack fake, reset: seeded users and channels, no messages, no calls, no injected faults."""
    local_slack_server.reset()
    return local_slack_server


# -- the bot -------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def settings(
    backends: Backends, local_slack_server: LocalSlack, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    return Settings(
        baton_home=backends.home,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=local_slack_server.api_url,
        database_url=backends.database_url,
        redis_url=backends.redis_url,
        port=0,
        # Deterministic and fast by default; memory tests opt into the fake OpenAI embeddings, and
        # tests/scenario/test_embeddings.py covers the local model.
        embedding_provider="none",
    )


@pytest.fixture(scope="session")
def clock() -> Clock:
    """The one injected clock of the session's web server and in-process workers; each test starts it at now."""
    return Clock()


@pytest.fixture(scope="session")
def web_server(settings: Settings, local_slack_server: LocalSlack, clock: Clock) -> Iterator[WebServer]:
    server = WebServer(settings, host="127.0.0.1", port=0, now=clock.now)
    url = server.start_in_thread()
    local_slack_server.events_url = url + "/slack/events"
    yield server
    server.stop_thread()


@dataclass
class Response:
    status: int
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


def http(
    method: str, url: str, *, body: bytes | None = None, headers: dict[str, str] | None = None
) -> Response:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return Response(reply.status, reply.read().decode())
    except urllib.error.HTTPError as err:
        with err:
            return Response(err.code, err.read().decode())


class Clock:
    """An injected clock shared by the web process and the in-process worker; tests move it."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


@dataclass
class Bot:
    """The running bot as a test sees it: its URL, signed POSTs to it, and a way to run queued jobs."""

    url: str
    settings: Settings
    redis: redis.Redis
    slack: LocalSlack
    clock: Clock = field(default_factory=Clock)
    #: Settings the in-process worker runs with, on top of the session's (e.g. an LLM base URL).
    setting_changes: dict[str, Any] = field(default_factory=dict)
    #: Seconds the executor asked to sleep between retries (recorded, not slept).
    sleeps: list[float] = field(default_factory=list)
    #: The per-channel post spacing; 0 keeps scenarios fast (tests/unit/test_throttle.py covers spacing).
    post_interval: float = 0.0

    def context(self, **changes: Any) -> WorkerContext:
        """The worker context jobs run with (settings overridable per test)."""
        settings = self.settings.with_changes(**changes) if changes else self.settings
        return WorkerContext(settings=settings, slack=job_client(settings), redis=self.redis,
                             now=self.clock.now, sleep=self.sleeps.append, post_interval=self.post_interval)

    def post_signed(
        self,
        body: bytes | str,
        *,
        content_type: str = "application/json",
        timestamp: int | None = None,
        secret: str | None = None,
        extra_headers: dict[str, str] | None = None,
    ) -> Response:
        raw = body.encode() if isinstance(body, str) else body
        headers = signed_headers(
            secret or SIGNING_SECRET, raw, timestamp=timestamp, content_type=content_type
        )
        headers.update(extra_headers or {})
        return http("POST", self.url + "/slack/events", body=raw, headers=headers)

    def post_event(self, payload: dict[str, Any], **kwargs: Any) -> Response:
        return self.post_signed(json.dumps(payload), **kwargs)

    def run_jobs(self, *, wait_for: int = 0, timeout: float = 5.0) -> int:
        """Run every queued job in-process (RQ SimpleWorker with correlation ids, burst); return how many were queued.

        Listeners enqueue just after the HTTP ack, so ``wait_for`` waits (up to ``timeout``) until at
        least that many jobs are queued before running them.
        """
        install(self.context(**self.setting_changes))
        queues = [get_queue(name, connection=self.redis) for name in defaults.QUEUES]
        deadline = time.monotonic() + timeout
        while sum(queue.count for queue in queues) < wait_for and time.monotonic() < deadline:
            time.sleep(0.01)
        before = sum(queue.count for queue in queues)
        InProcessWorker(queues, connection=self.redis).work(burst=True, logging_level="WARNING")
        return before


@pytest.fixture
def bot(
    web_server: WebServer, settings: Settings, local_slack: LocalSlack, db: Any, redis_conn: redis.Redis, clock: Clock
) -> Iterator[Bot]:
    """The bot's real HTTP app with empty Postgres, Redis and Slack fake, and the clock back at now."""
    clock.offset = timedelta(0)
    yield Bot(url=web_server.url, settings=settings, redis=redis_conn, slack=local_slack, clock=clock)
    clock.offset = timedelta(0)
