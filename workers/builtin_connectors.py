"""Baton's own connectors, registered as a plugin through the same entry point code as any other
(``connectors.plugins``; ``workers.connector_wiring.DEFAULT_PLUGINS`` names this module's :func:`register`)."""

from __future__ import annotations

from connectors.base import Connector
from connectors.meeting_followups import MeetingFollowUp, MeetingNotifyOwner
from connectors.plugins import ConnectorServices
from connectors.remember import Remember
from connectors.slack_post import SlackPostMessage
from connectors.slack_schedule import SlackScheduleMessage
from connectors.tasks import CompleteTask, CreateTask
from connectors.webhook import Webhook
from core import defaults
from memory.facts import PostgresFactStore
from memory.followup_store import PostgresFollowupStore
from memory.tasks import PostgresTaskStore
from workers.meetings.refresh import OwnerNoticeRenderer
from workers.slack_lookups import SlackLookups


def register(services: ConnectorServices) -> list[Connector]:
    """Slack posting and scheduling, tasks, webhooks, remembered facts, and the meeting follow-ups' own actions."""
    slack, connect, now, settings = services.slack, services.connect, services.now, services.settings
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
            opener=services.opener,
            timeout=defaults.HTTP_TIMEOUT_SECONDS,
            now=now,
        ),
        Remember(store=PostgresFactStore(connect, embed=services.embed), permalink=lookups.permalink),
        MeetingFollowUp(store=PostgresFollowupStore(connect, tz_of=lookups.tz_name, now=now)),
        MeetingNotifyOwner(client=slack, notice=OwnerNoticeRenderer(connect, slack)),
    ]
