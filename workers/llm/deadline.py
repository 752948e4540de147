"""A limit on the whole of one piece of model work (a request's planning): every attempt, retry, repair and
fallback model of it together, not each attempt alone.

The SDK's timeout and ``max_retries`` bound one attempt each, so a hung model costs their product (three
attempts of 30 s) before anyone hears back. A :class:`Deadline` rides on the SDK's HTTP client as two
event hooks, so the SDK keeps its own retries but

- each attempt's timeouts are cut to the time left, so the last attempt ends when the deadline does;
- an attempt about to start after the deadline is not sent: the hook raises ``APITimeoutError``, which the
  SDK passes on at once (it retries transport errors, not its own errors);
- an error answer whose ``Retry-After`` would outlast the deadline is marked ``x-should-retry: false``, so
  the SDK gives up at once instead of sleeping past it.

What is left over is at most one backoff sleep of the SDK before the attempt it then finds too late
(0.5-1 s with the default two retries). The clock is ``time.monotonic`` unless one is injected.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import openai

from workers.llm.guard import retry_after_seconds

#: The hooks' argument types are the SDK's HTTP library's Request and Response.
Hook = Callable[[Any], None]


class Deadline:
    """``seconds`` from now (on ``clock``), for one piece of model work; share it across that work's calls."""

    def __init__(self, seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._ends = clock() + seconds

    def remaining(self) -> float:
        """Seconds left, never below zero."""
        return max(0.0, self._ends - self._clock())

    @property
    def passed(self) -> bool:
        return self.remaining() <= 0.0

    @property
    def reason(self) -> str:
        """Why work stopped at the deadline, short enough for a Slack reply."""
        return f"the model API gave no usable answer within the {self.seconds:g}s limit"

    def event_hooks(self) -> dict[str, list[Hook]]:
        """The ``event_hooks`` for the SDK's HTTP client (see the module docstring)."""
        return {"request": [self._clip_attempt], "response": [self._no_retry_past_deadline]}

    def _clip_attempt(self, request: Any) -> None:
        left = self.remaining()
        if left <= 0.0:
            raise openai.APITimeoutError(request=request)
        timeouts = dict(request.extensions.get("timeout") or {})
        clipped = {part: left if limit is None else min(limit, left)
                   for part, limit in {"connect": None, "read": None, "write": None, "pool": None, **timeouts}.items()}
        request.extensions = {**request.extensions, "timeout": clipped}

    def _no_retry_past_deadline(self, response: Any) -> None:
        if response.status_code < 400:
            return
        wait = retry_after_seconds(response.headers)
        if wait is not None and wait >= self.remaining():
            response.headers["x-should-retry"] = "false"

