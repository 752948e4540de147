"""Redis connections and RQ queues. Jobs carry ids only; Postgres holds the state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import redis
from rq import Queue

from core import correlation, defaults

#: Fail fast when Redis is down: the caller has already recorded the work in Postgres and the
#: reconciler re-enqueues it, so waiting here would only delay the Slack ack.
SOCKET_TIMEOUT_SECONDS = 2.0


def connect_redis(url: str) -> redis.Redis:
    """A Redis client for ``url`` (redis://, rediss:// or unix://) with short timeouts."""
    return redis.Redis.from_url(
        url, socket_connect_timeout=SOCKET_TIMEOUT_SECONDS, socket_timeout=SOCKET_TIMEOUT_SECONDS * 5
    )


def get_queue(name: str, *, connection: redis.Redis) -> Queue:
    if name not in defaults.QUEUES:
        raise ValueError(f"unknown queue {name!r}; Baton's queues are {', '.join(defaults.QUEUES)}")
    return Queue(name, connection=connection)


def enqueue(
    connection: redis.Redis, queue: str, func: Callable[..., Any], *args: Any, job_id: str, **options: Any
) -> None:
    """Enqueue ``func(*args)`` under a deterministic ``job_id`` so a repeat enqueue is harmless.

    The job carries the correlation id (``job.meta["correlation_id"]``, see ``core.correlation``) so the
    worker's log lines for it share the id of whatever enqueued it.
    """
    correlation_id = correlation.for_enqueue(correlation.get(), correlation.from_job(func.__name__, args))
    if correlation_id is not None:
        options["meta"] = {**(options.get("meta") or {}), "correlation_id": correlation_id}
    get_queue(queue, connection=connection).enqueue(func, *args, job_id=job_id, **options)
