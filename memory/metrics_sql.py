"""Observability reads: the facts ``/metrics`` reports from Postgres, and correlation-id look-ups.

:func:`snapshot` runs a handful of aggregate queries in one read-only transaction with a short
``statement_timeout``, so a scrape never hangs on a slow database (it fails, and the collector says so).
Histograms come back cumulative (``count FILTER (WHERE value <= le)`` per bound), ready for Prometheus.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg


@dataclass(frozen=True)
class HistogramRow:
    """One labelled histogram: cumulative counts per upper bound (same order as the bounds), count, sum."""

    labels: tuple[str, ...]
    cumulative: tuple[int, ...]
    count: int
    total: float


@dataclass
class Snapshot:
    """What :func:`snapshot` read; every list holds plain dict rows."""

    events: list[dict[str, Any]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    plans: list[dict[str, Any]] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    approval_wait: list[HistogramRow] = field(default_factory=list)
    llm: list[dict[str, Any]] = field(default_factory=list)
    llm_latency: list[HistogramRow] = field(default_factory=list)
    steps: dict[str, Any] = field(default_factory=dict)
    audit: list[dict[str, Any]] = field(default_factory=list)
    digests: list[dict[str, Any]] = field(default_factory=list)
    followups: list[dict[str, Any]] = field(default_factory=list)


#: A plan decided by a person (not the policy), as the decision it was: rejected, approved with steps
#: left out in "Review steps" (edited), or approved as proposed.
_DECISIONS = """
    SELECT CASE WHEN p.status = 'rejected' THEN 'rejected'
                WHEN EXISTS (SELECT 1 FROM plan_steps s WHERE s.plan_id = p.id AND NOT s.selected) THEN 'edited'
                ELSE 'approved' END AS decision,
           extract(epoch FROM p.decided_at - p.created_at)::float8 AS value
    FROM plans p
    WHERE p.decided_at IS NOT NULL AND NOT p.auto_approved
"""


def snapshot(
    conn: psycopg.Connection[Any],
    *,
    timeout_ms: int,
    latency_buckets: Sequence[float],
    wait_buckets: Sequence[float],
) -> Snapshot:
    """Read every metric fact in one transaction limited to ``timeout_ms`` per statement."""
    found = Snapshot()
    with conn.transaction():
        conn.execute("SET TRANSACTION READ ONLY")
        conn.execute(f"SET LOCAL statement_timeout = {int(timeout_ms)}")

        def rows(sql: str) -> list[dict[str, Any]]:
            return [dict(row) for row in conn.execute(sql).fetchall()]

        found.events = rows("SELECT event_type, count(*) AS n FROM slack_events GROUP BY event_type")
        found.requests = rows("SELECT source, status, count(*) AS n FROM requests GROUP BY source, status")
        found.plans = rows("SELECT kind, status, count(*) AS n FROM plans GROUP BY kind, status")
        found.decisions = rows(f"SELECT decision, count(*) AS n FROM ({_DECISIONS}) d GROUP BY decision")
        found.approval_wait = _histogram(conn, _DECISIONS, ("decision",), wait_buckets)
        found.llm = rows(
            """
            SELECT model, purpose, ok, cache_hit, cost_known, count(*) AS n,
                   coalesce(sum(input_tokens), 0) AS input_tokens, coalesce(sum(output_tokens), 0) AS output_tokens,
                   coalesce(sum(cached_tokens), 0) AS cached_tokens, coalesce(sum(cost_usd), 0) AS cost_usd
            FROM llm_calls GROUP BY model, purpose, ok, cache_hit, cost_known
            """
        )
        found.llm_latency = _histogram(
            conn,
            "SELECT model, purpose, latency_ms / 1000.0::float8 AS value FROM llm_calls WHERE NOT cache_hit",
            ("model", "purpose"),
            latency_buckets,
        )
        step_row = conn.execute(
            """
            SELECT count(*) FILTER (WHERE status = 'compensated') AS compensated,
                   count(*) FILTER (WHERE status = 'compensation_failed') AS compensation_failed,
                   coalesce(sum(attempts - 1) FILTER (WHERE attempts > 1), 0) AS resumed
            FROM plan_steps
            """
        ).fetchone()
        found.steps = dict(step_row or {})
        found.audit = rows(
            """
            SELECT kind, coalesce(detail->>'what', '') AS what, count(*) AS n FROM audit_log
            WHERE kind IN ('step.retry', 'step.parked', 'reconcile.recovered') GROUP BY kind, what
            """
        )
        found.digests = rows('SELECT "trigger", status, count(*) AS n FROM digest_runs GROUP BY "trigger", status')
        found.followups = rows("SELECT kind, status, count(*) AS n FROM followups GROUP BY kind, status")
    return found


def _histogram(
    conn: psycopg.Connection[Any], source: str, labels: tuple[str, ...], buckets: Sequence[float]
) -> list[HistogramRow]:
    """Cumulative bucket counts of ``source``'s ``value`` column per ``labels`` (one scan)."""
    # The bounds are the caller's float constants, never user input; rendering them keeps this one scan.
    bounds = ", ".join(
        f"count(*) FILTER (WHERE value <= {float(b)!r}) AS b{i}" for i, b in enumerate(buckets)
    )
    group = ", ".join(labels)
    sql = (
        f"SELECT {group}, count(*) AS n, coalesce(sum(value), 0)::float8 AS total, {bounds} "
        f"FROM ({source}) src GROUP BY {group}"
    )
    return [
        HistogramRow(
            labels=tuple(str(row[name]) for name in labels),
            cumulative=tuple(int(row[f"b{i}"]) for i in range(len(buckets))),
            count=int(row["n"]),
            total=float(row["total"]),
        )
        for row in conn.execute(sql).fetchall()
    ]


# -- correlation ids --------------------------------------------------------------------------------
_REQUEST_OF = {
    "plan": "SELECT request_id FROM plans WHERE id = %s",
    "meeting": "SELECT request_id FROM meetings WHERE id = %s",
    "followup": "SELECT m.request_id FROM followups f JOIN meetings m ON m.id = f.meeting_id WHERE f.id = %s",
}


def request_of(
    conn: psycopg.Connection[Any], *, plan: int | None = None, meeting: int | None = None, followup: int | None = None
) -> int | None:
    """The request a plan, meeting or follow-up serves (for its ``req-<id>`` correlation id), or None."""
    kind, ident = _one_of(plan=plan, meeting=meeting, followup=followup)
    row = conn.execute(_REQUEST_OF[kind], (ident,)).fetchone()
    return int(row["request_id"]) if row else None


async def request_of_async(
    conn: psycopg.AsyncConnection[Any], *, plan: int | None = None, meeting: int | None = None
) -> int | None:
    """:func:`request_of` for the web process's async pool."""
    kind, ident = _one_of(plan=plan, meeting=meeting)
    cursor = await conn.execute(_REQUEST_OF[kind], (ident,))
    row = await cursor.fetchone()
    return int(row["request_id"]) if row else None


def _one_of(**given: int | None) -> tuple[str, int]:
    chosen = [(kind, ident) for kind, ident in given.items() if ident is not None]
    if len(chosen) != 1:
        raise ValueError("pass exactly one of " + ", ".join(given))
    return chosen[0]
