"""Digest settings, runs (the once-per-local-date claim) and the rows a digest reports on."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import psycopg

from core.digest.facts import DigestSetting

_SETTING_COLUMNS = (
    "team_id, target, kind, schedule, local_time, tz, enabled, configured_by, last_sent_at, disabled_reason, "
    "updated_at AS configured_at"
)


def save_setting(conn: psycopg.Connection[Any], *, team_id: str, target: str, kind: str, schedule: str,
                 local_time: time, tz: str, configured_by: str, now: datetime) -> DigestSetting:
    """Create or replace a digest setting (and switch it on) as of ``now`` (the app's clock): occurrences
    before that are not sent."""
    conn.execute(
        """
        INSERT INTO digest_settings (team_id, target, kind, schedule, local_time, tz, configured_by, updated_at)
        VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
        ON CONFLICT (team_id, target) DO UPDATE
           SET schedule = EXCLUDED.schedule, local_time = EXCLUDED.local_time, tz = EXCLUDED.tz,
               configured_by = EXCLUDED.configured_by, enabled = true, disabled_reason = NULL,
               updated_at = EXCLUDED.updated_at
        """,
        (team_id, target, kind, schedule, local_time, tz, configured_by, now),
    )
    setting = load_setting(conn, team_id=team_id, target=target)
    assert setting is not None
    return setting


def disable(conn: psycopg.Connection[Any], *, team_id: str, target: str, reason: str) -> bool:
    """Switch a digest off; False when there was none switched on."""
    row = conn.execute(
        "UPDATE digest_settings SET enabled = false, disabled_reason = %s "
        "WHERE team_id = %s AND target = %s AND enabled RETURNING target",
        (reason, team_id, target),
    ).fetchone()
    return row is not None


def load_setting(conn: psycopg.Connection[Any], *, team_id: str, target: str) -> DigestSetting | None:
    row = conn.execute(
        f"SELECT {_SETTING_COLUMNS} FROM digest_settings WHERE team_id = %s AND target = %s", (team_id, target)
    ).fetchone()
    return None if row is None else DigestSetting(**row)


def enabled_settings(conn: psycopg.Connection[Any]) -> list[DigestSetting]:
    rows = conn.execute(f"SELECT {_SETTING_COLUMNS} FROM digest_settings WHERE enabled ORDER BY team_id, target")
    return [DigestSetting(**row) for row in rows.fetchall()]


def settings_for_user(conn: psycopg.Connection[Any], *, team_id: str, user_id: str) -> list[DigestSetting]:
    """The person's own digest and the channel digests they configured (for App Home)."""
    rows = conn.execute(
        f"SELECT {_SETTING_COLUMNS} FROM digest_settings WHERE team_id = %s AND (target = %s OR configured_by = %s) "
        "ORDER BY kind DESC, target",
        (team_id, user_id, user_id),
    ).fetchall()
    return [DigestSetting(**row) for row in rows]


@dataclass(frozen=True)
class RunRecord:
    id: int
    team_id: str
    target: str
    trigger: str
    local_date: date
    due_at: datetime
    status: str
    attempts: int
    since: datetime | None
    channel_id: str | None
    message_ts: str | None


_RUN_COLUMNS = "id, team_id, target, trigger, local_date, due_at, status, attempts, since, channel_id, message_ts"


def claim_scheduled(conn: psycopg.Connection[Any], setting: DigestSetting, *, local_date: date, due_at: datetime,
                    lease_until: datetime, status: str = "claimed", error: str | None = None) -> int | None:
    """Claim the (target, local date) slot; None when another scheduler (or an earlier tick) has it."""
    row = conn.execute(
        """
        INSERT INTO digest_runs (team_id, target, trigger, local_date, due_at, status, lease_until, error)
        VALUES (%s, %s, 'scheduled', %s, %s, %s, %s, %s)
        ON CONFLICT (team_id, target, local_date) WHERE trigger = 'scheduled' DO NOTHING
        RETURNING id
        """,
        (setting.team_id, setting.target, local_date, due_at, status,
         lease_until if status == "claimed" else None, error),
    ).fetchone()
    return None if row is None else int(row["id"])


def claim_now(conn: psycopg.Connection[Any], *, team_id: str, target: str, local_date: date, now: datetime,
              lease_until: datetime, request_key: str) -> int | None:
    """A ``/baton digest now`` run, once per command (``request_key``)."""
    row = conn.execute(
        """
        INSERT INTO digest_runs (team_id, target, trigger, local_date, due_at, lease_until, request_key)
        VALUES (%s, %s, 'now', %s, %s, %s, %s)
        ON CONFLICT (request_key) DO NOTHING
        RETURNING id
        """,
        (team_id, target, local_date, now, lease_until, request_key),
    ).fetchone()
    return None if row is None else int(row["id"])


def load_run(conn: psycopg.Connection[Any], run_id: int) -> RunRecord | None:
    row = conn.execute(f"SELECT {_RUN_COLUMNS} FROM digest_runs WHERE id = %s", (run_id,)).fetchone()
    return None if row is None else RunRecord(**row)


def start_attempt(conn: psycopg.Connection[Any], run_id: int, *, now: datetime, lease_until: datetime) -> bool:
    """Take the run for one send attempt (a live lease of another sender wins)."""
    row = conn.execute(
        "UPDATE digest_runs SET attempts = attempts + 1, lease_until = %s, updated_at = now() "
        "WHERE id = %s AND status = 'claimed' AND (attempts = 0 OR lease_until IS NULL OR lease_until < %s) "
        "RETURNING id",
        (lease_until, run_id, now),
    ).fetchone()
    return row is not None


def expired_claims(conn: psycopg.Connection[Any], *, now: datetime) -> list[int]:
    rows = conn.execute(
        "SELECT id FROM digest_runs WHERE status = 'claimed' AND lease_until < %s ORDER BY id", (now,)
    ).fetchall()
    return [int(row["id"]) for row in rows]


def finish_run(conn: psycopg.Connection[Any], run_id: int, *, status: str, since: datetime | None = None,
               channel_id: str | None = None, message_ts: str | None = None, detail: dict[str, Any] | None = None,
               error: str | None = None) -> bool:
    row = conn.execute(
        """
        UPDATE digest_runs SET status = %s, since = coalesce(%s, since), channel_id = %s, message_ts = %s,
               detail = %s, error = %s, lease_until = NULL, updated_at = now()
         WHERE id = %s AND status = 'claimed'
        RETURNING id
        """,
        (status, since, channel_id, message_ts, json.dumps(detail or {}, default=str), error, run_id),
    ).fetchone()
    return row is not None


def mark_sent(conn: psycopg.Connection[Any], *, team_id: str, target: str, at: datetime) -> None:
    conn.execute(
        "UPDATE digest_settings SET last_sent_at = greatest(coalesce(last_sent_at, %s), %s) "
        "WHERE team_id = %s AND target = %s",
        (at, at, team_id, target),
    )


# -- what a digest reports ----------------------------------------------------------------------------

_PLAN_FACT = "id, title, status, channel_id, requester_id, risk, decided_by, card_channel, card_ts"


def pending_plans(conn: psycopg.Connection[Any], *, team_id: str, channel_id: str | None, now: datetime,
                  limit: int = 200) -> list[dict[str, Any]]:
    """Plans waiting for a decision (in one channel, or the whole workspace), oldest first."""
    return conn.execute(
        f"SELECT {_PLAN_FACT}, created_at AS at FROM plans WHERE team_id = %s AND status = 'pending' "
        "AND expires_at > %s AND (%s::text IS NULL OR channel_id = %s) ORDER BY created_at LIMIT %s",
        (team_id, now, channel_id, channel_id, limit),
    ).fetchall()


def finished_plans(conn: psycopg.Connection[Any], *, team_id: str, channel_id: str, since: datetime,
                   until: datetime, limit: int = 200) -> list[dict[str, Any]]:
    """Plans that ran, failed, expired or were rejected in the window, newest first."""
    return conn.execute(
        f"SELECT {_PLAN_FACT}, updated_at AS at FROM plans WHERE team_id = %s AND channel_id = %s "
        "AND status IN ('succeeded', 'failed', 'compensated', 'expired', 'rejected') "
        "AND updated_at > %s AND updated_at <= %s ORDER BY updated_at DESC LIMIT %s",
        (team_id, channel_id, since, until, limit),
    ).fetchall()


def requested_plans(conn: psycopg.Connection[Any], *, team_id: str, user_id: str, since: datetime,
                    until: datetime, limit: int = 100) -> list[dict[str, Any]]:
    """Plans the person asked for: still pending, or changed in the window."""
    return conn.execute(
        f"SELECT {_PLAN_FACT}, updated_at AS at FROM plans WHERE team_id = %s AND requester_id = %s "
        "AND (status = 'pending' OR (updated_at > %s AND updated_at <= %s)) ORDER BY updated_at DESC LIMIT %s",
        (team_id, user_id, since, until, limit),
    ).fetchall()


def due_tasks(conn: psycopg.Connection[Any], *, team_id: str, today: date, channel_id: str | None = None,
              owner_id: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
    """Open tasks due today or earlier: of a channel (its meetings and plans), or of one owner."""
    return conn.execute(
        """
        SELECT t.id AS task_id, t.title, t.owner_id, t.due_date, m.card_channel, m.card_ts
          FROM tasks t
          LEFT JOIN meeting_items i ON i.task_id = t.id
          LEFT JOIN meetings m ON m.id = i.meeting_id
         WHERE t.team_id = %s AND t.status = 'open' AND t.due_date IS NOT NULL AND t.due_date <= %s
           AND (%s::text IS NULL OR t.owner_id = %s)
           AND (%s::text IS NULL OR m.channel_id = %s OR t.source_link = %s)
         ORDER BY t.due_date, t.id
         LIMIT %s
        """,
        (team_id, today, owner_id, owner_id, channel_id, channel_id,
         f"slack://channel?team={team_id}&id={channel_id}", limit),
    ).fetchall()


def open_tasks_of(conn: psycopg.Connection[Any], *, team_id: str, owner_id: str, limit: int = 50
                  ) -> list[dict[str, Any]]:
    """A person's open tasks, soonest due first (App Home)."""
    return conn.execute(
        "SELECT t.id AS task_id, t.title, t.owner_id, t.due_date, m.card_channel, m.card_ts FROM tasks t "
        "LEFT JOIN meeting_items i ON i.task_id = t.id LEFT JOIN meetings m ON m.id = i.meeting_id "
        "WHERE t.team_id = %s AND t.owner_id = %s AND t.status = 'open' "
        "ORDER BY t.due_date NULLS LAST, t.id LIMIT %s",
        (team_id, owner_id, limit),
    ).fetchall()


def meetings_posted(conn: psycopg.Connection[Any], *, team_id: str, channel_id: str, since: datetime,
                    until: datetime) -> list[dict[str, Any]]:
    return conn.execute(
        """
        SELECT m.id, coalesce(m.file_name, 'pasted transcript') AS title, m.card_channel, m.card_ts,
               m.created_at AS at, jsonb_array_length(coalesce(m.notes->'decisions', '[]'::jsonb)) AS decisions,
               (SELECT count(*) FROM meeting_items i WHERE i.meeting_id = m.id) AS action_items
          FROM meetings m
         WHERE m.team_id = %s AND m.card_channel = %s AND m.status = 'summarized'
           AND m.created_at > %s AND m.created_at <= %s
         ORDER BY m.created_at
        """,
        (team_id, channel_id, since, until),
    ).fetchall()


def new_memories(conn: psycopg.Connection[Any], *, team_id: str, channel_id: str, since: datetime,
                 until: datetime, limit: int = 20) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT id, text, kind, source_link AS link, created_at AS at FROM memories "
        "WHERE team_id = %s AND scope = 'channel' AND channel_id = %s AND superseded_by IS NULL "
        "AND kind IN ('decision', 'fact', 'preference') AND created_at > %s AND created_at <= %s "
        "ORDER BY created_at DESC LIMIT %s",
        (team_id, channel_id, since, until, limit),
    ).fetchall()


def llm_cost(conn: psycopg.Connection[Any], *, team_id: str, channel_id: str, since: datetime,
             until: datetime) -> tuple[Decimal, int]:
    """The channel's model spend in the window: (USD, calls), through the requests the calls served."""
    row = conn.execute(
        "SELECT coalesce(sum(l.cost_usd), 0) AS cost, count(*) AS calls FROM llm_calls l "
        "JOIN requests r ON r.id = l.request_id "
        "WHERE l.team_id = %s AND r.channel_id = %s AND l.at > %s AND l.at <= %s",
        (team_id, channel_id, since, until),
    ).fetchone()
    assert row is not None
    return Decimal(row["cost"]), int(row["calls"])
