"""The ``llm_calls`` log: one row per call to a language model, successful or not, and the spend queries
that budgets and ``/baton budget`` read from it.

A row is attributed to what the call served (team, channel, user, request, plan, meeting, digest
run), so spend can be summed per request, meeting, digest, channel, user and day. A *day* is a UTC
calendar day: callers pass ``[day_start, day_end)`` from :func:`utc_day`. Rows with
``cost_known = false`` were answered by a model without a price: their ``cost_usd`` is 0 and is not
a real figure. A cache hit (``cache_hit``) cost nothing; a call a budget stopped has an ``error``
starting with :data:`REFUSED_PREFIX` and no tokens.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg

#: The ``error`` of a row recording a call that a budget stopped before it was made.
REFUSED_PREFIX = "not called: "


@dataclass(frozen=True)
class LLMCallRecord:
    """One LLM call, shaped like a row of ``llm_calls`` (``input_tokens`` includes ``cached_tokens``).

    ``at`` is when it happened (None: the database's clock); ``fallback_from`` names the model that
    failed before this call was made to the fallback model.
    """

    team_id: str
    purpose: str
    model: str
    ok: bool
    request_id: int | None = None
    plan_id: int | None = None
    template: str | None = None
    template_hash: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    latency_ms: int = 0
    cost_usd: Decimal = Decimal(0)
    error: str | None = None
    channel_id: str | None = None
    user_id: str | None = None
    meeting_id: int | None = None
    digest_run_id: int | None = None
    cost_known: bool = True
    cache_hit: bool = False
    fallback_from: str | None = None
    at: datetime | None = None


_INSERT = """
INSERT INTO llm_calls (team_id, request_id, plan_id, purpose, model, template, template_hash, input_tokens,
                       output_tokens, cached_tokens, latency_ms, cost_usd, ok, error, channel_id, user_id,
                       meeting_id, digest_run_id, cost_known, cache_hit, fallback_from, at)
VALUES (%(team_id)s, %(request_id)s, %(plan_id)s, %(purpose)s, %(model)s, %(template)s, %(template_hash)s,
        %(input_tokens)s, %(output_tokens)s, %(cached_tokens)s, %(latency_ms)s, %(cost_usd)s, %(ok)s, %(error)s,
        %(channel_id)s, %(user_id)s, %(meeting_id)s, %(digest_run_id)s, %(cost_known)s, %(cache_hit)s,
        %(fallback_from)s, coalesce(%(at)s, now()))
RETURNING id
"""


def record_llm_call(conn: psycopg.Connection[Any], record: LLMCallRecord) -> int:
    """Insert ``record`` into ``llm_calls`` and return the new row's id."""
    row = conn.execute(_INSERT, asdict(record)).fetchone()
    assert row is not None  # INSERT ... RETURNING always returns the row
    return int(row["id"] if isinstance(row, dict) else row[0])


def utc_day(moment: datetime) -> tuple[datetime, datetime]:
    """The UTC calendar day holding ``moment``, as ``[start, end)``: the "day" of the daily budgets."""
    start = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


@dataclass(frozen=True)
class DaySpend:
    """USD spent in one day by one channel (None when no channel was asked about) and the whole workspace."""

    channel_usd: Decimal | None
    workspace_usd: Decimal


def spent_today(conn: psycopg.Connection[Any], team_id: str, channel_id: str | None, day_start: datetime,
                day_end: datetime) -> DaySpend:
    """What the workspace, and ``channel_id`` in it, spent in ``[day_start, day_end)``."""
    row = _one(conn, """
        SELECT coalesce(sum(cost_usd) FILTER (WHERE channel_id = %(channel)s), 0) AS channel,
               coalesce(sum(cost_usd), 0) AS workspace
        FROM llm_calls WHERE team_id = %(team)s AND at >= %(start)s AND at < %(end)s
        """, {"team": team_id, "channel": channel_id, "start": day_start, "end": day_end})
    return DaySpend(channel_usd=None if channel_id is None else Decimal(row["channel"]),
                    workspace_usd=Decimal(row["workspace"]))


#: The columns that name a per-request budget scope, most specific first.
SCOPE_COLUMNS = ("meeting_id", "digest_run_id", "request_id", "plan_id")


def spent_for_scope(conn: psycopg.Connection[Any], *, request_id: int | None = None, meeting_id: int | None = None,
                    digest_run_id: int | None = None, plan_id: int | None = None) -> tuple[Decimal, int]:
    """(USD, input + output tokens) of every call made for one request, meeting, digest run or plan.

    Exactly one id is given: a meeting's calls also carry the request that asked for it, so the
    narrower id is the one to pass (see ``workers.llm.client.CallScope.budget_key``).
    """
    given = {"request_id": request_id, "meeting_id": meeting_id, "digest_run_id": digest_run_id, "plan_id": plan_id}
    chosen = [(column, value) for column, value in given.items() if value is not None]
    if len(chosen) != 1:
        raise ValueError("give exactly one of request_id, meeting_id, digest_run_id, plan_id")
    [(column, value)] = chosen
    assert column in SCOPE_COLUMNS  # a fixed column name, never user input
    row = _one(conn, f"SELECT coalesce(sum(cost_usd), 0) AS usd, "
                     f"coalesce(sum(input_tokens + output_tokens), 0) AS tokens FROM llm_calls WHERE {column} = %s",
               (value,))
    return Decimal(row["usd"]), int(row["tokens"])


@dataclass(frozen=True)
class SpendLine:
    """Spend of one channel, model, purpose or user: ``calls`` made to the API (cache hits and calls a budget
    stopped are counted apart), USD, tokens, and how many calls had no price (their cost is not counted)."""

    key: str
    calls: int = 0
    usd: Decimal = Decimal(0)
    tokens: int = 0
    unknown_cost_calls: int = 0
    cache_hits: int = 0
    refused: int = 0


@dataclass(frozen=True)
class BudgetReport:
    """Spend in a window: one channel, the workspace, and the workspace by model, purpose and top user."""

    channel: SpendLine
    workspace: SpendLine
    models: tuple[SpendLine, ...]
    purposes: tuple[SpendLine, ...]
    users: tuple[SpendLine, ...]


_LINE = f"""
SELECT {{key}} AS key,
       count(*) FILTER (WHERE NOT cache_hit AND coalesce(error, '') NOT LIKE '{REFUSED_PREFIX}%%') AS calls,
       coalesce(sum(cost_usd), 0) AS usd,
       coalesce(sum(input_tokens + output_tokens), 0) AS tokens,
       count(*) FILTER (WHERE NOT cost_known) AS unknown_cost_calls,
       count(*) FILTER (WHERE cache_hit) AS cache_hits,
       count(*) FILTER (WHERE coalesce(error, '') LIKE '{REFUSED_PREFIX}%%') AS refused
FROM llm_calls
WHERE team_id = %(team)s AND at >= %(since)s AND at < %(until)s {{where}}
GROUP BY 1 ORDER BY usd DESC, calls DESC, key LIMIT %(limit)s
"""


def budget_report(conn: psycopg.Connection[Any], team_id: str, channel_id: str, since: datetime, until: datetime,
                  *, top: int = 5) -> BudgetReport:
    """Spend in ``[since, until)``: the channel, the workspace, and the workspace's ``top`` models, purposes and
    users by cost (models with unknown prices are always listed, so none is hidden from the flag)."""
    params = {"team": team_id, "channel": channel_id, "since": since, "until": until, "limit": top}

    def lines(key: str, where: str = "", limit: int = top) -> tuple[SpendLine, ...]:
        rows = conn.execute(_LINE.format(key=key, where=where), {**params, "limit": limit}).fetchall()
        return tuple(_line(row) for row in rows)

    channel = lines("%(channel)s::text", "AND channel_id = %(channel)s", 1)
    workspace = lines("'workspace'", "", 1)
    models = lines("model", "", 1000)
    shown = [line for i, line in enumerate(models) if i < top or line.unknown_cost_calls]
    return BudgetReport(
        channel=channel[0] if channel else SpendLine(key=channel_id),
        workspace=workspace[0] if workspace else SpendLine(key="workspace"),
        models=tuple(shown),
        purposes=lines("purpose"),
        users=lines("user_id", "AND user_id IS NOT NULL"),
    )


def _line(row: dict[str, Any]) -> SpendLine:
    return SpendLine(key=str(row["key"]), calls=int(row["calls"]), usd=Decimal(row["usd"]), tokens=int(row["tokens"]),
                     unknown_cost_calls=int(row["unknown_cost_calls"]), cache_hits=int(row["cache_hits"]),
                     refused=int(row["refused"]))


def _one(conn: psycopg.Connection[Any], query: str, params: Any) -> dict[str, Any]:
    row = conn.execute(query, params).fetchone()  # aggregates always return one row
    assert row is not None
    return dict(row)
