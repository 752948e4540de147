"""What the Slack listeners need, injected once when the app is built."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from psycopg_pool import AsyncConnectionPool, ConnectionPool

from bot.spool import EventSpool
from core.settings import Settings

#: ``enqueue(kind, id)``: hand a recorded request or an approved plan to the workers.
Enqueue = Callable[[str, int], Awaitable[None]]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class AppDeps:
    pool: AsyncConnectionPool  # intake SQL, before the ack
    sync_pool: ConnectionPool  # approval transitions, run in a thread (shared SQL with the workers)
    enqueue: Enqueue
    chat_model: str
    now: Callable[[], datetime] = utc_now
    #: The web process's settings (admins, budgets, Redis URL for status); None in narrow unit tests.
    settings: Settings | None = None
    #: Where events wait while Postgres is unavailable (``bot.spool``); None: such deliveries are refused, and
    #: Slack redelivers them.
    spool: EventSpool | None = None
