"""The slack-bolt ``AsyncApp``: verify -> record -> ack -> enqueue.

Bolt's built-in middleware verifies the signature (401 for forged or stale requests, before any
of our code runs) and answers ``url_verification``. Our one global middleware then records each
Events API delivery in Postgres; a redelivery of a known ``event_id`` is acknowledged and dropped
there. Listeners run after the ack (``process_before_response=False``) and only enqueue jobs
carrying ids: no LLM or Web API call happens before Slack gets its 200.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from psycopg_pool import AsyncConnectionPool
from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from memory import events

log = logging.getLogger(__name__)

#: ``enqueue(kind, event_pk)``: hands a recorded event to the workers. Injected so the web process
#: and tests decide how jobs reach Redis.
Enqueue = Callable[[str, int], Awaitable[None]]


def build_bolt_app(
    *,
    signing_secret: str,
    client: AsyncWebClient,
    pool: AsyncConnectionPool,
    enqueue: Enqueue,
) -> AsyncApp:
    """The Slack app with Baton's middleware and listeners registered."""
    app = AsyncApp(
        signing_secret=signing_secret,
        client=client,
        process_before_response=False,
        # Unhandled event types must still get a 200, or Slack retries them and finally disables the app.
        raise_error_for_unhandled_request=False,
    )

    @app.middleware
    async def record_inbound_event(
        body: dict[str, Any], request: Any, context: dict[str, Any], next: Callable[[], Awaitable[None]]
    ) -> BoltResponse | None:
        if body.get("type") == "app_rate_limited":
            # Slack is dropping our events for a minute (30,000/hour/workspace); nothing to act on.
            log.warning(
                "Slack rate-limited event delivery for team %s (minute %s)",
                body.get("team_id"),
                body.get("minute_rate_limited"),
            )
            return BoltResponse(status=200, body="")
        if body.get("type") != "event_callback":
            await next()
            return None
        retry_num = _retry_num(request.headers)
        async with pool.connection() as conn:
            event_pk = await events.record_event(conn, body, retry_num=retry_num)
        if event_pk is None:
            log.info("duplicate delivery of %s (retry %s); already recorded", body.get("event_id"), retry_num)
            return BoltResponse(status=200, body="")
        context["baton_event_pk"] = event_pk
        await next()
        return None

    @app.event("app_mention")
    async def on_mention(context: dict[str, Any]) -> None:
        await enqueue("mention", context["baton_event_pk"])

    @app.event(re.compile(r".*"))
    async def on_any_other_event() -> None:
        # Recorded by the middleware; acting on other event types comes with their features.
        return None

    return app


def _retry_num(headers: dict[str, Any]) -> int:
    values = headers.get("x-slack-retry-num") or []
    value = values[0] if isinstance(values, list) and values else values
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def redis_enqueuer(enqueue_sync: Callable[[str, int], None]) -> Enqueue:
    """Wrap a blocking enqueue so it runs off the event loop and never fails the request.

    If Redis is down, the event stays ``received`` in Postgres and the reconciler enqueues it later;
    the request is not lost and Slack still gets its prompt 200.
    """

    async def enqueue(kind: str, event_pk: int) -> None:
        try:
            await asyncio.to_thread(enqueue_sync, kind, event_pk)
        except Exception:
            log.exception(
                "could not enqueue %s for event %s; it stays recorded for the reconciler", kind, event_pk
            )

    return enqueue
