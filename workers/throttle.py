"""Space Slack posts to one channel about a second apart, across all workers (Redis SET NX PX)."""

from __future__ import annotations

import time

import redis

from core import defaults

#: Never wait longer than this for a turn; Slack's own 429 handling covers the rest.
MAX_WAIT_SECONDS = 10.0


def wait_turn(
    connection: redis.Redis | None, channel: str, *, interval: float = defaults.CHANNEL_POST_INTERVAL_SECONDS
) -> None:
    """Block until this worker may post to ``channel`` (no-op without Redis)."""
    if connection is None or not channel or interval <= 0:
        return
    deadline = time.monotonic() + MAX_WAIT_SECONDS
    key = f"baton:throttle:{channel}"
    while time.monotonic() < deadline:
        try:
            if connection.set(key, "1", nx=True, px=int(interval * 1000)):
                return
            remaining = connection.pttl(key)
        except redis.RedisError:
            return  # throttling is a courtesy; never block work on it
        time.sleep(max(0.01, min(interval, (remaining or 50) / 1000)))
