"""The connectors this deployment offers, wired to their clients and stores.

Built once per worker process from the settings; every client is passed in (the Slack ``WebClient``, a
Postgres connection factory, the clock, and optionally the urllib opener for webhooks).
"""

from __future__ import annotations

import urllib.request
from collections.abc import Callable
from datetime import datetime
from typing import Any

import psycopg
from slack_sdk import WebClient

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
) -> ConnectorRegistry:
    """Every built-in connector: Slack posting and scheduling, tasks, webhooks and remembered facts."""
    tasks = PostgresTaskStore(connect)
    lookups = SlackLookups(slack)
    return ConnectorRegistry(
        [
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
    )


def registry_for(ctx: WorkerContext) -> ConnectorRegistry:
    """The registry a job uses: connectors get a Slack client without blind retries
    (``connectors.slack_clients.effect_client``), the job's clock, and memory writes embedded through the
    job's provider."""
    return build_registry(
        ctx.settings,
        slack=effect_client(ctx.settings),
        connect=ctx.db,
        now=ctx.now,
        embed=lambda text: embed_text(ctx, text),
    )
