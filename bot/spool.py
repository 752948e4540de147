"""Events recorded later: kept in the spool while Postgres is unavailable, replayed through the listeners.

``bot.events``' middleware records each delivery in Postgres before the ack. When Postgres is unavailable
it keeps the body in the spool (``workers.spool``, a Redis stream) and acks instead, so Slack neither waits
nor gives up on it; the web process's replay loop (:func:`replay_spooled`, started by
``baton/web_server.py``) dispatches each kept body through the same bolt app once Postgres answers again:
the middleware records it, the listeners enqueue its planning and add the :eyes: reaction, as for a live
delivery. An entry leaves the spool only after that, and a replay stops at the first one Postgres still
refuses, keeping it and everything after it for the next round.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import redis
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from core import defaults
from workers.api import SpooledEvent, drop_event, keep_event, spooled_count, spooled_events

log = logging.getLogger(__name__)

#: Context keys: set on a replayed request, and by the middleware when Postgres still refused it.
REPLAYING = "baton_replaying"
STILL_DOWN = "baton_still_down"
#: Entries replayed per round.
REPLAY_BATCH = 100


class EventSpool:
    """The spool as the web process's event loop uses it (Redis calls run in a thread)."""

    def __init__(self, connection: redis.Redis) -> None:
        self._redis = connection

    async def keep(self, body: dict[str, Any], *, retry_num: int) -> str:
        return await asyncio.to_thread(keep_event, self._redis, body, retry_num=retry_num)

    async def count(self) -> int:
        return await asyncio.to_thread(spooled_count, self._redis)

    async def oldest(self, limit: int) -> list[SpooledEvent]:
        return await asyncio.to_thread(spooled_events, self._redis, limit=limit)

    async def drop(self, entry_id: str) -> None:
        await asyncio.to_thread(drop_event, self._redis, entry_id)


async def replay_spooled(app: AsyncApp, spool: EventSpool) -> int:
    """Replay kept deliveries, oldest first, until the spool is empty or Postgres refuses one; returns how many
    left the spool."""
    replayed = 0
    while True:
        entries = await spool.oldest(REPLAY_BATCH)
        if not entries:
            return replayed
        for entry in entries:
            request = AsyncBoltRequest(
                body=json.dumps(entry.body),
                headers={"content-type": ["application/json"], "x-slack-retry-num": [str(entry.retry_num)]},
                context={REPLAYING: True},
            )
            response = await app.async_dispatch(request)
            if request.context.get(STILL_DOWN):
                log.info("the event spool waits for Postgres (%s kept)", len(entries) - entries.index(entry))
                return replayed
            if response.status >= 500:
                # Not an outage: it fails as a live delivery would (logged by bolt's error handler); a spooled
                # copy must not block the ones behind it.
                log.warning("dropped spooled event %s: it failed when replayed", entry.body.get("event_id"))
            await spool.drop(entry.entry_id)
            replayed += 1
            log.info("replayed spooled event %s", entry.body.get("event_id"))


async def replay_forever(app: AsyncApp, spool: EventSpool, *, every: float = defaults.SPOOL_REPLAY_SECONDS) -> None:
    """The web process's replay loop: every ``every`` seconds, replay whatever the spool holds (until cancelled)."""
    while True:
        await asyncio.sleep(every)
        try:
            if await spool.count():
                await replay_spooled(app, spool)
        except Exception as err:  # Redis away, or Postgres failing mid-replay: the next round tries again
            log.warning("could not replay the event spool: %s", err)
