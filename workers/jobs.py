"""Which job handles which kind of work, on which queue, under which job id.

The job id is derived from the row's id, so enqueueing the same request or plan twice (a retry
after a Redis blip, a replayed click) does not create two jobs; the reconciler adds a suffix when
it deliberately re-enqueues.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import redis

from workers.queues import enqueue


def _routes() -> dict[str, tuple[str, Callable[..., Any]]]:
    from workers.digest_sender import send_digest
    from workers.execute import execute_plan
    from workers.home import publish_home
    from workers.meetings.followups import send_followup
    from workers.meetings.refresh import refresh_meeting
    from workers.planning.request import plan_request

    return {
        "plan_request": ("plans", plan_request),
        "execute_plan": ("actions", execute_plan),
        "send_followup": ("actions", send_followup),
        "refresh_meeting": ("default", refresh_meeting),
        "send_digest": ("default", send_digest),
        "publish_home": ("default", publish_home),
    }


#: Jobs that may rightly run again for the same row (each change re-renders): a fresh id every time.
_REPEATABLE = frozenset({"refresh_meeting", "publish_home"})


def enqueue_job(connection: redis.Redis, kind: str, ident: int, *, suffix: str = "") -> None:
    """Enqueue the job for ``kind`` (``plan_request``, ``execute_plan``, ``send_followup``, ``refresh_meeting``,
    ``send_digest``, ``publish_home``) on row ``ident``."""
    try:
        queue, func = _routes()[kind]
    except KeyError:
        raise ValueError(f"no job handles {kind!r}") from None
    if kind in _REPEATABLE and not suffix:
        suffix = f"-{time.time_ns()}"
    enqueue(connection, queue, func, ident, job_id=f"{kind}-{ident}{suffix}")
