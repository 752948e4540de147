"""Stored approval-policy overrides for a workspace and its channels."""

from __future__ import annotations

import json
from typing import Any

import psycopg

from core.policy import ApprovalPolicy, effective_policy


def load_policy(conn: psycopg.Connection[Any], *, team_id: str, channel_id: str) -> ApprovalPolicy:
    """The effective policy: defaults <- workspace row <- channel row."""
    rows = conn.execute(
        "SELECT channel_id, policy FROM policies WHERE team_id = %s AND channel_id IN ('', %s)",
        (team_id, channel_id),
    ).fetchall()
    by_channel = {row["channel_id"]: row["policy"] for row in rows}
    return effective_policy(by_channel.get(""), by_channel.get(channel_id))


def save_policy(
    conn: psycopg.Connection[Any], *, team_id: str, channel_id: str, policy: dict[str, Any], updated_by: str
) -> None:
    conn.execute(
        """
        INSERT INTO policies (team_id, channel_id, policy, updated_by) VALUES (%s, %s, %s, %s)
        ON CONFLICT (team_id, channel_id) DO UPDATE
            SET policy = EXCLUDED.policy, updated_by = EXCLUDED.updated_by, updated_at = now()
        """,
        (team_id, channel_id, json.dumps(policy), updated_by),
    )
