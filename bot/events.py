"""Events API: record every delivery and message before the ack; turn mentions and DMs into requests."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.assistant_intake import EVENTS as ASSISTANT_EVENTS
from bot.assistant_intake import STARTED as ASSISTANT_THREAD_STARTED
from bot.assistant_intake import assistant_context, record_assistant_event
from bot.deps import AppDeps
from bot.spool import REPLAYING, STILL_DOWN
from core import correlation
from core.mentions import without_mention_of
from memory import intake, slack_events
from memory.db import AsyncConn, is_outage
from memory.workspace_purge import REMOVAL_EVENTS

log = logging.getLogger(__name__)

#: The answer to a delivery Baton could neither record nor spool: not a 2xx, so Slack redelivers it (up to three
#: times over about five minutes), and below 500, as every answer of Baton's is.
REDELIVER_STATUS = 429

#: Reactions still being added after their ack (kept referenced until done).
_BACKGROUND: set[asyncio.Task[None]] = set()

#: Message subtypes that are ordinary content to keep as thread context.
CONTENT_SUBTYPES = {None, "thread_broadcast", "file_share", "bot_message", "me_message"}


def register_events(app: AsyncApp, deps: AppDeps) -> None:
    @app.middleware
    async def record_inbound_event(
        body: dict[str, Any],
        request: Any,
        context: dict[str, Any],
        client: AsyncWebClient,
        next: Callable[[], Awaitable[None]],
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
        if body.get("event_id"):
            correlation.set_current(correlation.for_slack_event(str(body["event_id"])))
        try:
            async with deps.pool.connection() as conn:
                recorded = await _record(conn, body, retry_num=_retry_num(request.headers),
                                         bot_user_id=context.get("bot_user_id"))
        except Exception as err:
            if not is_outage(err):
                raise
            return await _keep_for_later(deps, body, context, client, retry_num=_retry_num(request.headers), error=err)
        if recorded is None:
            log.info("duplicate delivery of %s; already recorded", body.get("event_id"))
            return BoltResponse(status=200, body="")
        context["baton_event_pk"], request_id = recorded.event_pk, recorded.request_id
        context["baton_request_id"] = request_id
        if request_id is not None:
            # From here on (the listener, the enqueued jobs, their connector calls) this is the request's story.
            correlation.set_current(correlation.for_request(request_id))
            log.info("request %s recorded from event %s", request_id, body.get("event_id"))
        await next()
        return None

    @app.event("app_mention")
    async def on_mention(context: dict[str, Any], event: dict[str, Any], client: AsyncWebClient) -> None:
        await start_request(context, event, client, deps)

    @app.event("message")
    async def on_message(context: dict[str, Any], event: dict[str, Any], client: AsyncWebClient) -> None:
        await start_request(context, event, client, deps)

    @app.event("app_home_opened")
    async def on_home_opened(context: dict[str, Any], event: dict[str, Any]) -> None:
        if event.get("tab") == "home" and context.get("baton_event_pk"):
            await deps.enqueue("publish_home", context["baton_event_pk"])

    @app.event(re.compile(r".*"))
    async def on_any_other_event() -> None:
        return None  # recorded by the middleware; other event types get features later


async def _keep_for_later(
    deps: AppDeps,
    body: dict[str, Any],
    context: dict[str, Any],
    client: AsyncWebClient,
    *,
    retry_num: int,
    error: Exception,
) -> BoltResponse:
    """Postgres is unavailable: keep the delivery in the spool and ack it (``bot.spool``), or, when it cannot be
    kept either, refuse it so that Slack redelivers it (a status below 500 that is not 2xx)."""
    event_id = body.get("event_id")
    if context.get(REPLAYING):
        context[STILL_DOWN] = True  # the replay keeps the entry for its next round
        return BoltResponse(status=REDELIVER_STATUS, body="")
    if deps.spool is not None:
        try:
            await deps.spool.keep(body, retry_num=retry_num)
        except Exception as spool_error:
            log.warning("could not record event %s (Postgres: %s) nor spool it (%s); Slack will redeliver it",
                        event_id, error, spool_error)
            return BoltResponse(status=REDELIVER_STATUS, body="", headers={"Retry-After": "60"})
        log.warning("Postgres unavailable (%s): event %s kept in the spool until it is back", error, event_id)
        _show_kept(client, body, bot_user_id=context.get("bot_user_id"))
        return BoltResponse(status=200, body="")
    log.warning("could not record event %s (Postgres: %s); Slack will redeliver it", event_id, error)
    return BoltResponse(status=REDELIVER_STATUS, body="", headers={"Retry-After": "60"})


def _asks_baton(event: dict[str, Any]) -> bool:
    """A mention of Baton in a channel, or a message (or file) in its DM: a request, whoever sent it."""
    kind, subtype = event.get("type"), event.get("subtype")
    return (kind == "app_mention" and event.get("channel_type") != "im") or (
        kind == "message" and event.get("channel_type") == "im" and subtype in (None, "file_share")
    )


def _show_kept(client: AsyncWebClient, body: dict[str, Any], *, bot_user_id: str | None) -> None:
    """The :eyes: reaction on a spooled request, at once (after the ack), so its sender knows Baton has it; the
    replay's listener adds it again, which Slack refuses as already there."""
    event = _event(body)
    if not _asks_baton(event) or event.get("bot_id") or event.get("user") in (None, bot_user_id):
        return

    async def react() -> None:
        try:
            await client.reactions_add(channel=str(event.get("channel")), timestamp=str(event.get("ts")), name="eyes")
        except Exception as err:  # a missing reaction loses nothing: the request is in the spool
            log.info("could not add the 'eyes' reaction to a spooled request: %s", err)

    task = asyncio.get_running_loop().create_task(react())
    _BACKGROUND.add(task)  # the loop keeps only weak references to tasks
    task.add_done_callback(_BACKGROUND.discard)


def _event(body: dict[str, Any]) -> dict[str, Any]:
    event = body.get("event")
    return event if isinstance(event, dict) else {}


def _opens_home(body: dict[str, Any]) -> bool:
    """An ``app_home_opened`` of the Home tab: the job that publishes it settles the event."""
    event = _event(body)
    return event.get("type") == "app_home_opened" and event.get("tab") == "home"


def _settled_by_a_job(body: dict[str, Any]) -> bool:
    """Events whose job settles them: the Home tab (published) and a new assistant thread (greeted)."""
    return _opens_home(body) or _event(body).get("type") == ASSISTANT_THREAD_STARTED


def _outcome(body: dict[str, Any], request_id: int | None) -> str:
    """``done`` when recording it did Baton's part (a request, a message copy, an edit or a deletion), else
    ``ignored``."""
    event = _event(body)
    if event.get("type") in ASSISTANT_EVENTS:
        return "done"  # the thread and its channel context were stored with the event
    stored = event.get("type") == "message" and (
        event.get("subtype") in CONTENT_SUBTYPES or event.get("subtype") in ("message_changed", "message_deleted")
    )
    return "done" if request_id is not None or stored else "ignored"


async def _record(
    conn: AsyncConn, body: dict[str, Any], *, retry_num: int, bot_user_id: str | None
) -> intake.Recorded | None:
    """Record the delivery and what it means; None for a duplicate.

    Nearly every event (a mention, a DM, a channel message, anything Baton ignores) is recorded in one statement,
    one round trip before the ack (``intake.record_delivery``). Edits, deletions and files dropped in a thread
    take a transaction of several statements, as they need to read or change more.
    """
    event = _event(body)
    kind, subtype = event.get("type"), event.get("subtype")
    if _needs_reads(event):
        async with conn.transaction():
            event_pk = await slack_events.record_event(conn, body, retry_num=retry_num)
            if event_pk is None:
                return None
            request_id = await _apply(conn, body, bot_user_id=bot_user_id)
            if not _settled_by_a_job(body):
                await slack_events.settle_event(conn, event_pk, status=_outcome(body, request_id))
        return intake.Recorded(event_pk, request_id)
    team_id = _team(body)
    copy = event if kind == "message" and subtype in CONTENT_SUBTYPES else None
    request = _new_request(team_id, event, bot_user_id=bot_user_id) if _asks_baton(event) else None
    status = "done" if copy is not None or request is not None else "ignored"
    if _opens_home(body) or kind in REMOVAL_EVENTS:
        status = "received"  # the Home tab is published by a job, and an uninstall handled by one: it settles them
    return await intake.record_delivery(conn, slack_events.event_row(body, retry_num=retry_num), message=copy,
                                        request=request, status=status)


def _needs_reads(event: dict[str, Any]) -> bool:
    """Events whose recording reads or changes more than its own rows: an edit or a deletion, a file dropped in a
    thread, an assistant thread's events, and a DM in a thread (which may be an assistant thread)."""
    kind, subtype = event.get("type"), event.get("subtype")
    return (
        (kind == "message" and (subtype in ("message_changed", "message_deleted") or _maybe_upload(event)))
        or kind in ASSISTANT_EVENTS
        or (event.get("channel_type") == "im" and bool(event.get("thread_ts")) and _asks_baton(event))
    )


def _maybe_upload(event: dict[str, Any]) -> bool:
    """A file dropped in a thread: a request when Baton is in that thread (which takes a read to know)."""
    return event.get("subtype") == "file_share" and bool(_files(event)) and bool(event.get("thread_ts"))


def _team(body: dict[str, Any]) -> str:
    return str(body.get("team_id") or _event(body).get("team") or "")


def _new_request(team_id: str, event: dict[str, Any], *, bot_user_id: str | None, source: str | None = None,
                 context: dict[str, Any] | None = None) -> intake.NewRequest | None:
    """The request a mention, a DM or an upload makes; None when its sender is a bot (Baton included)."""
    if event.get("bot_id") or not event.get("user") or event.get("user") == bot_user_id:
        return None
    files = _files(event)
    return intake.NewRequest(
        team_id=team_id,
        # Slack delivers one message as app_mention and as message.*; channel+ts makes them one request.
        dedupe_key=f"msg:{event.get('channel')}:{event.get('ts')}",
        source=source or ("mention" if event.get("type") == "app_mention" else "dm"),
        channel_id=event.get("channel") or "",
        channel_type=event.get("channel_type") or ("im" if event.get("type") == "message" else "channel"),
        user_id=event["user"],
        text=without_mention_of(event.get("text") or "", bot_user_id),  # other mentions keep their meaning
        message_ts=event.get("ts"),
        thread_ts=event.get("thread_ts"),
        context={**({"files": files} if files else {}), **(context or {})} or None,
    )


async def _apply(conn: AsyncConn, body: dict[str, Any], *, bot_user_id: str | None) -> int | None:
    """Store/edit/delete the message copy; create a request for a mention or a DM. Returns the request id."""
    event = body.get("event") or {}
    team_id = body.get("team_id") or event.get("team") or ""
    kind, subtype = event.get("type"), event.get("subtype")
    if kind in ASSISTANT_EVENTS:
        await record_assistant_event(conn, team_id, event)
        return None
    if kind == "message":
        if subtype == "message_changed":
            await intake.edit_message(conn, team_id, event)
        elif subtype == "message_deleted":
            await intake.delete_message(conn, team_id, event)
        elif subtype in CONTENT_SUBTYPES:
            await intake.store_message(conn, team_id, event)
    is_request = _asks_baton(event)
    source = None
    if not is_request and _maybe_upload(event):
        # A file dropped in a thread Baton is in (e.g. under its notes) is for Baton, mention or not.
        is_request = await intake.baton_in_thread(conn, team_id, event.get("channel") or "", event["thread_ts"])
        source = "upload"
    if not is_request:
        return None
    thread = await assistant_context(conn, team_id, event)
    request = _new_request(team_id, event, bot_user_id=bot_user_id, source=source, context=thread)
    return None if request is None else await intake.insert_request(conn, request)


def _files(event: dict[str, Any]) -> list[dict[str, Any]]:
    """What Baton keeps of a message's files: ids and what Slack says they are (never the contents)."""
    keep = ("id", "name", "title", "mimetype", "filetype", "size")
    return [{k: f.get(k) for k in keep} for f in event.get("files") or [] if isinstance(f, dict) and f.get("id")]


async def start_request(context: dict[str, Any], event: dict[str, Any], client: AsyncWebClient, deps: AppDeps) -> None:
    """After the ack: queue planning and show the user at once that Baton is on it."""
    request_id = context.get("baton_request_id")
    if not request_id:
        return
    await deps.enqueue("plan_request", request_id)
    try:
        await client.reactions_add(channel=str(event.get("channel")), timestamp=str(event.get("ts")), name="eyes")
    except Exception as err:  # a missing reaction must never lose the request
        log.info("could not add the 'eyes' reaction: %s", err)


def _retry_num(headers: dict[str, Any]) -> int:
    values = headers.get("x-slack-retry-num") or []
    value = values[0] if isinstance(values, list) and values else values
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0

