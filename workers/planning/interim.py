"""The one "still working" message of a request whose planning is slow, and its removal once the card or the
answer is there.

Why a timer thread in the job itself: the job is the only place that knows, without a round trip, whether
planning has ended, and it is where the card and refusals are posted, so the message can be removed in the
same breath. A scheduled job or the reconciler would need a Redis or Postgres handshake to learn that the
plan was posted, and could still post "still working" just after the card. Here one lock orders the two:
the timer posts only while planning is unfinished, and :meth:`InterimNotice.close` (waiting for a post in
progress) removes what it posted. The thread is a daemon, and a work horse that dies takes it along.

The message is keyed like every Baton post (``planning-interim:<request id>``, :func:`post_once`), so a
redelivered job finds the first instead of posting a second. When its channel's turn is later
(:class:`workers.throttle.NotYourTurn`), the timer is armed again for the turn rather than sleeping with the
lock that :meth:`InterimNotice.close` takes. A run that resumes a request removes a message an earlier run left
behind (:func:`remove_leftover`): one that found the request planned already, and one that plans it again after
an earlier run was killed or cut short by an outage (``earlier_run``: the request had a planning job before, so
that run's message may be up while this one is too fast to post its own). A job that fails keeps it: the request
is still being worked on (the reconciler retries it).
"""

from __future__ import annotations

import contextvars
import logging
import threading
from types import TracebackType

from connectors.slack_errors import describe_error
from connectors.slack_once import find_keyed_message, post_once
from memory.requests import RequestRecord
from slackui import replies
from workers.job_context import WorkerContext
from workers.throttle import NotYourTurn, take_turn

log = logging.getLogger(__name__)


def interim_key(request_id: int) -> str:
    """The idempotency key of request ``request_id``'s "still working" message."""
    return f"planning-interim:{request_id}"


class InterimNotice:
    """Posts :func:`slackui.replies.planning_slow` in the request's thread ``after`` seconds unless closed first;
    closing removes it. Use as a context manager around the planning."""

    def __init__(self, ctx: WorkerContext, record: RequestRecord, *, after: float, earlier_run: bool = False) -> None:
        self.ctx = ctx
        self.record = record
        self.earlier_run = earlier_run
        self._lock = threading.Lock()
        self._closed = False
        self._ts: str | None = None
        self._timer = self._arm(after)

    def _arm(self, after: float) -> threading.Timer:
        # The copied context carries the job's correlation id into the timer's log lines.
        timer = threading.Timer(after, contextvars.copy_context().run, args=(self._post,))
        timer.daemon = True
        timer.name = f"interim-{self.record.id}"
        return timer

    def __enter__(self) -> InterimNotice:
        self._timer.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close(remove=exc_type is None)

    def close(self, *, remove: bool = True) -> None:
        """Planning is over: no message from now on, and the one posted (if any) is deleted when ``remove``."""
        self._timer.cancel()
        with self._lock:
            self._closed, ts = True, self._ts
        if not remove:
            return
        if ts is not None:
            _delete(self.ctx, self.record.channel_id, ts)
        elif self.earlier_run:
            remove_leftover(self.ctx, self.record)

    def _post(self) -> None:
        record = self.record
        with self._lock:
            if self._closed:
                return
            try:
                posted = post_once(
                    self.ctx.slack,
                    channel=record.channel_id,
                    key=interim_key(record.id),
                    doing="looking for the still-working message",
                    thread_ts=record.origin.thread_ts,
                    before_post=lambda: take_turn(self.ctx.redis, record.channel_id, holder=interim_key(record.id),
                                                  interval=self.ctx.post_interval),
                    text=replies.planning_slow(model=self.ctx.settings.chat_model,
                                               deadline_seconds=self.ctx.settings.planning_deadline_seconds),
                )
            except NotYourTurn as turn:
                # The channel's turn is later: try again then (the place in line is held), never asleep holding the
                # lock that the job's close() waits for.
                self._timer = self._arm(turn.delay)
                self._timer.start()
                return
            except Exception as err:  # a word of comfort that cannot be posted must not stop the planning
                log.warning("could not post the still-working message of request %s: %s", record.id,
                            describe_error(err))
                return
            self._ts = posted.ts
            log.info("request %s is slow to plan; told its thread", record.id)


def remove_leftover(ctx: WorkerContext, record: RequestRecord) -> None:
    """Delete a "still working" message an earlier run of this request posted and could not remove."""
    try:
        found = find_keyed_message(ctx.slack, record.channel_id, record.origin.thread_ts, interim_key(record.id),
                                   doing="looking for a leftover still-working message")
    except Exception as err:  # best effort: the card is what matters
        log.warning("could not look for a leftover still-working message: %s", describe_error(err))
        return
    if found is not None:
        _delete(ctx, record.channel_id, str(found["ts"]))


def _delete(ctx: WorkerContext, channel: str, ts: str) -> None:
    try:
        ctx.slack.chat_delete(channel=channel, ts=ts)
    except Exception as err:  # a stale "still working" is untidy, not harmful
        log.warning("could not remove the still-working message %s: %s", ts, describe_error(err))
