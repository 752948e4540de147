"""The slack-bolt ``AsyncApp``: verify -> record -> ack -> enqueue.

``bot.endpoint`` verifies the signature on the raw body (401 for forged or stale requests, before any
of our code runs) and hands bolt only a parsed, cleaned, well-shaped body (``bot.inbound``); bolt answers
``url_verification``. ``bot.events`` records each Events API
delivery, the message copy and any request in Postgres before the ack; a redelivery of a known
``event_id`` or a second delivery of the same message is acknowledged and dropped there.
Listeners run after the ack (``process_before_response=False``) and only enqueue jobs carrying
ids: no LLM call and no slow Web API call happens before Slack gets its 200.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.actions import register_actions
from bot.assistant import register_assistant
from bot.commands import register_commands
from bot.deps import AppDeps
from bot.endpoint import SlackEndpoint
from bot.events import register_events
from bot.fallbacks import register_fallbacks
from bot.meeting_actions import register_meeting_actions
from bot.memory_actions import register_memory
from bot.org_installs import register_org_installs
from bot.outage import answer_database_unavailable
from bot.shortcuts import register_shortcuts
from bot.step_decisions import register_step_decisions
from bot.uninstall import register_uninstall
from bot.views import register_views
from core import correlation
from memory.db import is_outage
from memory.metrics_sql import request_of_async
from slackui import meeting_views, plan_card

log = logging.getLogger(__name__)


def build_endpoint(*, signing_secret: str, client: AsyncWebClient, deps: AppDeps,
                   oauth_flow: AsyncOAuthFlow | None = None) -> SlackEndpoint:
    """The Slack HTTP endpoint: the signature check and body reading in front of the bolt app."""
    return SlackEndpoint(build_bolt_app(client=client, deps=deps, oauth_flow=oauth_flow),
                         signing_secret=signing_secret)


def build_bolt_app(*, client: AsyncWebClient, deps: AppDeps, oauth_flow: AsyncOAuthFlow | None = None) -> AsyncApp:
    """The Slack app with Baton's middleware and listeners registered.

    With ``oauth_flow`` (multi-workspace mode, ``bot.install``) bolt authorizes each request with the token
    installed for its team; without, ``client`` carries the one bot token.
    It checks no signature: serve it only through :func:`build_endpoint`, which does.
    """
    app = AsyncApp(
        client=client,
        oauth_flow=oauth_flow,
        process_before_response=False,
        # Verified (and the body cleaned) by bot.endpoint; bolt's own check would log whole bodies it refuses.
        request_verification_enabled=False,
        # Baton's own posts are stored as thread context; events.py never turns them into requests.
        ignoring_self_events_enabled=False,
        raise_error_for_unhandled_request=False,
    )
    app.error(log_listener_error)
    register_correlation(app, deps)
    if oauth_flow is not None:
        register_org_installs(app, deps)  # before the recording middleware: a job may run as soon as it is recorded
    register_uninstall(app, deps)  # before register_events: its catch-all takes whatever event is left
    register_events(app, deps)  # sets the correlation id of Events API deliveries once recorded
    register_assistant(app, deps)  # after the recording middleware: bolt's Assistant routes thread events
    register_commands(app, deps)
    register_shortcuts(app, deps)
    register_actions(app, deps)
    register_step_decisions(app, deps)
    register_views(app, deps)
    register_memory(app, deps)
    register_meeting_actions(app, deps)
    register_fallbacks(app)  # last: bolt tries listeners in order, these match whatever is left
    return app


async def log_listener_error(
    error: Exception,
    body: dict[str, Any],
    client: AsyncWebClient,
    respond: AsyncRespond | None = None,
    response: BoltResponse | None = None,
) -> BoltResponse | None:
    """Bolt's error handler: one line with the exception and the request's ids, never its body. A listener that
    found the database unavailable decided nothing; its person is told to try again (``bot.outage``), and a
    request not acked yet (a command, a shortcut) gets its 200 with that answer rather than an error."""
    if is_outage(error):
        return await answer_database_unavailable(client, body, respond, acked=response is None)
    ids = " ".join(
        f"{key}={str(body[key])[:40]}" for key in ("type", "command", "event_id", "trigger_id") if body.get(key)
    )
    log.error("a Slack listener failed (%s): %s", ids or "no ids", type(error).__name__, exc_info=error)
    return None


def register_correlation(app: AsyncApp, deps: AppDeps) -> None:
    """A global middleware giving clicks on a plan or meeting card the ``req-<id>`` of the request behind it,
    so the web lines, the jobs it enqueues and their connector calls share the request's correlation id."""

    @app.middleware
    async def correlate(body: dict[str, Any], next: Callable[[], Awaitable[None]]) -> None:
        ref = _card_ref(body)
        if ref is not None:
            correlation.set_current(await _request_correlation(deps, *ref))
        await next()


#: Card buttons whose value names a plan or a meeting (``meeting:item`` for the item buttons).
_PLAN_ACTIONS = frozenset({plan_card.APPROVE, plan_card.REJECT, plan_card.REVIEW})
_MEETING_ACTIONS = frozenset({meeting_views.CREATE_FOLLOWUPS, meeting_views.ITEM_DONE, meeting_views.ITEM_SNOOZE})
_PLAN_VIEWS = frozenset({plan_card.REJECT_MODAL, plan_card.REVIEW_MODAL})


def _card_ref(body: dict[str, Any]) -> tuple[str, int] | None:
    """``("plan", id)`` or ``("meeting", id)`` for a click or modal about one, else None."""
    if body.get("type") == "view_submission":
        view = body.get("view") or {}
        metadata = str(view.get("private_metadata") or "")
        return ("plan", int(metadata)) if view.get("callback_id") in _PLAN_VIEWS and metadata.isdigit() else None
    if body.get("type") != "block_actions":
        return None
    for action in body.get("actions") or []:
        value = str(action.get("value") or "").split(":", 1)[0]
        if value.isdigit() and action.get("action_id") in _PLAN_ACTIONS:
            return ("plan", int(value))
        if value.isdigit() and action.get("action_id") in _MEETING_ACTIONS:
            return ("meeting", int(value))
    return None


async def _request_correlation(deps: AppDeps, kind: str, ident: int) -> str | None:
    """``req-<id>`` of the plan's or meeting's request; ``plan-<id>`` (or nothing) when it cannot be read."""
    try:
        async with deps.pool.connection() as conn:
            request_id = await request_of_async(conn, **{kind: ident})
    except Exception as err:  # the listener reports a database problem to the user; the id is a nicety
        log.info("could not look up the request of %s %s: %s", kind, ident, err)
        request_id = None
    if request_id is not None:
        return correlation.for_request(request_id)
    return correlation.for_plan(ident) if kind == "plan" else None
