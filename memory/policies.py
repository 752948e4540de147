"""Stored approval-policy overrides for a workspace and its channels.

One row per (team, channel) in ``policies``; ``channel_id = ''`` is the workspace row. Changes merge into
the stored JSON under the row's lock, so two admins changing different keys at once both keep theirs.
"""

from __future__ import annotations

import json
from typing import Any

import psycopg

from core.policy import ApprovalPolicy, effective_policy
from core.policy_command import PolicyCommand, merge_override
from memory import audit

#: The ``channel_id`` of the workspace-wide row.
WORKSPACE = ""


def load_overrides(conn: psycopg.Connection[Any], *, team_id: str,
                   channel_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The stored overrides: (workspace row, channel row), ``{}`` for a missing row (and for the channel of
    ``channel_id=""``)."""
    rows = conn.execute(
        "SELECT channel_id, policy FROM policies WHERE team_id = %s AND channel_id IN ('', %s)",
        (team_id, channel_id),
    ).fetchall()
    by_channel = {row["channel_id"]: dict(row["policy"] or {}) for row in rows}
    return by_channel.get(WORKSPACE, {}), (by_channel.get(channel_id, {}) if channel_id else {})


def load_policy(conn: psycopg.Connection[Any], *, team_id: str, channel_id: str) -> ApprovalPolicy:
    """The effective policy: defaults <- workspace row <- channel row."""
    workspace, channel = load_overrides(conn, team_id=team_id, channel_id=channel_id)
    return effective_policy(workspace, channel)


def save_policy(
    conn: psycopg.Connection[Any], *, team_id: str, channel_id: str, policy: dict[str, Any], updated_by: str
) -> None:
    """Replace a row's whole override (``save_override`` changes some keys)."""
    conn.execute(
        """
        INSERT INTO policies (team_id, channel_id, policy, updated_by) VALUES (%s, %s, %s, %s)
        ON CONFLICT (team_id, channel_id) DO UPDATE
            SET policy = EXCLUDED.policy, updated_by = EXCLUDED.updated_by, updated_at = now()
        """,
        (team_id, channel_id, json.dumps(policy), updated_by),
    )


def save_override(conn: psycopg.Connection[Any], *, team_id: str, channel_id: str, changes: dict[str, Any],
                  updated_by: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Merge ``changes`` into a row's override (see :func:`core.policy_command.merge_override`: ``None``
    removes a key) under the row's lock; returns (before, after).

    A channel row's per-risk mappings start from the workspace row's when the channel has none yet.
    """
    with conn.transaction():
        conn.execute(
            "INSERT INTO policies (team_id, channel_id, policy, updated_by) VALUES (%s, %s, '{}'::jsonb, %s) "
            "ON CONFLICT (team_id, channel_id) DO NOTHING",
            (team_id, channel_id, updated_by),
        )
        row = conn.execute(
            "SELECT policy FROM policies WHERE team_id = %s AND channel_id = %s FOR UPDATE", (team_id, channel_id)
        ).fetchone()
        before = dict(row["policy"] or {}) if row is not None else {}
        inherited: dict[str, Any] = {}
        if channel_id != WORKSPACE:
            inherited, _ = load_overrides(conn, team_id=team_id, channel_id=WORKSPACE)
        after = merge_override(before, changes, inherited=inherited)
        conn.execute(
            "UPDATE policies SET policy = %s, updated_by = %s, updated_at = now() "
            "WHERE team_id = %s AND channel_id = %s",
            (json.dumps(after), updated_by, team_id, channel_id),
        )
    return before, after


def reset_override(conn: psycopg.Connection[Any], *, team_id: str, channel_id: str) -> dict[str, Any]:
    """Drop a row (the channel then follows the workspace; the workspace, the defaults); returns what it held."""
    row = conn.execute(
        "DELETE FROM policies WHERE team_id = %s AND channel_id = %s RETURNING policy", (team_id, channel_id)
    ).fetchone()
    return dict(row["policy"] or {}) if row is not None else {}


def change_policy(conn: psycopg.Connection[Any], command: PolicyCommand, *, team_id: str, channel_id: str,
                  actor: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Apply a parsed ``set`` or ``reset`` to one row and record ``policy.changed`` (before and after) in the
    audit log in the same transaction; nothing is recorded when nothing changed. Returns (before, after)."""
    if command.action not in ("set", "reset"):
        raise ValueError(f"not a policy change: {command.action}")
    after: dict[str, Any] = {}
    with conn.transaction():
        if command.action == "reset":
            before = reset_override(conn, team_id=team_id, channel_id=channel_id)
        else:
            before, after = save_override(conn, team_id=team_id, channel_id=channel_id,
                                          changes=dict(command.changes), updated_by=actor)
        if before != after:
            audit.append(conn, team_id=team_id, kind="policy.changed", actor=actor,
                         scope="workspace" if channel_id == WORKSPACE else "channel", channel=channel_id or None,
                         action=command.action, key=command.key, before=before, after=after)
    return before, after
