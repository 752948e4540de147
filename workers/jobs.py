"""Which job handles which kind of recorded event, on which queue, under which job id.

The job id is derived from the event row's id, so enqueueing the same event twice (a retry
after a Redis blip, the reconciler) never creates two jobs.
"""

from __future__ import annotations

import redis

from workers.mentions import answer_mention
from workers.queues import enqueue

_ROUTES = {
    "mention": ("plans", answer_mention),
}


def enqueue_for_event(connection: redis.Redis, kind: str, event_pk: int) -> None:
    """Enqueue the job for a recorded event of ``kind`` (e.g. ``"mention"``)."""
    try:
        queue, func = _ROUTES[kind]
    except KeyError:
        raise ValueError(f"no job handles events of kind {kind!r}") from None
    enqueue(connection, queue, func, event_pk, job_id=f"{kind}-{event_pk}")
