"""Per-channel post spacing across workers (real Redis)."""

from __future__ import annotations

import time

from workers.throttle import wait_turn


def test_posts_to_one_channel_are_spaced_and_other_channels_are_not_held_up(redis_conn):
    start = time.monotonic()
    wait_turn(redis_conn, "C1", interval=0.3)
    wait_turn(redis_conn, "C2", interval=0.3)  # another channel: no wait
    assert time.monotonic() - start < 0.2
    wait_turn(redis_conn, "C1", interval=0.3)  # same channel: waits for the previous turn to pass
    assert time.monotonic() - start >= 0.28


def test_no_redis_or_zero_interval_never_blocks():
    start = time.monotonic()
    wait_turn(None, "C1", interval=5)
    assert time.monotonic() - start < 0.05
