"""Which workspace a job works for, from the row its id names (multi-workspace mode picks its token by it)."""

from __future__ import annotations

from typing import Any

import psycopg

from core.installations import TeamRef

#: Job function name -> the table whose row id the job takes as its one argument (each has a team_id).
JOB_TABLES = {
    "plan_request": "requests",
    "post_plan_card": "plans",
    "post_outbox": "slack_outbox",
    "execute_plan": "plans",
    "send_followup": "followups",
    "refresh_meeting": "meetings",
    "send_digest": "digest_runs",
    "publish_home": "slack_events",
    "retire_workspace": "slack_events",
    "greet_assistant_thread": "slack_events",
}


def team_of_job(conn: psycopg.Connection[Any], function: str, ident: int) -> TeamRef | None:
    """The workspace of job ``function`` on row ``ident``; None for a job without one (the reconciler) or a
    row that is gone."""
    table = JOB_TABLES.get(function)
    if table is None:
        return None
    row = conn.execute(f"SELECT team_id FROM {table} WHERE id = %s", (ident,)).fetchone()  # table is ours
    if row is None:
        return None
    return TeamRef(str(row["team_id"] if isinstance(row, dict) else row[0]))
