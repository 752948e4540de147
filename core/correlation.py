"""The correlation id: one string that ties a request's whole story together across processes.

Every log line carries it (``baton.logs`` reads :func:`get`), every job carries it in ``job.meta``
(``workers.api.enqueue``), and the worker puts it back before the job runs
(``workers.rq_worker``), so one grep finds the Slack handler, the jobs and each connector call.

Formats, from the most to the least specific:

- ``req-<request id>``: everything that serves a request: the mention, DM, command or upload, its
  plan, the plan's execution, and the follow-ups of a meeting made from it;
- ``plan-<plan id>``: a plan whose request is not known (yet);
- ``digest-<run id>``: one digest run;
- ``slack-<event id>``: an Events API delivery before (or without) a request.

Pure standard library: a :class:`contextvars.ContextVar`, so asyncio tasks and ``asyncio.to_thread``
inherit it and concurrent requests never see each other's.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Sequence
from typing import Any

_CURRENT: contextvars.ContextVar[str | None] = contextvars.ContextVar("baton_correlation_id", default=None)

#: Job functions whose first argument names the thing they serve, and the id format it makes.
_JOB_PREFIXES = {"plan_request": "req", "execute_plan": "plan", "send_digest": "digest"}
#: Prefixes a job's own argument settles for good: nothing known at enqueue time is more specific.
_DEFINITIVE = ("req-", "digest-")


def get() -> str | None:
    """The correlation id of the current context, or None."""
    return _CURRENT.get()


def set_current(value: str | None) -> contextvars.Token[str | None]:
    """Set the id for the rest of the current context (a task, a thread, a job); returns a reset token."""
    return _CURRENT.set(value)


def reset(token: contextvars.Token[str | None]) -> None:
    """Undo a :func:`set_current`."""
    _CURRENT.reset(token)


@contextlib.contextmanager
def bind(value: str | None) -> Iterator[str | None]:
    """Use ``value`` as the id inside the ``with`` block, then restore the previous one."""
    token = _CURRENT.set(value)
    try:
        yield value
    finally:
        _CURRENT.reset(token)


def for_request(request_id: int | str) -> str:
    """``req-<id>``."""
    return f"req-{request_id}"


def for_plan(plan_id: int | str) -> str:
    """``plan-<id>``: only when the plan's request is not known."""
    return f"plan-{plan_id}"


def for_digest(run_id: int | str) -> str:
    """``digest-<run id>``."""
    return f"digest-{run_id}"


def for_slack_event(event_id: str) -> str:
    """``slack-<event_id>``: an Events API delivery before a request exists."""
    return f"slack-{event_id}"


def is_request(value: str | None) -> bool:
    """True for a ``req-<id>`` id (nothing more specific exists)."""
    return bool(value and value.startswith("req-"))


def from_job(func_name: str, args: Sequence[Any]) -> str | None:
    """The id a job's own arguments imply: ``plan_request(7)`` -> ``req-7``, ``execute_plan(3)`` -> ``plan-3``,
    ``send_digest(5)`` -> ``digest-5``; None for other jobs. ``func_name`` may be dotted."""
    prefix = _JOB_PREFIXES.get(func_name.rsplit(".", 1)[-1])
    if prefix is None or not args:
        return None
    return f"{prefix}-{args[0]}"


def for_enqueue(current: str | None, implied: str | None) -> str | None:
    """The id to store with a job: the job's own ``req-``/``digest-`` id wins (a reconciler pass or a
    command re-enqueueing someone else's work must not lend it its id); otherwise the current id,
    unless that is only a ``slack-`` delivery id and the job implies something better."""
    if implied and implied.startswith(_DEFINITIVE):
        return implied
    if current and not (current.startswith("slack-") and implied):
        return current
    return implied or current
