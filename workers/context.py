"""What a job needs to reach the outside world, installed once per worker process.

Jobs are importable functions taking ids (STYLE: "jobs carry ids only"); they get settings and
client factories from here. The worker entry point (``baton worker``, or a test running
``SimpleWorker``) calls :func:`install` before it starts working.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import psycopg
from slack_sdk import WebClient

from core.settings import Settings
from memory.db import connect


class WorkerNotConfigured(RuntimeError):
    """A job ran in a process where :func:`install` was never called."""


@dataclass
class WorkerContext:
    settings: Settings
    slack: WebClient
    extras: dict[str, Any] = field(default_factory=dict)

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


def slack_client(settings: Settings) -> WebClient:
    """The Web API client every job uses: Baton's token, the configured base URL, a timeout."""
    from core import defaults

    return WebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=int(defaults.HTTP_TIMEOUT_SECONDS),
    )
