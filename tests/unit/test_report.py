"""The seed metrics of ``baton report`` from plain rows (core.report)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from core.report import PlanFact, StepEvent, build_report, parse_when, recovery_times

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
SINCE, UNTIL = T0 - timedelta(days=7), T0 + timedelta(days=1)


def plan(id_: int, status: str, *, wait_s: float | None = None, auto: bool = False, edited: bool = False,
         cost: str = "0", unpriced: int = 0) -> PlanFact:
    decided = T0 + timedelta(seconds=wait_s) if wait_s is not None else None
    return PlanFact(id=id_, status=status, created_at=T0, decided_at=decided, auto_approved=auto, edited=edited,
                    llm_cost_usd=Decimal(cost), unpriced_calls=unpriced)


def step(plan_id: int, idx: int, kind: str, seconds: float) -> StepEvent:
    return StepEvent(plan_id=plan_id, step=idx, kind=kind, at=T0 + timedelta(seconds=seconds))


def test_an_empty_period_is_zeros_and_not_available():
    report = build_report([], [], since=SINCE, until=UNTIL)
    assert report.plans == 0 and report.succeeded == 0 and report.human_decisions == 0
    assert report.completion_rate is None and report.mttr_seconds is None and report.override_rate is None
    assert report.cost_per_completed_usd is None and report.median_approval_wait_seconds is None


def test_completion_rate_counts_finished_plans_only():
    plans = [plan(1, "succeeded", wait_s=10), plan(2, "succeeded", auto=True, wait_s=0), plan(3, "failed", wait_s=5),
             plan(4, "compensated", wait_s=5), plan(5, "expired"), plan(6, "rejected", wait_s=30),
             plan(7, "pending"), plan(8, "running", wait_s=5), plan(9, "approved", wait_s=5)]
    report = build_report(plans, [], since=SINCE, until=UNTIL)
    assert report.completion_rate == pytest.approx(2 / 6)
    assert report.plans == 9 and report.by_status["succeeded"] == 2


def test_human_overrides_are_rejections_and_edited_approvals_of_plans_decided_by_a_person():
    plans = [plan(1, "succeeded", wait_s=60), plan(2, "succeeded", wait_s=120, edited=True),
             plan(3, "rejected", wait_s=30), plan(4, "succeeded", wait_s=0, auto=True), plan(5, "expired")]
    report = build_report(plans, [], since=SINCE, until=UNTIL)
    assert report.human_decisions == 3 and report.overrides == 2
    assert report.override_rate == pytest.approx(2 / 3)
    assert report.median_approval_wait_seconds == 60


def test_cost_per_completed_workflow_is_the_cost_of_succeeded_plans_over_their_number():
    plans = [plan(1, "succeeded", cost="0.010000"), plan(2, "succeeded", cost="0.020000", unpriced=2),
             plan(3, "failed", cost="5")]
    report = build_report(plans, [], since=SINCE, until=UNTIL)
    assert report.cost_per_completed_usd == Decimal("0.015000")
    assert report.unpriced_calls == 2


def test_recovery_runs_from_the_first_failure_to_the_next_success():
    events = [
        # step 0 of plan 1: two transient errors, then it worked 30 s after the first.
        step(1, 0, "step.claimed", 0), step(1, 0, "step.retry", 2), step(1, 0, "step.retry", 10),
        step(1, 0, "step.succeeded", 32),
        # step 1 of plan 1 never failed.
        step(1, 1, "step.claimed", 40), step(1, 1, "step.succeeded", 41),
        # step 0 of plan 2: its worker died after the claim; resumed and done 90 s after the claim.
        step(2, 0, "step.claimed", 100), step(2, 0, "step.resumed", 170), step(2, 0, "step.succeeded", 190),
        # step 0 of plan 3 failed for good.
        step(3, 0, "step.claimed", 0), step(3, 0, "step.failed", 1),
    ]
    recovered, unrecovered = recovery_times(events)
    assert sorted(recovered) == [30.0, 90.0] and unrecovered == 1
    report = build_report([plan(1, "succeeded")], events, since=SINCE, until=UNTIL)
    assert report.mttr_seconds == 60.0 and report.recovered_steps == 2 and report.unrecovered_steps == 1


def test_periods():
    now = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
    assert parse_when("7d", now=now) == now - timedelta(days=7)
    assert parse_when("24h", now=now) == now - timedelta(hours=24)
    assert parse_when("2w", now=now) == now - timedelta(weeks=2)
    assert parse_when("2025-03-01", now=now) == datetime(2025, 3, 1, tzinfo=UTC)
    assert parse_when("2025-03-01T08:30:00+01:00", now=now) == datetime(2025, 3, 1, 7, 30, tzinfo=UTC)
    with pytest.raises(ValueError, match="not a period"):
        parse_when("last tuesday", now=now)
