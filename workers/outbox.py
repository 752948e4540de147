"""Slack replies that never put a worker to sleep on the per-channel pace: the outbox (``memory.outbox``).

A job that replies (a refusal, a notice, a result line) queues the post as a keyed row and drains its thread at
once (:func:`send_post`): the thread's pending posts, oldest first, are each posted when it is the channel's turn
(:func:`workers.throttle.take_turn`, the turn held under the post's key). The first whose turn is later keeps
its row, gets ``due_at`` = its turn and a :func:`post_outbox` job enqueued for then, and the job that queued it
moves on. So a busy channel costs its posts time, never a worker's.

- **Order**: one drainer per thread at a time (an advisory lock; a job that finds it taken comes back in a
  second), and a post is tried only when every older post of its thread is done, so two replies in one thread
  appear in the order they were made. Only the thread's first pending post holds a turn; a later one takes its
  turn once the posts before it are out.
- **Exactly once**: each post goes through :func:`connectors.slack_once.post_once` under the row's key; a try
  is counted before the post, so the next try (a rerun, a second job, the recovery pass after a killed
  worker) looks for the message in Slack first. A rerun of the job that queued it finds its row by the key.
- **Nothing lost**: a transient Slack error (429, 5xx, timeouts) puts the post off (15, 30, … 300 s); a
  permanent one marks it failed (logged) and the thread goes on. The recovery pass re-drives a thread whose
  first pending post is overdue (:func:`memory.outbox.overdue_threads`): its job was lost with Redis, or its
  worker died. A post still not out after ``OUTBOX_RETRY_HORIZON_SECONDS`` is given up.
"""

from __future__ import annotations

import logging
import zlib
from datetime import timedelta
from typing import Any

from slack_sdk.errors import SlackClientError

from connectors.base import ConnectorError, RetryableError
from connectors.slack_errors import slack_error
from connectors.slack_once import post_once
from core import defaults
from memory import locks, outbox
from memory.db import Conn
from memory.outbox import OutboxPost
from slackui.limits import MESSAGE_TEXT, clip
from workers.api import enqueue_job
from workers.job_context import WorkerContext, current
from workers.parking import park_delay
from workers.throttle import NOW_TOLERANCE_MS, NotYourTurn, take_turn

log = logging.getLogger(__name__)

#: Seconds after which a job that found another draining its thread comes back (RQ's scheduler rounds up to 1 s).
BUSY_RETRY_SECONDS = 1.0


def send_post(
    ctx: WorkerContext,
    *,
    team_id: str,
    channel: str,
    thread_ts: str | None,
    key: str,
    text: str,
    blocks: list[dict[str, Any]] | None = None,
) -> str:
    """Queue ``text`` (and ``blocks``) for ``channel`` (in ``thread_ts``) under ``key`` and post what of its thread
    is due now.

    Returns what the drain did (:func:`drain`); the post itself is in Slack now or at its turn, exactly once."""
    with ctx.db() as conn:
        outbox.add(
            conn,
            team_id=team_id,
            channel_id=channel,
            thread_ts=thread_ts,
            key=key,
            text=text,
            blocks=blocks,
            now=ctx.now(),
        )
        return drain(ctx, conn, channel=channel, thread_ts=thread_ts)


def post_outbox(post_id: int) -> str:
    """The job: post outbox row ``post_id`` (and whatever of its thread is due with it) at its turn."""
    ctx = current()
    with ctx.db() as conn:
        post = outbox.load(conn, post_id)
        if post is None:
            return "skipped"
        return drain(ctx, conn, channel=post.channel_id, thread_ts=post.thread_ts)


def drain(ctx: WorkerContext, conn: Conn, *, channel: str, thread_ts: str | None) -> str:
    """Post this thread's pending posts in order while it is the channel's turn. Returns ``"done"`` (none left),
    ``"waiting"`` (the next is due later and has its job), ``"deferred"`` (the next was just given its turn),
    ``"retrying"`` (Slack refused it for now) or ``"busy"`` (another job is draining the thread)."""
    ident = zlib.crc32(f"{channel}\0{thread_ts or ''}".encode())
    with locks.try_advisory_lock(conn, locks.OUTBOX_THREAD, ident) as mine:
        if not mine:
            head = outbox.first_pending(conn, channel_id=channel, thread_ts=thread_ts)
            if head is not None and ctx.redis is not None:
                enqueue_job(ctx.redis, "post_outbox", head.id, delay=BUSY_RETRY_SECONDS)
            return "busy"
        while (post := outbox.first_pending(conn, channel_id=channel, thread_ts=thread_ts)) is not None:
            now = ctx.now()
            if post.due_at > now + timedelta(milliseconds=NOW_TOLERANCE_MS):
                return "waiting"  # its turn (or next try) is later: the job enqueued for then posts it
            if post.created_at < now - timedelta(seconds=defaults.OUTBOX_RETRY_HORIZON_SECONDS):
                log.warning(
                    "gave up the post %s to %s: not out after %s s",
                    post.key,
                    channel,
                    defaults.OUTBOX_RETRY_HORIZON_SECONDS,
                )
                outbox.mark_failed(conn, post.id, error="past the retry horizon", now=now)
                continue
            try:
                take_turn(ctx.redis, channel, holder=post.key, interval=ctx.post_interval)
            except NotYourTurn as turn:
                _put_off(ctx, conn, post, turn.delay)
                return "deferred"
            if not _post(ctx, conn, post):
                return "retrying"
        return "done"


def _post(ctx: WorkerContext, conn: Conn, post: OutboxPost) -> bool:
    """Post ``post`` now (or find it posted); False when Slack refused it for now and it was put off."""
    outbox.count_attempt(conn, post.id)
    doing = "posting a reply"
    message: dict[str, Any] = {"text": clip(post.text, MESSAGE_TEXT)}
    if post.blocks is not None:
        message["blocks"] = post.blocks
    try:
        posted = post_once(
            ctx.slack,
            channel=post.channel_id,
            key=post.key,
            doing="looking for a reply",
            look_first=post.attempts > 0,  # a try before this one may have landed
            thread_ts=post.thread_ts,
            **message,
        )
    except (ConnectorError, SlackClientError, OSError) as err:
        mapped = err if isinstance(err, ConnectorError) else slack_error(err, doing=doing)
        if isinstance(mapped, RetryableError):
            delay = park_delay(post.attempts + 1, retry_after=mapped.retry_after)
            log.warning("the post %s to %s waits %.0f s: %s", post.key, post.channel_id, delay, mapped)
            _put_off(ctx, conn, post, delay)
            return False
        log.warning("could not reply in %s: %s", post.channel_id, mapped)
        outbox.mark_failed(conn, post.id, error=str(mapped), now=ctx.now())
        return True
    outbox.mark_posted(conn, post.id, ts=posted.ts, now=ctx.now())
    return True


def _put_off(ctx: WorkerContext, conn: Conn, post: OutboxPost, delay: float) -> None:
    """Make ``post`` due in ``delay`` seconds, with a job for then (without Redis, the recovery pass posts it)."""
    outbox.set_due(conn, post.id, due_at=ctx.now() + timedelta(seconds=delay))
    if ctx.redis is not None:
        enqueue_job(ctx.redis, "post_outbox", post.id, delay=delay)
