"""The running bot most benchmarks measure: embedded Postgres + Redis in a state folder, migrated, the local
Slack workspace, and the bot's real ``WebServer`` on loopback in a thread (as the test harness runs it)."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from baton.web_server import WebServer
from bench._common import state_folder
from core.settings import Settings
from localslack import LocalSlack
from memory.db import connect
from memory.embedded import EmbeddedServices
from memory.migrate import migrate

BOT_TOKEN = "xoxb-bench-token"


@dataclass
class BenchBot:
    """What a benchmark drives: the settings the bot runs with, its state folder, the workspace, its URL."""

    settings: Settings
    home: Path
    slack: LocalSlack
    url: str

    @property
    def database_url(self) -> str:
        assert self.settings.database_url is not None
        return self.settings.database_url

    @property
    def redis_url(self) -> str:
        assert self.settings.redis_url is not None
        return self.settings.redis_url

    def counts(self) -> dict[str, Any]:
        """Requests recorded, and plans whose card is up."""
        with connect(self.database_url) as conn:
            row = conn.execute("SELECT (SELECT count(*) FROM requests) AS requests, "
                               "(SELECT count(*) FROM plans WHERE card_ts IS NOT NULL) AS cards").fetchone()
        assert row is not None
        return dict(row)


@contextlib.contextmanager
def running_bot(home: str | None, *, prefix: str, **settings: Any) -> Iterator[BenchBot]:
    """Start everything (``settings`` go to :class:`Settings`, e.g. ``embedding_provider="none"``); the workspace
    delivers events to the bot. Stops it all and, unless ``home`` was given, deletes the state folder."""
    secret = "bench-signing-secret-" + secrets.token_hex(8)
    with state_folder(home, prefix=prefix) as folder:
        services = EmbeddedServices(folder)
        slack = LocalSlack(bot_token=BOT_TOKEN, signing_secret=secret).start()
        server: WebServer | None = None
        try:
            database_url, redis_url = services.ensure_postgres(), services.ensure_redis()
            with connect(database_url) as conn:
                migrate(conn)
            config = Settings(baton_home=folder, slack_bot_token=BOT_TOKEN, slack_signing_secret=secret,
                              slack_api_url=slack.api_url, database_url=database_url, redis_url=redis_url, port=0,
                              **settings)
            server = WebServer(config, host="127.0.0.1", port=0)
            url = server.start_in_thread()
            slack.events_url = url + "/slack/events"
            yield BenchBot(settings=config, home=folder, slack=slack, url=url)
        finally:
            if server is not None:
                server.stop_thread()
            slack.stop()
            services.release()
