"""The append-only audit trail (the table refuses UPDATE and DELETE)."""

from __future__ import annotations

import json
from typing import Any

import psycopg

from core.audit_entry import AuditEntry


def append(
    conn: psycopg.Connection[Any],
    *,
    team_id: str,
    kind: str,
    actor: str | None = None,
    plan_id: int | None = None,
    request_id: int | None = None,
    **detail: Any,
) -> None:
    """Record one thing that happened. ``detail`` must be JSON-able and must not hold secrets."""
    conn.execute(
        "INSERT INTO audit_log (team_id, request_id, plan_id, kind, actor, detail) VALUES (%s, %s, %s, %s, %s, %s)",
        (team_id, request_id, plan_id, kind, actor, json.dumps(detail, default=str)),
    )


def timeline(conn: psycopg.Connection[Any], *, team_id: str, plan_id: int) -> list[AuditEntry]:
    """Everything recorded about a plan and the request it came from, oldest first."""
    rows = conn.execute(
        """
        SELECT a.id, a.kind, a.actor, a.detail, a.at, a.plan_id, a.request_id
        FROM audit_log a
        WHERE a.team_id = %(team)s
          AND (a.plan_id = %(plan)s
               OR a.request_id = (SELECT request_id FROM plans WHERE id = %(plan)s AND team_id = %(team)s))
        ORDER BY a.id
        """,
        {"team": team_id, "plan": plan_id},
    ).fetchall()
    return [AuditEntry(**row) for row in rows]
