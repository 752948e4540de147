"""Plan a request again: a new request row with the original's text and place, made once per plan.

A step whose tool changed since approval did not run; *Re-plan* asks for a new plan with the tools as they are
now. A request has at most one plan, so the new plan needs a new request: a copy of the original's (same
requester, channel, thread, text and context), deduplicated by ``replan:<plan id>`` so a double click or a
replayed request makes one.
"""

from __future__ import annotations

from typing import Any

import psycopg

from memory import audit


def replan_request(conn: psycopg.Connection[Any], plan_id: int, *, user_id: str) -> tuple[int, bool] | None:
    """The request that re-plans plan ``plan_id``'s request: (its id, made now?); None if there is no such plan."""
    with conn.transaction():
        row = conn.execute(
            """
            INSERT INTO requests (team_id, dedupe_key, source, channel_id, channel_type, user_id, message_ts,
                                  thread_ts, text, context)
            SELECT r.team_id, 'replan:' || p.id, r.source, r.channel_id, r.channel_type, r.user_id, r.message_ts,
                   COALESCE(p.thread_ts, r.thread_ts), r.text, r.context
            FROM plans p JOIN requests r ON r.id = p.request_id
            WHERE p.id = %s
            ON CONFLICT (team_id, dedupe_key) DO NOTHING
            RETURNING id, team_id
            """,
            (plan_id,),
        ).fetchone()
        if row is not None:
            audit.append(
                conn,
                team_id=row["team_id"],
                plan_id=plan_id,
                kind="plan.replan_requested",
                actor=user_id,
                request_ref=row["id"],
            )
            return int(row["id"]), True
        existing = conn.execute(
            "SELECT r.id FROM requests r JOIN plans p ON r.team_id = p.team_id AND r.dedupe_key = 'replan:' || p.id "
            "WHERE p.id = %s",
            (plan_id,),
        ).fetchone()
    return None if existing is None else (int(existing["id"]), False)
