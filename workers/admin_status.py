"""Gather what ``/baton status`` and ``baton status`` show: queue depths from Redis, backlog and spend from Postgres."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import psycopg

from core import defaults
from core.status import ModelHealth, StatusFacts
from memory import admin_sql, mcp_listings
from memory.llm_calls import utc_day
from memory.step_settlement import unsettled_steps
from workers.queue_admin import queue_report


def gather_status(conn: psycopg.Connection[Any], *, team_id: str, channel_id: str | None, now: datetime,
                  redis_url: str | None, chat_model: str | None = None) -> StatusFacts:
    """Queue depths from Redis (or why they are unknown) and the workspace's backlog and spend from Postgres; with
    ``chat_model`` (the configured model; None: none is), how the model answered in the last
    ``defaults.STATUS_MODEL_WINDOW_HOURS``."""
    since, _ = utc_day(now)  # "today" is the UTC day, as for the budgets
    stuck_before = now - timedelta(seconds=defaults.PLANNING_STUCK_SECONDS)
    last_ok, last_failure = admin_sql.model_calls_since(
        conn, team_id=team_id, since=now - timedelta(hours=defaults.STATUS_MODEL_WINDOW_HOURS))
    return StatusFacts(
        model=ModelHealth(chat_model, last_ok, last_failure),
        now=now,
        queues=queue_report(redis_url),
        approvals=admin_sql.pending_approvals(conn, team_id=team_id, now=now),
        stuck=admin_sql.stuck_planning(conn, team_id=team_id, older_than=stuck_before),
        workspace_spend=admin_sql.spend_since(conn, team_id=team_id, since=since),
        channel_id=channel_id,
        channel_spend=(admin_sql.spend_since(conn, team_id=team_id, since=since, channel_id=channel_id)
                       if channel_id else None),
        mcp_unavailable=tuple(mcp_listings.unavailable(conn)),
        unsettled_steps=unsettled_steps(conn, team_id=team_id),
    )
