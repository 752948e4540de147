"""Outbound deliveries to the bot (signed HTTP POSTs or Socket Mode envelopes) and the queue for echoes.

An :class:`Outgoing` is what Slack sends, independent of the transport: over HTTP it is a plain synchronous
``urllib`` POST signed like Slack signs it; over Socket Mode, an envelope of the same payload. The
workspace never delivers from inside a Web API request handler (the bot may be waiting on that very
request): anything a handler wants delivered, such as the echo of the bot's own post, goes on a
:class:`DeliveryQueue` served by one background thread.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote, urlencode

from localslack.payloads import to_json
from localslack.signing import FORM_CONTENT_TYPE, JSON_CONTENT_TYPE, signed_headers

logger = logging.getLogger(__name__)

#: Slack's own User-Agent on Events API and interactivity requests.
SLACK_USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"

# Loopback only: never route deliveries through a proxy taken from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True)
class DeliveryResponse:
    """The bot's answer to one delivery."""

    status: int
    body: str
    headers: dict[str, str]

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


@dataclass(frozen=True)
class Outgoing:
    """One delivery to the bot: its Socket Mode envelope type and the payload Slack sends.

    ``url_verification`` exists over HTTP only. ``retry_num`` marks an Events API retry
    (``X-Slack-Retry-Num`` over HTTP).
    """

    kind: Literal["events_api", "interactive", "slash_commands", "url_verification"]
    payload: dict[str, Any]
    retry_num: int | None = None
    retry_reason: str = "http_timeout"

    def http_body(self) -> tuple[str, str]:
        """``(body, content type)`` as Slack POSTs it: JSON events, ``payload=`` forms, command forms."""
        if self.kind == "interactive":
            return "payload=" + quote(to_json(self.payload)), FORM_CONTENT_TYPE
        if self.kind == "slash_commands":
            return urlencode([(key, str(value)) for key, value in self.payload.items()]), FORM_CONTENT_TYPE
        return to_json(self.payload), JSON_CONTENT_TYPE

    def http_headers(self) -> dict[str, str]:
        """Slack's retry headers, for a retried event."""
        if self.retry_num is None:
            return {}
        return {"X-Slack-Retry-Num": str(self.retry_num), "X-Slack-Retry-Reason": self.retry_reason}


@dataclass(frozen=True)
class Delivery:
    """A stored message and the deliveries it caused (none when the bot is not in the channel)."""

    ts: str
    channel: str
    responses: tuple[DeliveryResponse, ...] = ()
    events: tuple[dict[str, Any], ...] = field(default=())


def post_signed(url: str, body: str, *, signing_secret: str, content_type: str, timeout: float,
                extra_headers: dict[str, str] | None = None) -> DeliveryResponse:
    """POST ``body`` to ``url`` with Slack's signature headers; HTTP errors come back as responses."""
    raw = body.encode("utf-8")
    headers = signed_headers(signing_secret, raw, content_type=content_type)
    headers["User-Agent"] = SLACK_USER_AGENT
    headers.update(extra_headers or {})
    request = urllib.request.Request(url, data=raw, headers=headers, method="POST")
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            text = response.read().decode("utf-8", "replace")
            return DeliveryResponse(response.status, text, dict(response.headers.items()))
    except urllib.error.HTTPError as error:
        with error:
            text = error.read().decode("utf-8", "replace")
            return DeliveryResponse(error.code, text, dict(error.headers.items()))


class DeliveryQueue:
    """Runs queued jobs one at a time, in order, on a daemon thread."""

    def __init__(self, name: str = "local-slack-delivery") -> None:
        self._name = name
        self._jobs: deque[Callable[[], None]] = deque()
        self._cond = threading.Condition()
        self._busy = False
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the worker thread (once)."""
        with self._cond:
            if self._thread is not None:
                return
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()

    def put(self, job: Callable[[], None]) -> None:
        """Queue ``job``; it runs after every job queued before it."""
        with self._cond:
            self._jobs.append(job)
            self._cond.notify_all()

    def clear(self) -> None:
        """Drop queued jobs that have not started."""
        with self._cond:
            self._jobs.clear()
            self._cond.notify_all()

    def wait(self, timeout: float) -> bool:
        """Block until the queue is empty and idle; False if ``timeout`` seconds passed first."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._jobs and not self._busy, timeout)

    def stop(self, timeout: float = 5.0) -> None:
        """Drop pending jobs, let a running one finish, and end the thread."""
        with self._cond:
            thread, self._thread = self._thread, None
            self._stopping = True
            self._jobs.clear()
            self._cond.notify_all()
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._jobs or self._stopping)
                if self._stopping:
                    return
                job = self._jobs.popleft()
                self._busy = True
            try:
                job()
            except Exception:  # a failing delivery or callback must not stop later ones
                logger.exception("local Slack background delivery failed")
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
