"""Plans and their steps in Postgres, with guarded state transitions.

Every change checks the state machine in ``core.states`` and then updates ``WHERE status = <old>``,
so two concurrent changes (two approvers, a double click, a replayed request, two workers) cannot
both win: exactly one UPDATE matches, the other sees who won.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

import psycopg

from core.plan_records import Decision, PlanRecord, StepRecord, StepWait
from core.states import InvalidTransition, plan_transition, step_transition
from core.types import RequestOrigin, ReviewedPlan

_PLAN_COLUMNS = (
    "id, request_id, team_id, channel_id, channel_type, thread_ts, requester_id, title, rationale, planner, risk, "
    "status, card_channel, card_ts, expires_at, decided_by, decided_at, decision_reason, auto_approved, tokens_in, "
    "tokens_out, cost_usd, created_at, message_ts, kind, degraded_reason, cost_known"
)
_STEP_COLUMNS = (
    "plan_id, idx, action, args, description, depends_on, preview, risk, read_only, compensable, selected, status, "
    "attempts, lease_until, result, error, pin, at_most_once, rerun, asked_ts, settled_by, settled_as"
)


def insert_plan(
    conn: psycopg.Connection[Any],
    *,
    request_id: int,
    origin: RequestOrigin,
    plan: ReviewedPlan,
    expires_at: datetime,
    tokens_in: int = 0,
    tokens_out: int = 0,
    cost_usd: Decimal = Decimal(0),
    kind: str = "request",
    degraded_reason: str | None = None,
    cost_known: bool = True,
) -> tuple[int, bool]:
    """Store a proposed plan (status ``pending``) with its steps. Returns (plan id, created now?).

    ``degraded_reason`` says why the rules planner made it instead of the model (shown on its card).

    A request has at most one plan: re-running the planning job finds the existing one.
    """
    with conn.transaction():
        row = conn.execute(
            """
            INSERT INTO plans (request_id, team_id, channel_id, channel_type, thread_ts, requester_id, title,
                               rationale, planner, risk, expires_at, tokens_in, tokens_out, cost_usd, message_ts, kind,
                               degraded_reason, cost_known)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            ON CONFLICT (request_id) DO NOTHING
            RETURNING id
            """,
            (
                request_id,
                origin.team_id,
                origin.channel_id,
                origin.channel_type,
                origin.thread_ts,
                origin.user_id,
                plan.title,
                plan.rationale,
                plan.planner,
                plan.risk.value,
                expires_at,
                tokens_in,
                tokens_out,
                cost_usd,
                origin.message_ts,
                kind,
                degraded_reason,
                cost_known,
            ),
        ).fetchone()
        if row is None:
            existing = conn.execute("SELECT id FROM plans WHERE request_id = %s", (request_id,)).fetchone()
            assert existing is not None
            return int(existing["id"]), False
        plan_id = int(row["id"])
        _insert_steps(conn, plan_id, plan)
        return plan_id, True


def replace_steps(conn: psycopg.Connection[Any], plan_id: int, plan: ReviewedPlan) -> None:
    """Swap a pending plan's steps (and risk) for ``plan``'s: a meeting card's edits, applied under the
    plan's row lock in the same transaction that approves it."""
    conn.execute("DELETE FROM plan_steps WHERE plan_id = %s", (plan_id,))
    conn.execute("UPDATE plans SET risk = %s, updated_at = now() WHERE id = %s", (plan.risk.value, plan_id))
    _insert_steps(conn, plan_id, plan)


def _insert_steps(conn: psycopg.Connection[Any], plan_id: int, plan: ReviewedPlan) -> None:
    for step in plan.steps:
        conn.execute(
            """
            INSERT INTO plan_steps (plan_id, idx, action, args, description, depends_on, preview, risk,
                                    read_only, compensable, pin, at_most_once)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            """,
            (
                plan_id,
                step.index,
                step.action,
                json.dumps(dict(step.args), default=str),
                step.description,
                list(step.depends_on),
                step.preview,
                step.risk.value,
                step.read_only,
                step.compensable,
                step.pin,
                step.at_most_once,
            ),
        )


def load_plan(conn: psycopg.Connection[Any], plan_id: int, *, team_id: str | None = None) -> PlanRecord | None:
    """A plan with its steps; with ``team_id``, only if it belongs to that workspace."""
    row = conn.execute(f"SELECT {_PLAN_COLUMNS} FROM plans WHERE id = %s", (plan_id,)).fetchone()
    if row is None or (team_id is not None and row["team_id"] != team_id):
        return None
    steps = conn.execute(_STEPS_WITH_WAITS, (plan_id,))
    return PlanRecord(**row, steps=tuple(_step(step) for step in steps.fetchall()))


#: A plan's steps, each with its parking record while it waits: parked and not yet taken up again (a runner that
#: claims it moves its lease off the parked ``retry_at``; ``memory.parking``).
_STEPS_WITH_WAITS = (
    "SELECT " + ", ".join(f"s.{column.strip()}" for column in _STEP_COLUMNS.split(",")) + ", "
    "k.retry_at AS wait_retry_at, k.parks AS wait_parks, k.since AS wait_since, k.reason AS wait_reason "
    "FROM plan_steps s LEFT JOIN parked_steps k ON k.plan_id = s.plan_id AND k.idx = s.idx "
    "AND s.status = 'running' AND s.lease_until = k.retry_at "
    "WHERE s.plan_id = %s ORDER BY s.idx"
)


def _step(row: dict[str, Any]) -> StepRecord:
    wait = {name: row.pop(f"wait_{name}") for name in ("retry_at", "parks", "since", "reason")}
    parked = StepWait(**wait) if wait["retry_at"] is not None else None
    return StepRecord(**row, parked=parked)


def set_card(conn: psycopg.Connection[Any], plan_id: int, *, channel: str, ts: str) -> None:
    """Record where the plan's card is."""
    conn.execute("UPDATE plans SET card_channel = %s, card_ts = %s WHERE id = %s", (channel, ts, plan_id))


def set_card_due(conn: psycopg.Connection[Any], plan_id: int, *, due_at: datetime) -> None:
    """Record that the plan's card waits for its channel's turn until ``due_at`` (a job posts it then)."""
    conn.execute("UPDATE plans SET card_due_at = %s WHERE id = %s", (due_at, plan_id))


def adopt_thread(conn: psycopg.Connection[Any], plan_id: int, ts: str) -> None:
    """A plan with no thread (a ``/baton`` command) takes the thread its card starts at ``ts``."""
    conn.execute("UPDATE plans SET thread_ts = %s WHERE id = %s AND thread_ts IS NULL", (ts, plan_id))


def plan_of_request(conn: psycopg.Connection[Any], request_id: int) -> int | None:
    """The id of the plan made for ``request_id``, if one was."""
    row = conn.execute("SELECT id FROM plans WHERE request_id = %s", (request_id,)).fetchone()
    return None if row is None else int(_column(row, "id"))


def team_of(conn: psycopg.Connection[Any], plan_id: int) -> str | None:
    """The workspace of plan ``plan_id``, or None when there is no such plan."""
    row = conn.execute("SELECT team_id FROM plans WHERE id = %s", (plan_id,)).fetchone()
    return None if row is None else str(_column(row, "team_id"))


def _column(row: Any, name: str) -> Any:
    return row[name] if isinstance(row, dict) else row[0]


def decide(
    conn: psycopg.Connection[Any],
    plan_id: int,
    *,
    event: str,
    user_id: str,
    now: datetime,
    reason: str | None = None,
    auto: bool = False,
) -> Decision:
    """Approve or reject a pending plan in one guarded UPDATE.

    Not pending (someone else decided, or it expired) or past ``expires_at``: nothing changes and the
    current status and decider are returned, for the "already approved by @x" answer.
    """
    new_status = plan_transition("pending", event)
    row = conn.execute(
        """
        UPDATE plans SET status = %s, decided_by = %s, decided_at = %s, decision_reason = %s,
                         auto_approved = %s, updated_at = %s
        WHERE id = %s AND status = 'pending' AND expires_at > %s
        RETURNING status, decided_by
        """,
        (new_status, user_id, now, reason, auto, now, plan_id, now),
    ).fetchone()
    if row is not None:
        return Decision(True, row["status"], row["decided_by"], auto)
    current = conn.execute("SELECT status, decided_by, expires_at FROM plans WHERE id = %s", (plan_id,)).fetchone()
    if current is None:
        return Decision(False, "missing", None)
    status = current["status"]
    if status == "pending" and current["expires_at"] <= now:
        status = "expired"
    return Decision(False, status, current["decided_by"])


def expire_due(conn: psycopg.Connection[Any], *, now: datetime) -> list[int]:
    """Mark every pending plan past its expiry as ``expired``; return their ids."""
    plan_transition("pending", "expire")
    rows = conn.execute(
        """
        UPDATE plans SET status = 'expired', updated_at = %s
        WHERE status = 'pending' AND expires_at <= %s
        RETURNING id
        """,
        (now, now),
    ).fetchall()
    return [row["id"] for row in rows]


def move_plan(conn: psycopg.Connection[Any], plan_id: int, *, event: str, frm: str, now: datetime) -> bool:
    """Guarded plan transition ``frm`` --event--> next; False if the plan was not in ``frm``."""
    to = plan_transition(frm, event)
    row = conn.execute(
        "UPDATE plans SET status = %s, updated_at = %s WHERE id = %s AND status = %s RETURNING id",
        (to, now, plan_id, frm),
    ).fetchone()
    return row is not None


def lock_plan(conn: psycopg.Connection[Any], plan_id: int) -> None:
    """Hold the plan's row lock until the surrounding transaction ends (serialises decisions)."""
    conn.execute("SELECT id FROM plans WHERE id = %s FOR UPDATE", (plan_id,))


def select_steps(conn: psycopg.Connection[Any], plan_id: int, selected: set[int]) -> None:
    """Record which steps the approver kept (Review steps), before any step has started.

    Call it only as the winner of :func:`decide`, in the same transaction (see ``bot.approvals``).
    """
    conn.execute(
        """
        UPDATE plan_steps s SET selected = (s.idx = ANY(%s))
        FROM plans p WHERE p.id = s.plan_id AND p.id = %s AND p.status IN ('pending', 'approved')
          AND s.status = 'pending'
        """,
        (sorted(selected), plan_id),
    )


def claim_step(
    conn: psycopg.Connection[Any], plan_id: int, idx: int, *, now: datetime, lease_until: datetime
) -> str | None:
    """Take a step to run: ``pending`` -> ``running``, or resume a ``running`` step whose lease expired.

    Returns the event applied (``claim`` / ``resume``) or None if the step is not ours to run
    (finished, or another worker holds a live lease).
    """
    row = conn.execute(
        """
        UPDATE plan_steps SET status = 'running', lease_until = %s, attempts = attempts + 1, updated_at = %s
        WHERE plan_id = %s AND idx = %s
          AND (status = 'pending' OR (status = 'running' AND (lease_until IS NULL OR lease_until < %s)))
        RETURNING attempts
        """,
        (lease_until, now, plan_id, idx, now),
    ).fetchone()
    if row is None:
        return None
    return "claim" if row["attempts"] == 1 else "resume"


def finish_step(
    conn: psycopg.Connection[Any],
    plan_id: int,
    idx: int,
    *,
    event: str,
    frm: str,
    now: datetime,
    result: dict[str, Any] | None = None,
    error: str | None = None,
) -> bool:
    """Guarded step transition (succeed / fail / skip / undo / undone / undo_failed)."""
    try:
        to = step_transition(frm, event)
    except InvalidTransition:
        return False
    row = conn.execute(
        """
        UPDATE plan_steps SET status = %s, lease_until = NULL, updated_at = %s,
               result = COALESCE(%s::jsonb, result), error = COALESCE(%s, error)
        WHERE plan_id = %s AND idx = %s AND status = %s
        RETURNING idx
        """,
        (to, now, None if result is None else json.dumps(result, default=str), error, plan_id, idx, frm),
    ).fetchone()
    return row is not None


def extend_lease(conn: psycopg.Connection[Any], plan_id: int, idx: int, *, lease_until: datetime) -> None:
    conn.execute(
        "UPDATE plan_steps SET lease_until = %s "
        "WHERE plan_id = %s AND idx = %s AND status IN ('running', 'compensating')",
        (lease_until, plan_id, idx),
    )


def plans_with_expired_leases(conn: psycopg.Connection[Any], *, now: datetime) -> list[int]:
    """Plans with a step stuck in ``running``/``compensating`` past its lease (its worker died)."""
    rows = conn.execute(
        """
        SELECT DISTINCT s.plan_id FROM plan_steps s JOIN plans p ON p.id = s.plan_id
        WHERE s.status IN ('running', 'compensating') AND s.lease_until < %s AND p.status IN ('running', 'failed')
        ORDER BY s.plan_id
        """,
        (now,),
    ).fetchall()
    return [row["plan_id"] for row in rows]


def approved_not_started(conn: psycopg.Connection[Any], *, older_than: datetime) -> list[int]:
    """Approved plans whose execution job never started (Redis blip at approval time)."""
    # A plan whose card waits for its turn starts when the card is up (its card job enqueues it).
    rows = conn.execute(
        "SELECT id FROM plans WHERE status = 'approved' AND updated_at < %(older)s "
        "AND NOT (card_ts IS NULL AND card_due_at IS NOT NULL AND card_due_at >= %(older)s) ORDER BY id",
        {"older": older_than},
    ).fetchall()
    return [row["id"] for row in rows]


def cardless_plans(conn: psycopg.Connection[Any], *, older_than: datetime, newer_than: datetime) -> list[int]:
    """Plans of requests made since ``newer_than`` whose card is not up although it was due before ``older_than``
    (made then, or deferred to a turn then): its job was lost with Redis, or Slack refused the post."""
    rows = conn.execute(
        "SELECT id FROM plans WHERE kind = 'request' AND card_ts IS NULL AND created_at > %s "
        "AND COALESCE(card_due_at, created_at) < %s ORDER BY id",
        (newer_than, older_than),
    ).fetchall()
    return [row["id"] for row in rows]


def stalled_plans(conn: psycopg.Connection[Any], *, now: datetime, older_than: datetime) -> list[int]:
    """Plans whose runner stopped between steps, during compensation, or before reporting.

    Approved-and-started plans that are not final-and-reported, with no step holding a live lease, and
    no progress since ``older_than``: re-running them is safe (every step and the report are claimed).
    """
    rows = conn.execute(
        """
        SELECT p.id FROM plans p
        WHERE p.status IN ('running', 'failed', 'succeeded', 'compensated')
          AND NOT EXISTS (SELECT 1 FROM effects e WHERE e.key = 'baton-plan-' || p.id || '-report')
          AND NOT EXISTS (SELECT 1 FROM plan_steps s WHERE s.plan_id = p.id
                          AND s.status IN ('running', 'compensating') AND s.lease_until >= %(now)s)
          -- a plan waiting for a person to settle a step whose outcome is unknown (and asked) waits for them
          AND NOT EXISTS (SELECT 1 FROM plan_steps s WHERE s.plan_id = p.id
                          AND s.status = 'outcome_unknown' AND s.asked_ts IS NOT NULL)
          AND GREATEST(p.updated_at, COALESCE((SELECT max(s.updated_at) FROM plan_steps s WHERE s.plan_id = p.id),
                                              p.updated_at)) < %(older)s
        ORDER BY p.id
        """,
        {"now": now, "older": older_than},
    ).fetchall()
    return [row["id"] for row in rows]
