"""``POST /slack/events`` as Baton answers it: signature, then the body, then bolt; never a 5xx.

1. The signature is checked on the raw bytes before anything is parsed (``bot.signature``): a request
   that is not Slack's gets 401, and the log says why, its size and a hash, never its content.
2. The body is parsed, cleaned and checked (``bot.inbound``): malformed gets 400 and one line at WARNING
   without a traceback; well-formed but nothing Baton handles gets a 200 ack.
3. Bolt dispatches the cleaned body to the listeners (its own signature check is off: it would see the
   re-encoded body, and it logs the whole body of a request that fails). A listener that raises before it
   acks, or any error escaping bolt, is logged once, with the exception but not the body, and answered
   200 when the event or request was already recorded (Slack must not redeliver it) or 400 otherwise.

Socket Mode envelopes skip step 1 (Baton opened the websocket itself) and take steps 2 and 3 through
:meth:`SlackEndpoint.dispatch` (see ``bot.socket_mode``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.inbound import Inbound, Refused, read_body
from bot.signature import signature_problem

log = logging.getLogger(__name__)


class SlackEndpoint:
    """The Slack HTTP endpoint around a bolt app whose listeners are registered (see ``bot.app``)."""

    def __init__(self, app: AsyncApp, *, signing_secret: str, clock: Callable[[], float] = time.time) -> None:
        self._app = app
        self._signing_secret = signing_secret
        self._clock = clock

    @property
    def app(self) -> AsyncApp:
        """The bolt app behind the endpoint (the spool replays kept events through it, unsigned)."""
        return self._app

    async def handle(self, raw: bytes, *, headers: Mapping[str, str], content_type: str,
                     query: str = "") -> BoltResponse:
        """Answer one request; ``headers`` is case-insensitive (aiohttp's), ``content_type`` without parameters."""
        problem = signature_problem(signing_secret=self._signing_secret, body=raw, headers=headers, now=self._clock())
        if problem is not None:
            log.info("refused a Slack request: %s (%s)", problem, fingerprint(raw))
            return BoltResponse(status=401, body="")
        try:
            inbound = read_body(raw, content_type=content_type)
        except Refused as refused:
            log_refused(refused, fingerprint(raw))
            return BoltResponse(status=refused.status, body="")
        return await self.dispatch(inbound, about=fingerprint(raw), query=query, headers=_bolt_headers(headers))

    async def dispatch(self, inbound: Inbound, *, about: str, query: str = "",
                       headers: dict[str, str | Sequence[str]] | None = None,
                       mode: Literal["http", "socket_mode"] = "http") -> BoltResponse:
        """Hand a cleaned, checked body to bolt and answer as step 3 says (HTTP, or a Socket Mode envelope).

        ``about`` says in a log line which request this was (a fingerprint, never the content).
        """
        request: AsyncBoltRequest | None = None
        try:
            # Bolt parses an HTTP body itself; a Socket Mode request carries the parsed payload.
            body: str | dict[str, Any] = json.dumps(inbound.body) if mode == "http" else inbound.body
            request = AsyncBoltRequest(body=body, query=query, headers=headers, mode=mode)
            response = await self._app.async_dispatch(request)
        except Exception:
            log.exception("a Slack %s request failed in bolt (%s)", inbound.kind, about)
            return _after_error(request)
        if response.status >= 500:  # a listener raised before its ack; bolt's error handler logged it
            return _after_error(request)
        if response.status == 404:  # no listener and no middleware answered (bot.fallbacks should)
            log.info("acknowledged a Slack %s request no listener handled (%s)", inbound.kind, about)
            return BoltResponse(status=200, body="")
        return response


def log_refused(refused: Refused, about: str) -> None:
    """One line for a body that went no further: INFO when acknowledged, WARNING when malformed."""
    level, verdict = (logging.INFO, "acknowledged, not handled") if refused.status < 400 else (
        logging.WARNING, "refused as malformed")
    log.log(level, "Slack request %s: %s (%s)", verdict, refused.reason, about)


def fingerprint(raw: bytes) -> str:
    """What the log may say about a body: its size and the start of its SHA-256."""
    return f"{len(raw)} bytes, sha256 {hashlib.sha256(raw).hexdigest()[:16]}"


def _bolt_headers(headers: Mapping[str, str]) -> dict[str, str | Sequence[str]]:
    grouped: dict[str, list[str]] = {}
    for name, value in headers.items():
        grouped.setdefault(name.lower(), []).append(value)
    grouped["content-type"] = ["application/json"]  # the cleaned body goes on as JSON, whatever it came as
    return {name: values for name, values in grouped.items()}


def _after_error(request: AsyncBoltRequest | None) -> BoltResponse:
    """200 if the listeners already recorded the event or request (a redelivery would find it), else 400."""
    context = request.context if request is not None else {}
    recorded = context.get("baton_event_pk") is not None or context.get("baton_request_id") is not None
    return BoltResponse(status=200 if recorded else 400, body="")
