"""Space Slack posts to one channel about a second apart, across all workers, without putting a worker to sleep.

Each post takes a *turn*: a slot on the channel's line, handed out by one Redis script on Redis's own clock
(so workers on several machines agree). A job whose turn is later does not wait for it: :func:`take_turn`
raises :class:`NotYourTurn` with the delay, and the job's caller schedules the post for then (e.g.
``post_plan_card`` enqueued at the turn). The slot is *held* under a name the later run repeats (the post's
idempotency key), so the deferred post keeps its place in line instead of queueing again at the back.

Replies (refusals, notices, result lines) wait in the Slack outbox (``workers/outbox.py``) instead, and the
"still working" message re-arms its timer for the turn, and the final report, the step-outcome question and
reminders/check-ins have their job enqueued again for the turn. :func:`wait_turn` is the blocking form, left
for the posts not moved yet (the meeting notes card and its refresh's updates, digests): it takes the same
line, so the spacing holds across all.
"""

from __future__ import annotations

import time
from typing import Any

import redis

from core import defaults

#: Never wait longer than this for a turn; Slack's own 429 handling covers the rest.
MAX_WAIT_SECONDS = 10.0
#: A turn this close is taken at once (Slack allows short bursts; a job is not deferred for a few ms).
NOW_TOLERANCE_MS = 50

# KEYS: the channel's next free slot, the channel's held slots (holder -> slot)
# ARGV: interval ms, holder ('' = none), tolerance ms
# Returns how many ms until the caller's turn; 0 = now (and a held slot is released).
_TAKE_TURN = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local holder = ARGV[2]
local slot = nil
if holder ~= '' then
  slot = tonumber(redis.call('HGET', KEYS[2], holder))
end
if not slot then
  local free = tonumber(redis.call('GET', KEYS[1]) or '0')
  slot = math.max(now, free)
  redis.call('SET', KEYS[1], slot + interval, 'PX', slot + interval - now + 1000)
end
local wait = slot - now
if wait <= tonumber(ARGV[3]) then
  if holder ~= '' then redis.call('HDEL', KEYS[2], holder) end
  return 0
end
if holder ~= '' then
  redis.call('HSET', KEYS[2], holder, slot)
  redis.call('PEXPIRE', KEYS[2], wait + 60000)
end
return wait
"""


class NotYourTurn(Exception):
    """The channel's next turn for this post is ``delay`` seconds away; post it then, do not sleep."""

    def __init__(self, channel: str, delay: float) -> None:
        super().__init__(f"the next turn to post in {channel} is in {delay:.2f} s")
        self.channel = channel
        self.delay = delay


def turn_delay(connection: redis.Redis, channel: str, *, holder: str = "", interval: float) -> float:
    """Take a turn on ``channel``'s line (or the one ``holder`` holds): seconds until it, 0 for now.

    A ``holder`` told to wait keeps the slot: asking again under the same name returns the same slot."""
    script: Any = connection.register_script(_TAKE_TURN)
    waited = script(
        keys=[f"baton:throttle:{channel}:next", f"baton:throttle:{channel}:held"],
        args=[int(interval * 1000), holder, NOW_TOLERANCE_MS],
    )
    return int(waited) / 1000


def take_turn(
    connection: redis.Redis | None,
    channel: str,
    *,
    holder: str,
    interval: float = defaults.CHANNEL_POST_INTERVAL_SECONDS,
) -> None:
    """Return when ``holder`` may post to ``channel`` now; raise :class:`NotYourTurn` when its turn is later."""
    if connection is None or not channel or interval <= 0:
        return
    try:
        delay = turn_delay(connection, channel, holder=holder, interval=interval)
    except redis.RedisError:
        return  # throttling is a courtesy; never block work on it
    if delay > 0:
        raise NotYourTurn(channel, delay)


def wait_turn(
    connection: redis.Redis | None, channel: str, *, interval: float = defaults.CHANNEL_POST_INTERVAL_SECONDS
) -> None:
    """Block until this worker may post to ``channel`` (no-op without Redis): for posts that cannot be deferred."""
    if connection is None or not channel or interval <= 0:
        return
    try:
        delay = turn_delay(connection, channel, interval=interval)
    except redis.RedisError:
        return
    time.sleep(min(delay, MAX_WAIT_SECONDS))
