"""Baton removed from a workspace: ``app_uninstalled`` and ``tokens_revoked``, and the purge that follows.

The edge records the event before the ack and enqueues :func:`retire_workspace`; in one transaction it deletes
the revoked tokens (all of the workspace's on an uninstall), cancels the plans that would still run (once the
bot token is gone nothing of them can), and, on an uninstall in multi-workspace mode, schedules the purge of the
workspace's data ``BATON_UNINSTALL_RETENTION_DAYS`` later. No Slack call is made: the tokens no longer work.
The recovery pass (``workers.reconcile``) runs :func:`purge_due` and re-drives an event whose job was lost.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from memory import audit, slack_events, workspace_purge
from memory.db import Conn
from workers.job_context import current

log = logging.getLogger(__name__)

#: The reason recorded on each cancelled plan.
CANCEL_REASONS = {"app_uninstalled": "Baton was uninstalled", "tokens_revoked": "Baton's bot token was revoked"}


def retire_workspace(event_pk: int) -> str:
    """Job: act on a recorded ``app_uninstalled`` / ``tokens_revoked`` event (idempotent: a second run finds
    nothing left to delete or cancel, and the purge schedule stands)."""
    ctx = current()
    now = ctx.now()
    with ctx.db() as conn, conn.transaction():
        event = slack_events.load_event(conn, event_pk)
        if event is None or event.event_type not in workspace_purge.REMOVAL_EVENTS:
            return "missing"
        if event.status in ("done", "ignored"):
            return event.status  # handled already (a re-driven copy of the job)
        team = event.team_id
        if workspace_purge.installed_after(conn, event_pk):
            # Its job was lost and the workspace installed Baton again since: the new tokens are not revoked.
            slack_events.finish_event(conn, event_pk, status="ignored")
            log.info("%s for team %s predates a reinstall; ignored", event.event_type, team)
            return "ignored"
        uninstalled = event.event_type == "app_uninstalled"
        tokens = _revoked(event.payload)
        bot_gone = uninstalled or bool(tokens.get("bot"))
        org = _org_install(event.payload)
        forgotten = workspace_purge.forget_tokens(
            conn, team, bot=bot_gone, users=tuple(tokens.get("oauth", ())), everything=uninstalled, enterprise_id=org
        )
        # An org-wide install served every workspace of the org noted so far: each loses its plans and its data.
        org_detail: dict[str, Any] = {"enterprise_id": org} if org else {}
        teams = sorted({team, *workspace_purge.org_teams(conn, org)} - {""}) if org else [team]
        for each in teams:
            cancelled = (
                workspace_purge.cancel_open_plans(conn, each, now=now, reason=CANCEL_REASONS[event.event_type])
                if bot_gone
                else []
            )
            due = None
            # One SLACK_BOT_TOKEN (no OAuth): a reinstall is a new token in the environment, which Baton cannot
            # see to cancel a purge with; the data stays until `baton workspace purge`.
            if uninstalled and ctx.settings.oauth_enabled:
                due = workspace_purge.schedule_purge(
                    conn, each, now=now, after=now + timedelta(days=ctx.settings.uninstall_retention_days)
                )
            audit.append(
                conn,
                team_id=each,
                kind=f"workspace.{event.event_type}",
                actor="slack",
                tokens_deleted=forgotten,
                plans_cancelled=len(cancelled),
                purge_after=due.isoformat() if due else None,
                **org_detail,
            )
        slack_events.finish_event(conn, event_pk, status="done")
    log.info(
        "%s for %s: %d token rows, %d plans cancelled (last workspace), purge %s",
        event.event_type,
        f"org {org} ({', '.join(teams)})" if org else f"team {team}",
        forgotten,
        len(cancelled),
        due or "not scheduled",
    )
    return "done"


def _org_install(payload: dict[str, Any]) -> str:
    """The org whose org-wide install the event was sent to ('' for a workspace install): Slack marks it in the
    delivery's ``authorizations``."""
    authorizations = payload.get("authorizations")
    first = authorizations[0] if isinstance(authorizations, list) and authorizations else {}
    if not isinstance(first, dict) or not first.get("is_enterprise_install"):
        return ""
    return str(first.get("enterprise_id") or payload.get("enterprise_id") or "")


def _revoked(payload: dict[str, Any]) -> dict[str, list[str]]:
    """``event.tokens`` of a ``tokens_revoked`` body: ``{"oauth": [user ids], "bot": [bot user ids]}``."""
    tokens = (payload.get("event") or {}).get("tokens") or {}
    if not isinstance(tokens, dict):
        return {}
    return {kind: [str(u) for u in tokens.get(kind) or [] if isinstance(u, str)] for kind in ("oauth", "bot")}


def purge_due(conn: Conn, *, now: datetime) -> dict[str, dict[str, int]]:
    """The recovery pass's part: purge every workspace whose grace period has passed (a workspace installed
    again meanwhile only loses the stale schedule). Returns the counts per workspace purged."""
    purged = {}
    for team in workspace_purge.due_purges(conn, now=now):
        if workspace_purge.is_installed(conn, team):
            log.warning("workspace %s is installed again; its stale purge schedule is dropped", team)
            workspace_purge.drop_schedule(conn, team)
            continue
        purged[team] = workspace_purge.purge_workspace(conn, team, actor="reconciler")
    return purged
