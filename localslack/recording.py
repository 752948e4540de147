"""What the local workspace remembers about Web API traffic: recorded calls and scripted failures."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class RecordedCall:
    """One Web API request the workspace answered, with what it answered.

    ``params`` merges the query string and the JSON or form body; JSON-in-form fields (``blocks``,
    ``attachments``, ``view``, ``metadata``) are already parsed. ``connection`` names the client's TCP
    connection (its address and port), so a test can see whether a client reuses its connections.
    """

    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    status: int
    response: dict[str, Any]
    connection: str = ""


@dataclass(frozen=True)
class Injection:
    """A scripted answer for the next ``times`` calls of ``method``.

    ``status=429`` answers ``ratelimited`` with a ``Retry-After`` header; any other ``status`` answers that
    HTTP status; ``error`` answers HTTP 200 ``{"ok": false, "error": error}``; ``delay`` waits that many
    seconds first and, alone, then answers normally.
    """

    method: str
    status: int | None = None
    error: str | None = None
    retry_after: float | None = None
    delay: float | None = None
    times: int = 1

    @property
    def replaces_reply(self) -> bool:
        """True when the scripted answer replaces the method's normal reply (not just a delay)."""
        return self.status is not None or self.error is not None

    def reply(self) -> tuple[int, dict[str, Any], dict[str, str]]:
        """(HTTP status, JSON body, extra headers) of the scripted answer."""
        status = self.status if self.status is not None else 200
        headers: dict[str, str] = {}
        if status == 429 or self.retry_after is not None:
            headers["Retry-After"] = str(int(self.retry_after) if self.retry_after is not None else 1)
        default = "internal_error" if status >= 500 else "invalid_request"
        if status == 429:
            default = "ratelimited"
        return status, {"ok": False, "error": self.error or default}, headers


@dataclass
class Injections:
    """Pending injections per method, used first-in first-out. Thread-safe."""

    _pending: dict[str, deque[Injection]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, injection: Injection) -> None:
        """Queue ``injection`` behind any already pending for its method."""
        if injection.times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._pending.setdefault(injection.method, deque()).append(injection)

    def take(self, method: str) -> Injection | None:
        """Use up one answer of the oldest injection for ``method``, or return None."""
        with self._lock:
            queue = self._pending.get(method)
            if not queue:
                return None
            current = queue[0]
            if current.times > 1:
                queue[0] = replace(current, times=current.times - 1)
            else:
                queue.popleft()
            return current

    def clear(self) -> None:
        """Forget every pending injection."""
        with self._lock:
            self._pending.clear()
