"""The slack-bolt ``AsyncApp``: verify -> record -> ack -> enqueue.

Bolt's built-in middleware verifies the signature (401 for forged or stale requests, before any
of our code runs) and answers ``url_verification``. ``bot.events`` records each Events API
delivery, the message copy and any request in Postgres before the ack; a redelivery of a known
``event_id`` or a second delivery of the same message is acknowledged and dropped there.
Listeners run after the ack (``process_before_response=False``) and only enqueue jobs carrying
ids: no LLM call and no slow Web API call happens before Slack gets its 200.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.actions import register_actions
from bot.commands import register_commands
from bot.deps import AppDeps, Enqueue
from bot.events import register_events
from bot.meeting_actions import register_meeting_actions
from bot.memory_actions import register_memory
from bot.shortcuts import register_shortcuts
from bot.views import register_views

log = logging.getLogger(__name__)


def build_bolt_app(*, signing_secret: str, client: AsyncWebClient, deps: AppDeps) -> AsyncApp:
    """The Slack app with Baton's middleware and listeners registered."""
    app = AsyncApp(
        signing_secret=signing_secret,
        client=client,
        process_before_response=False,
        # Baton's own posts are stored as thread context; events.py never turns them into requests.
        ignoring_self_events_enabled=False,
        raise_error_for_unhandled_request=False,
    )
    register_events(app, deps)
    register_commands(app, deps)
    register_shortcuts(app, deps)
    register_actions(app, deps)
    register_views(app, deps)
    register_memory(app, deps)
    register_meeting_actions(app, deps)
    return app


def redis_enqueuer(enqueue_sync: Callable[[str, int], None]) -> Enqueue:
    """Wrap a blocking enqueue so it runs off the event loop and never fails the request.

    If Redis is down, the request or plan stays recorded in Postgres and the reconciler enqueues
    it later: nothing is lost, and Slack still got its prompt 200.
    """

    async def enqueue(kind: str, ident: int) -> None:
        try:
            await asyncio.to_thread(enqueue_sync, kind, ident)
        except Exception:
            log.exception("could not enqueue %s %s; it stays recorded for the reconciler", kind, ident)

    return enqueue
