"""The event spool: Slack events the web process could not record because Postgres was unavailable.

An Events API delivery must be acknowledged within 3 s, and Slack retries one only three times over about
five minutes, so an outage longer than that would lose a mention. Instead the web process appends the
verified, cleaned body to a Redis stream (``baton:spool:events``; Redis is persisted with an append-only
file) and acknowledges it; once Postgres answers again, a web process replays each entry through the same
listeners (``bot.spool``), which record it exactly as a live delivery (a redelivery recorded in the
meantime is recognised by its ``event_id``) and only then delete it. Only when Redis is unavailable too is
the delivery refused, so that Slack redelivers it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import redis

#: The Redis stream of spooled Events API bodies.
STREAM = "baton:spool:events"


@dataclass(frozen=True)
class SpooledEvent:
    """One kept delivery: the stream entry id, the body as Baton cleaned it, and Slack's retry number."""

    entry_id: str
    body: dict[str, Any]
    retry_num: int


def keep_event(connection: redis.Redis, body: dict[str, Any], *, retry_num: int) -> str:
    """Append ``body`` to the spool; returns its entry id. Raises redis errors (the caller refuses the delivery)."""
    entry = connection.xadd(STREAM, {"body": json.dumps(body), "retry_num": str(retry_num)})
    return entry.decode() if isinstance(entry, bytes) else str(entry)


def spooled_events(connection: redis.Redis, *, limit: int) -> list[SpooledEvent]:
    """The oldest ``limit`` kept deliveries, oldest first."""
    found: list[SpooledEvent] = []
    for entry_id, fields in connection.xrange(STREAM, count=limit):  # type: ignore[union-attr]
        values = {_text(key): _text(value) for key, value in (fields or {}).items()}
        found.append(SpooledEvent(_text(entry_id), json.loads(values["body"]), int(values.get("retry_num") or 0)))
    return found


def drop_event(connection: redis.Redis, entry_id: str) -> None:
    """Remove a replayed delivery from the spool."""
    connection.xdel(STREAM, entry_id)


def spooled_count(connection: redis.Redis) -> int:
    """How many deliveries wait in the spool."""
    return int(connection.xlen(STREAM))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
