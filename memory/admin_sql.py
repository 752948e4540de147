"""What operators ask about (``/baton status``, ``/baton plans`` and their ``baton`` twins): approvals
waiting, requests stuck in planning, the day's model spend, pending plans, the workspaces Baton knows."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import psycopg

from core.status import Backlog, ModelFailure, ModelSpend, PendingPlan
from memory.llm_calls import REFUSED_PREFIX


def pending_approvals(conn: psycopg.Connection[Any], *, team_id: str, now: datetime) -> Backlog:
    """Plans of the workspace waiting for approval (not yet past their expiry)."""
    row = conn.execute(
        "SELECT count(*) AS n, min(created_at) AS oldest FROM plans "
        "WHERE team_id = %s AND status = 'pending' AND expires_at > %s",
        (team_id, now),
    ).fetchone()
    assert row is not None
    return Backlog(int(row["n"]), row["oldest"])


def stuck_planning(conn: psycopg.Connection[Any], *, team_id: str, older_than: datetime) -> Backlog:
    """Requests received or being planned that have not moved since ``older_than``."""
    row = conn.execute(
        "SELECT count(*) AS n, min(created_at) AS oldest FROM requests "
        "WHERE team_id = %s AND status IN ('received', 'planning') AND updated_at < %s",
        (team_id, older_than),
    ).fetchone()
    assert row is not None
    return Backlog(int(row["n"]), row["oldest"])


def spend_since(conn: psycopg.Connection[Any], *, team_id: str, since: datetime,
                channel_id: str | None = None) -> ModelSpend:
    """Model spend of the workspace (or of one channel) from ``since`` on, from ``llm_calls``."""
    where = "team_id = %s AND at >= %s" + (" AND channel_id = %s" if channel_id is not None else "")
    params: tuple[Any, ...] = (team_id, since) + ((channel_id,) if channel_id is not None else ())
    row = conn.execute(
        "SELECT coalesce(sum(cost_usd), 0) AS cost, count(*) AS calls, "
        f"count(*) FILTER (WHERE NOT cost_known) AS unknown FROM llm_calls WHERE {where}",
        params,
    ).fetchone()
    assert row is not None
    return ModelSpend(Decimal(row["cost"]), int(row["calls"]), int(row["unknown"]))


def model_calls_since(conn: psycopg.Connection[Any], *, team_id: str,
                      since: datetime) -> tuple[datetime | None, ModelFailure | None]:
    """When the workspace's newest answered model call was, and its newest failed one, from ``since`` on (budget
    refusals are not failures of the model and are left out)."""
    ok = conn.execute("SELECT max(at) AS at FROM llm_calls WHERE team_id = %s AND at >= %s AND ok",
                      (team_id, since)).fetchone()
    failed = conn.execute(
        "SELECT at, model, purpose, error FROM llm_calls WHERE team_id = %s AND at >= %s AND NOT ok "
        "AND error IS NOT NULL AND error NOT LIKE %s ORDER BY at DESC, id DESC LIMIT 1",
        (team_id, since, REFUSED_PREFIX + "%"),
    ).fetchone()
    failure = ModelFailure(failed["at"], failed["model"], failed["purpose"], failed["error"]) if failed else None
    return (ok["at"] if ok else None), failure


def pending_plans(conn: psycopg.Connection[Any], *, team_id: str, now: datetime, channel_id: str | None = None,
                  limit: int = 20) -> tuple[list[PendingPlan], int]:
    """Up to ``limit`` pending plans, oldest first, of one channel (or the whole workspace), and how many
    there are in all."""
    where = "p.team_id = %s AND p.status = 'pending' AND p.expires_at > %s"
    params: tuple[Any, ...] = (team_id, now)
    if channel_id is not None:
        where += " AND p.channel_id = %s"
        params += (channel_id,)
    total = conn.execute(f"SELECT count(*) AS n FROM plans p WHERE {where}", params).fetchone()
    assert total is not None
    rows = conn.execute(
        f"""
        SELECT p.id, p.channel_id, p.title, p.risk, p.requester_id, p.kind, p.created_at, p.expires_at,
               coalesce(p.card_channel, m.card_channel) AS card_channel, coalesce(p.card_ts, m.card_ts) AS card_ts
        FROM plans p LEFT JOIN meetings m ON m.plan_id = p.id
        WHERE {where}
        ORDER BY p.created_at, p.id
        LIMIT %s
        """,
        (*params, limit),
    ).fetchall()
    return [PendingPlan(**row) for row in rows], int(total["n"])


def known_teams(conn: psycopg.Connection[Any]) -> list[str]:
    """Every workspace with a request or a stored policy, sorted."""
    rows = conn.execute(
        "SELECT team_id FROM requests UNION SELECT team_id FROM policies ORDER BY team_id"
    ).fetchall()
    return [row["team_id"] for row in rows]
