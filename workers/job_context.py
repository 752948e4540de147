"""What a job needs to reach the outside world, installed once per worker process.

Jobs are importable functions taking ids (STYLE: "jobs carry ids only"); they get settings, clients
and the clock from here. The worker entry point (``baton worker``, or a test running
``SimpleWorker``) calls :func:`install` before it starts working.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg
import redis
from slack_sdk import WebClient

from core import defaults
from core.settings import Settings
from memory.db import connect
from workers.mcp_catalogue import McpCatalogue


class WorkerNotConfigured(RuntimeError):
    """A job ran in a process where :func:`install` was never called."""


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class WorkerContext:
    settings: Settings
    slack: WebClient
    redis: redis.Redis | None = None
    now: Callable[[], datetime] = utc_now
    #: Sleep used between retries; tests shorten it.
    sleep: Callable[[float], None] = field(default=__import__("time").sleep)
    #: Minimum seconds between Baton's posts to one channel (Slack allows about one a second).
    post_interval: float = defaults.CHANNEL_POST_INTERVAL_SECONDS
    extras: dict[str, Any] = field(default_factory=dict)
    #: The MCP servers' tools, listed once per worker (``workers.connector_wiring.registry_for`` lists them on
    #: first use when the worker entry point did not).
    mcp: McpCatalogue | None = None

    def db(self) -> psycopg.Connection[dict[str, Any]]:
        """A fresh Postgres connection (one per job: connections must not cross RQ's fork)."""
        if self.settings.database_url is None:
            raise WorkerNotConfigured("the worker has no DATABASE_URL; start it through `baton worker`")
        return connect(self.settings.database_url)


_current: WorkerContext | None = None


def install(context: WorkerContext) -> None:
    global _current
    _current = context


def current() -> WorkerContext:
    if _current is None:
        raise WorkerNotConfigured("no worker context installed; start workers with `baton worker`")
    return _current
