"""A workspace that removed Baton: its tokens forgotten, its open plans cancelled, its data purged later.

``app_uninstalled`` and ``tokens_revoked`` (recorded in ``slack_events`` before the ack) are handled by
``workers.uninstall``: :func:`forget_tokens` at once, :func:`cancel_open_plans` (each cancel audited), and for
an uninstall :func:`schedule_purge` (table ``workspace_purges``, migration 0020). The recovery pass calls
:func:`purge_workspace` for each of :func:`due_purges`; a reinstall deletes the schedule first
(``memory.installations``). :func:`purge_workspace` deletes every row of the workspace in the tables of
:data:`PURGED`, in an order the foreign keys allow, and audits the counts per table, never any text. The audit
trail itself is append-only and stays (ids, kinds and counts).
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

import psycopg

from core.states import plan_transition
from memory import audit

log = logging.getLogger(__name__)

#: The two events that take Baton out of a workspace (``workers.uninstall`` handles them).
REMOVAL_EVENTS = ("app_uninstalled", "tokens_revoked")

_TEAM = "team_id = %(team)s"
_OF_MEETINGS = "meeting_id IN (SELECT id FROM meetings WHERE team_id = %(team)s)"
_OF_PLANS = "plan_id IN (SELECT id FROM plans WHERE team_id = %(team)s)"

#: (table, which rows are the workspace's), children before their parents. Every table with a ``team_id`` is
#: here except ``audit_log`` (append-only) and ``workspace_purges`` (the schedule, deleted last);
#: ``tests/scenario/test_uninstall.py`` checks that against the live schema, so a new table is not forgotten.
PURGED: tuple[tuple[str, str], ...] = (
    ("slack_outbox", _TEAM),
    ("followups", _TEAM),
    ("meeting_messages", _OF_MEETINGS),
    ("meeting_items", _OF_MEETINGS),
    ("meetings", _TEAM),
    ("parked_steps", _OF_PLANS),
    ("effects", _OF_PLANS),
    ("plan_steps", _OF_PLANS),
    ("plans", _TEAM),
    ("requests", _TEAM),
    ("tasks", _TEAM),
    ("memories", _TEAM),
    ("channel_messages", _TEAM),
    ("assistant_threads", _TEAM),
    ("slack_events", _TEAM),
    ("llm_calls", _TEAM),
    ("digest_runs", _TEAM),
    ("digest_settings", _TEAM),
    ("policies", _TEAM),
    ("slack_installations", _TEAM),
    ("slack_team_orgs", _TEAM),
)


def forget_tokens(
    conn: psycopg.Connection[Any],
    team_id: str,
    *,
    bot: bool,
    users: tuple[str, ...] = (),
    everything: bool = False,
    enterprise_id: str = "",
) -> int:
    """Delete tokens of ``team_id`` (with ``enterprise_id``: of that org's org-wide install instead): every
    installation row (``everything``: the app was uninstalled), else the bot tokens (``bot``) and the user
    tokens of ``users``. Returns the rows changed."""
    scope, key = ("enterprise_id = %s AND team_id = ''", enterprise_id) if enterprise_id else ("team_id = %s", team_id)
    if everything:
        return conn.execute(f"DELETE FROM slack_installations WHERE {scope}", (key,)).rowcount
    changed = 0
    if bot:
        changed += conn.execute(f"DELETE FROM slack_installations WHERE {scope} AND user_id = ''", (key,)).rowcount
        changed += conn.execute(
            "UPDATE slack_installations SET bot_token = NULL, bot_refresh_token = NULL, updated_at = now()"
            f" WHERE {scope} AND bot_token IS NOT NULL",
            (key,),
        ).rowcount
    if users:
        changed += conn.execute(
            "UPDATE slack_installations SET user_token = NULL, user_refresh_token = NULL, updated_at = now()"
            f" WHERE {scope} AND user_id = ANY(%s) AND user_token IS NOT NULL",
            (key, list(users)),
        ).rowcount
    return changed


def org_teams(conn: psycopg.Connection[Any], enterprise_id: str) -> list[str]:
    """The workspaces noted as served by org ``enterprise_id``'s org-wide install (``slack_team_orgs``)."""
    rows = conn.execute(
        "SELECT team_id FROM slack_team_orgs WHERE enterprise_id = %s ORDER BY team_id", (enterprise_id,)
    ).fetchall()
    return [row["team_id"] for row in rows]


def cancel_open_plans(conn: psycopg.Connection[Any], team_id: str, *, now: datetime, reason: str) -> list[int]:
    """Cancel ``team_id``'s plans that would still run: waiting for approval, approved and not started, and
    running with nothing left but parked steps (their steps fail, their parking is forgotten). A plan a runner
    is in the middle of is left to finish or fail. Each cancel is audited. Returns the plan ids."""
    rows = conn.execute(
        """
        SELECT p.id, p.status FROM plans p
        WHERE p.team_id = %(team)s
          AND (p.status IN ('pending', 'approved')
               OR (p.status = 'running'
                   AND EXISTS (SELECT 1 FROM parked_steps k WHERE k.plan_id = p.id)
                   AND NOT EXISTS (
                       SELECT 1 FROM plan_steps s
                       WHERE s.plan_id = p.id AND s.status IN ('running', 'compensating')
                         AND NOT EXISTS (SELECT 1 FROM parked_steps k
                                         WHERE k.plan_id = s.plan_id AND k.idx = s.idx
                                           AND k.retry_at = s.lease_until))))
        ORDER BY p.id FOR UPDATE OF p
        """,
        {"team": team_id},
    ).fetchall()
    cancelled = []
    for row in rows:
        status = plan_transition(row["status"], "cancel")
        moved = conn.execute(
            "UPDATE plans SET status = %s, decision_reason = coalesce(decision_reason, %s), updated_at = %s"
            " WHERE id = %s AND status = %s RETURNING id",
            (status, reason, now, row["id"], row["status"]),
        ).fetchone()
        if moved is None:
            continue
        steps = conn.execute(
            "UPDATE plan_steps SET status = 'failed', lease_until = NULL, error = %s, updated_at = %s"
            " WHERE plan_id = %s AND status = 'running' RETURNING idx",
            (f"cancelled: {reason}", now, row["id"]),
        ).fetchall()
        conn.execute("DELETE FROM parked_steps WHERE plan_id = %s", (row["id"],))
        audit.append(
            conn,
            team_id=team_id,
            plan_id=row["id"],
            kind="plan.cancelled",
            actor="slack",
            reason=reason,
            was=row["status"],
            steps_stopped=len(steps),
        )
        cancelled.append(row["id"])
    return cancelled


def schedule_purge(conn: psycopg.Connection[Any], team_id: str, *, now: datetime, after: datetime) -> datetime:
    """Schedule the purge of ``team_id``'s data for ``after`` (an earlier schedule stands). Returns when it is
    due."""
    conn.execute(
        "INSERT INTO workspace_purges (team_id, uninstalled_at, purge_after) VALUES (%s, %s, %s)"
        " ON CONFLICT (team_id) DO NOTHING",
        (team_id, now, after),
    )
    row = conn.execute("SELECT purge_after FROM workspace_purges WHERE team_id = %s", (team_id,)).fetchone()
    assert row is not None
    return row["purge_after"]  # type: ignore[no-any-return]


def purge_due_at(conn: psycopg.Connection[Any], team_id: str) -> datetime | None:
    """When ``team_id``'s data is to be purged, or None when no purge is pending."""
    row = conn.execute("SELECT purge_after FROM workspace_purges WHERE team_id = %s", (team_id,)).fetchone()
    return None if row is None else row["purge_after"]


def due_purges(conn: psycopg.Connection[Any], *, now: datetime) -> list[str]:
    """Workspaces whose grace period has passed, oldest first."""
    rows = conn.execute(
        "SELECT team_id FROM workspace_purges WHERE purge_after <= %s ORDER BY purge_after, team_id", (now,)
    ).fetchall()
    return [row["team_id"] for row in rows]


def drop_schedule(conn: psycopg.Connection[Any], team_id: str) -> None:
    """Forget ``team_id``'s purge schedule without purging."""
    conn.execute("DELETE FROM workspace_purges WHERE team_id = %s", (team_id,))


def is_installed(conn: psycopg.Connection[Any], team_id: str) -> bool:
    """True while ``team_id`` has a bot token installed (multi-workspace mode), its own or its org's."""
    row = conn.execute(
        "SELECT 1 FROM slack_installations WHERE bot_token IS NOT NULL AND (team_id = %(team)s OR (team_id = ''"
        " AND enterprise_id = (SELECT enterprise_id FROM slack_team_orgs WHERE team_id = %(team)s))) LIMIT 1",
        {"team": team_id},
    ).fetchone()
    return row is not None


def purge_workspace(conn: psycopg.Connection[Any], team_id: str, *, actor: str) -> dict[str, int]:
    """Delete every row of ``team_id`` in :data:`PURGED` and its purge schedule, in one transaction, and audit
    the counts per table (``workspace.purged``; no text). Returns the counts (tables with none left out)."""
    counts: dict[str, int] = {}
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('baton.purge:' || %s))", (team_id,))
        for table, rows_of_team in PURGED:
            deleted = conn.execute(f"DELETE FROM {table} WHERE {rows_of_team}", {"team": team_id}).rowcount
            if deleted:
                counts[table] = deleted
        conn.execute("DELETE FROM workspace_purges WHERE team_id = %s", (team_id,))
        audit.append(conn, team_id=team_id, kind="workspace.purged", actor=actor, counts=counts)
    log.info("purged workspace %s: %s", team_id, counts)
    return counts


def installed_after(conn: psycopg.Connection[Any], event_pk: int) -> bool:
    """True when the workspace (or the org) of event ``event_pk`` installed Baton after the event was received."""
    row = conn.execute(
        "SELECT 1 FROM slack_events e JOIN slack_installations i ON i.team_id = e.team_id"
        "  OR (i.team_id = '' AND i.enterprise_id <> '' AND i.enterprise_id ="
        "      coalesce(e.payload->>'enterprise_id', e.payload->'authorizations'->0->>'enterprise_id'))"
        " WHERE e.id = %s AND i.installed_at > e.received_at LIMIT 1",
        (event_pk,),
    ).fetchone()
    return row is not None


def unhandled_removals(conn: psycopg.Connection[Any], *, older_than: datetime) -> list[int]:
    """``app_uninstalled`` / ``tokens_revoked`` events recorded but not handled (their job was lost)."""
    rows = conn.execute(
        "SELECT id FROM slack_events WHERE status IN ('received', 'handling') AND event_type = ANY(%s)"
        " AND received_at < %s ORDER BY id",
        (list(REMOVAL_EVENTS), older_than),
    ).fetchall()
    return [row["id"] for row in rows]


async def cancel_org_purges(conn: psycopg.AsyncConnection[Any], enterprise_id: str) -> None:
    """An org-wide reinstall: forget the pending purges of the org's workspaces (see :func:`cancel_purge`)."""
    cursor = await conn.execute("SELECT team_id FROM slack_team_orgs WHERE enterprise_id = %s", (enterprise_id,))
    for row in await cursor.fetchall():
        await cancel_purge(conn, row["team_id"] if isinstance(row, dict) else row[0])


async def cancel_purge(conn: psycopg.AsyncConnection[Any], team_id: str) -> bool:
    """A reinstall: forget ``team_id``'s pending purge (audited ``workspace.purge_cancelled``). True if there
    was one. Runs in the installation store's transaction."""
    cursor = await conn.execute("DELETE FROM workspace_purges WHERE team_id = %s RETURNING purge_after", (team_id,))
    row = await cursor.fetchone()
    if row is None:
        return False
    due = row["purge_after"] if isinstance(row, dict) else row[0]
    await conn.execute(
        "INSERT INTO audit_log (team_id, kind, actor, detail) VALUES (%s, 'workspace.purge_cancelled', 'slack', %s)",
        (team_id, json.dumps({"reason": "reinstalled", "was_due": due.isoformat()})),
    )
    log.info("workspace %s reinstalled: its data purge (due %s) is cancelled", team_id, due)
    return True
