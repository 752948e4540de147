"""Redis connections: every client Baton opens, with timeouts on by default.

Redis carries jobs only (Postgres holds every state), so a slow or dead Redis must fail fast: the caller has
already recorded the work in Postgres and the reconciler re-enqueues it.
"""

from __future__ import annotations

import redis

#: Seconds to connect, and to wait for any reply, for the workers and the web process.
CONNECT_TIMEOUT_SECONDS = 2.0
SOCKET_TIMEOUT_SECONDS = 10.0
#: An operator's status answer must not hang on a dead Redis: a second to connect, two for any reply.
QUICK_CONNECT_TIMEOUT_SECONDS = 1.0
QUICK_SOCKET_TIMEOUT_SECONDS = 2.0


def connect_redis(url: str, *, quick: bool = False) -> redis.Redis:
    """A Redis client for ``url`` (redis://, rediss:// or unix://); ``quick`` for operators' questions."""
    if quick:
        return redis.Redis.from_url(url, socket_connect_timeout=QUICK_CONNECT_TIMEOUT_SECONDS,
                                    socket_timeout=QUICK_SOCKET_TIMEOUT_SECONDS)
    return redis.Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
                                socket_timeout=SOCKET_TIMEOUT_SECONDS)
