"""The connectors this deployment offers, wired to their clients and stores.

Built once per worker process from the settings; every client is passed in (the Slack ``WebClient``, a
Postgres connection factory, the clock, and optionally the urllib opener for webhooks).
"""

from __future__ import annotations

import urllib.request
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import psycopg
from slack_sdk import WebClient

from connectors.base import Connector
from connectors.meeting_followups import MeetingFollowUp, MeetingNotifyOwner
from connectors.registry import ConnectorRegistry
from connectors.remember import Remember
from connectors.slack_clients import effect_client
from connectors.slack_post import SlackPostMessage
from connectors.slack_schedule import SlackScheduleMessage
from connectors.tasks import CompleteTask, CreateTask
from connectors.webhook import Webhook
from core import defaults
from core.settings import Settings
from memory.facts import Embed, PostgresFactStore
from memory.followup_store import PostgresFollowupStore
from memory.tasks import PostgresTaskStore
from workers.job_context import WorkerContext
from workers.mcp_catalogue import McpCatalogue
from workers.mcp_listing import current_catalogue
from workers.meetings.refresh import OwnerNoticeRenderer
from workers.memories.support import embed_text
from workers.slack_lookups import SlackLookups


def build_registry(
    settings: Settings,
    *,
    slack: WebClient,
    connect: Callable[[], psycopg.Connection[Any]],
    now: Callable[[], datetime],
    opener: urllib.request.OpenerDirector | None = None,
    embed: Embed | None = None,
    mcp: McpCatalogue | None = None,
) -> ConnectorRegistry:
    """Every built-in connector (Slack posting and scheduling, tasks, webhooks and remembered facts), and the
    usable tools of the MCP servers listed in ``mcp`` (a tool named like a built-in is left out)."""
    built_in = _built_ins(settings, slack=slack, connect=connect, now=now, opener=opener, embed=embed)
    extra: Iterable[Connector] = mcp.connectors(taken=(c.action for c in built_in)) if mcp else ()
    return ConnectorRegistry([*built_in, *extra])


def _built_ins(
    settings: Settings,
    *,
    slack: WebClient,
    connect: Callable[[], psycopg.Connection[Any]],
    now: Callable[[], datetime],
    opener: urllib.request.OpenerDirector | None,
    embed: Embed | None,
) -> list[Connector]:
    tasks = PostgresTaskStore(connect)
    lookups = SlackLookups(slack)
    return [
        SlackPostMessage(client=slack),
        SlackScheduleMessage(client=slack, now=now),
        CreateTask(store=tasks),
        CompleteTask(store=tasks),
        Webhook(
            allowlist=settings.webhook_allowlist,
            secret=settings.webhook_secret,
            opener=opener,
            timeout=defaults.HTTP_TIMEOUT_SECONDS,
            now=now,
        ),
        Remember(store=PostgresFactStore(connect, embed=embed), permalink=lookups.permalink),
        MeetingFollowUp(store=PostgresFollowupStore(connect, tz_of=lookups.tz_name, now=now)),
        MeetingNotifyOwner(client=slack, notice=OwnerNoticeRenderer(connect, slack)),
    ]


def registry_for(ctx: WorkerContext) -> ConnectorRegistry:
    """The registry a job uses: connectors get a Slack client without blind retries
    (``connectors.slack_clients.effect_client``), the job's clock, and memory writes embedded through the
    job's provider. The MCP servers' tools are listed once per worker context (at worker start, or here), and
    taken from the stored listing when someone stored a newer one (``workers.mcp_listing``)."""
    mcp = current_catalogue(ctx)
    return build_registry(
        ctx.settings,
        slack=effect_client(ctx.settings),
        connect=ctx.db,
        now=ctx.now,
        embed=lambda text: embed_text(ctx, text),
        mcp=mcp,
    )
