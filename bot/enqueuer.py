"""Handing recorded work to the workers from the event loop: batched, off the loop, never failing a request.

RQ's client is blocking, so each enqueue runs in a thread. One thread hop and one Redis round trip per
listener is what a burst of events would cost; instead the calls made while a batch is on its way are
gathered and sent together as the next batch (``workers.api.enqueue_jobs``, one pipeline). At a trickle a batch
is one job, as before; under load the hops and round trips per event fall with the rate.

Each caller still waits until its own job is in Redis. If Redis is down, the request or plan stays recorded in
Postgres and the reconciler enqueues it later: the caller logs it and carries on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from core import correlation
from workers.api import JobRef

log = logging.getLogger(__name__)

#: At most this many jobs go in one pipeline.
MAX_BATCH = 200


class BatchingEnqueuer:
    """``await enqueuer(kind, ident)``: the :data:`bot.deps.Enqueue` the listeners use."""

    def __init__(self, enqueue_many: Callable[[Sequence[JobRef]], None], *, max_batch: int = MAX_BATCH) -> None:
        self._enqueue_many = enqueue_many
        self._max_batch = max_batch
        self._waiting: list[tuple[JobRef, asyncio.Future[None]]] = []
        self._sender: asyncio.Task[None] | None = None

    async def __call__(self, kind: str, ident: int) -> None:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._waiting.append((JobRef(kind, ident, correlation.get()), done))
        if self._sender is None or self._sender.done():
            self._sender = loop.create_task(self._send_all())
        try:
            await asyncio.shield(done)  # a cancelled listener does not take its batch's neighbours with it
        except Exception:
            log.exception("could not enqueue %s %s; it stays recorded for the reconciler", kind, ident)

    async def _send_all(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[: self._max_batch], self._waiting[self._max_batch :]
            try:
                await asyncio.to_thread(self._enqueue_many, [ref for ref, _done in batch])
            except Exception as err:
                for _ref, done in batch:
                    if not done.done():
                        done.set_exception(err)
            else:
                for _ref, done in batch:
                    if not done.done():
                        done.set_result(None)
