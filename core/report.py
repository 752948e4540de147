"""The seed metrics of ``baton report``, computed from plain rows (pure: no I/O, the clock is passed in).

Over the plans created in the period ``[since, until)``:

- **workflow completion rate** = succeeded / (succeeded + failed + compensated + expired + rejected):
  of the plans that reached an end, the share that did what was asked. Plans still pending, approved or
  running are not counted either way.
- **mean time to recovery** of failed steps: for each step of those plans whose audit trail shows a
  failure, the time from its first failure to its first ``step.succeeded`` after it, averaged over the
  steps that did recover. A failure is what the executor records: ``step.retry`` (a transient error;
  it retries the same step), ``step.failed`` (a permanent error or retries exhausted), or a
  ``step.resumed`` (its worker was lost: the failure is dated at the step's last ``step.claimed``
  before it, since nothing records the moment the worker died). Steps that never recovered are left
  out of the mean and counted as ``unrecovered_steps``.
- **human override frequency** = (rejected + edited) / plans decided by a person (not auto-approved by
  the policy). *Edited* means approved through "Review steps" with steps left out: the plan ran, but
  not as proposed.
- **token cost per completed workflow** = the model cost of succeeded plans (every LLM call made for
  the plan's request or the plan) / the number of succeeded plans. Calls whose price was unknown cost 0
  here and are counted as ``unpriced_calls``.
- **approvals' median wait** = the median of (decided - proposed) over plans decided by a person.

Every rate or mean over nothing is None (shown as "n/a"), never a division by zero.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

#: Plan statuses that end a workflow (the completion rate's denominator).
FINISHED = ("succeeded", "failed", "compensated", "expired", "rejected")
_FAILURES = ("step.retry", "step.failed")
_RELATIVE = re.compile(r"(\d+)\s*([hdw])")
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}


@dataclass(frozen=True)
class PlanFact:
    """One plan as the report sees it."""

    id: int
    status: str
    created_at: datetime
    decided_at: datetime | None = None
    auto_approved: bool = False
    #: Approved with steps left out ("Review steps").
    edited: bool = False
    llm_cost_usd: Decimal = Decimal(0)
    unpriced_calls: int = 0


@dataclass(frozen=True)
class StepEvent:
    """One audit entry about a step: ``kind`` is ``step.claimed``, ``step.retry``, ``step.succeeded``, ..."""

    plan_id: int
    step: int
    kind: str
    at: datetime


@dataclass(frozen=True)
class Report:
    """The five seed metrics and the counts behind them."""

    since: datetime
    until: datetime
    plans: int
    by_status: dict[str, int]
    completion_rate: float | None
    mttr_seconds: float | None
    recovered_steps: int
    unrecovered_steps: int
    human_decisions: int
    overrides: int
    override_rate: float | None
    succeeded: int
    cost_per_completed_usd: Decimal | None
    unpriced_calls: int
    median_approval_wait_seconds: float | None


def build_report(
    plans: list[PlanFact], step_events: list[StepEvent], *, since: datetime, until: datetime
) -> Report:
    """The report over ``plans`` (already limited to the period) and their steps' audit entries."""
    by_status: dict[str, int] = {}
    for plan in plans:
        by_status[plan.status] = by_status.get(plan.status, 0) + 1
    finished = sum(by_status.get(status, 0) for status in FINISHED)
    succeeded = [plan for plan in plans if plan.status == "succeeded"]
    human = [plan for plan in plans if plan.decided_at is not None and not plan.auto_approved]
    overrides = [plan for plan in human if plan.status == "rejected" or plan.edited]
    waits = [(plan.decided_at - plan.created_at).total_seconds() for plan in human if plan.decided_at]
    recoveries, unrecovered = recovery_times(step_events)
    cost = sum((plan.llm_cost_usd for plan in succeeded), Decimal(0))
    return Report(
        since=since,
        until=until,
        plans=len(plans),
        by_status=by_status,
        completion_rate=_ratio(by_status.get("succeeded", 0), finished),
        mttr_seconds=statistics.fmean(recoveries) if recoveries else None,
        recovered_steps=len(recoveries),
        unrecovered_steps=unrecovered,
        human_decisions=len(human),
        overrides=len(overrides),
        override_rate=_ratio(len(overrides), len(human)),
        succeeded=len(succeeded),
        cost_per_completed_usd=(cost / len(succeeded)).quantize(Decimal("0.000001")) if succeeded else None,
        unpriced_calls=sum(plan.unpriced_calls for plan in succeeded),
        median_approval_wait_seconds=statistics.median(waits) if waits else None,
    )


def recovery_times(events: list[StepEvent]) -> tuple[list[float], int]:
    """Seconds from each step's first failure to its first success after it; and how many never recovered."""
    by_step: dict[tuple[int, int], list[StepEvent]] = {}
    for event in sorted(events, key=lambda e: e.at):
        by_step.setdefault((event.plan_id, event.step), []).append(event)
    recovered: list[float] = []
    unrecovered = 0
    for trail in by_step.values():
        seconds = _recovery(trail)
        if isinstance(seconds, float):
            recovered.append(seconds)
        elif seconds == "unrecovered":
            unrecovered += 1
    return recovered, unrecovered


def _recovery(trail: list[StepEvent]) -> float | str:
    """Seconds to recover for one step's time-ordered trail, ``"unrecovered"``, or ``"clean"`` (never failed)."""
    failed_at: datetime | None = None
    last_claim: datetime | None = None
    for event in trail:
        if event.kind == "step.claimed":
            last_claim = event.at
        elif failed_at is None and event.kind in _FAILURES:
            failed_at = event.at
        elif failed_at is None and event.kind == "step.resumed":
            failed_at = last_claim or event.at
        elif event.kind == "step.succeeded" and failed_at is not None:
            return (event.at - failed_at).total_seconds()
    return "clean" if failed_at is None else "unrecovered"


def parse_when(text: str, *, now: datetime) -> datetime:
    """``7d`` / ``24h`` / ``2w`` before ``now``, or a date ``YYYY-MM-DD`` (its midnight, UTC), or an ISO time."""
    value = text.strip().lower()
    match = _RELATIVE.fullmatch(value)
    if match:
        return now - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(0), tzinfo=UTC)
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a period: use 24h, 7d, 2w or a date like 2025-01-31") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None
