"""The rows ``baton report`` computes its seed metrics from (``core.report`` holds the rules)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import psycopg

from core.report import PlanFact, StepEvent

#: Audit kinds the recovery time is read from (see ``core.report``).
STEP_KINDS = ("step.claimed", "step.resumed", "step.retry", "step.failed", "step.succeeded")


def load_plans(
    conn: psycopg.Connection[Any], *, since: datetime, until: datetime, team_id: str | None = None
) -> list[PlanFact]:
    """Plans created in ``[since, until)`` (of one workspace, if given), with their model cost."""
    rows = conn.execute(
        """
        SELECT p.id, p.status, p.created_at, p.decided_at, p.auto_approved,
               EXISTS (SELECT 1 FROM plan_steps s WHERE s.plan_id = p.id AND NOT s.selected) AS edited,
               coalesce(c.cost, 0) AS cost, coalesce(c.unpriced, 0) AS unpriced
        FROM plans p
        LEFT JOIN LATERAL (
            SELECT sum(l.cost_usd) AS cost, count(*) FILTER (WHERE NOT l.cost_known) AS unpriced
            FROM llm_calls l WHERE l.request_id = p.request_id OR l.plan_id = p.id
        ) c ON true
        WHERE p.created_at >= %(since)s AND p.created_at < %(until)s
          AND (%(team)s::text IS NULL OR p.team_id = %(team)s)
        ORDER BY p.id
        """,
        {"since": since, "until": until, "team": team_id},
    ).fetchall()
    return [
        PlanFact(
            id=row["id"],
            status=row["status"],
            created_at=row["created_at"],
            decided_at=row["decided_at"],
            auto_approved=row["auto_approved"],
            edited=row["edited"] and row["status"] != "rejected",
            llm_cost_usd=Decimal(row["cost"]),
            unpriced_calls=int(row["unpriced"]),
        )
        for row in rows
    ]


def load_step_events(conn: psycopg.Connection[Any], plan_ids: list[int]) -> list[StepEvent]:
    """The step audit entries of ``plan_ids`` (claims, resumes, retries, failures, successes), oldest first."""
    if not plan_ids:
        return []
    rows = conn.execute(
        """
        SELECT plan_id, (detail->>'step')::int AS step, kind, at FROM audit_log
        WHERE plan_id = ANY(%s) AND kind = ANY(%s) AND detail ? 'step'
        ORDER BY at, id
        """,
        (plan_ids, list(STEP_KINDS)),
    ).fetchall()
    return [StepEvent(plan_id=row["plan_id"], step=row["step"], kind=row["kind"], at=row["at"]) for row in rows]
