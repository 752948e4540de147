"""Budgets checked before a model call (core.budgets), the guard's reservations, and the /baton budget text."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from bot.budget_command import render_budget
from core.budgets import (
    OUTPUT_ALLOWANCE_TOKENS,
    Budgets,
    Estimate,
    Spend,
    check,
    estimate_call,
    format_usd,
)
from core.pricing import BUILTIN
from core.settings import load_settings
from memory.llm_calls import BudgetReport, SpendLine, utc_day
from workers.llm.guard import BudgetGuard, CallScope

D = Decimal
SMALL = Estimate(tokens=1_500, usd=D("0.0012"))


def test_no_budgets_allow_everything():
    verdict = check(Budgets(), spent=Spend(D(1000), 10**9, D(1000), D(1000)), estimate=SMALL)
    assert verdict.allowed and verdict.sentence == "" and verdict.env_var is None


@pytest.mark.parametrize(
    ("budgets", "var"),
    [
        (Budgets(request_usd=D(0)), "BATON_BUDGET_REQUEST_USD"),
        (Budgets(request_tokens=0), "BATON_BUDGET_REQUEST_TOKENS"),
        (Budgets(channel_day_usd=D(0)), "BATON_BUDGET_CHANNEL_DAY_USD"),
        (Budgets(workspace_day_usd=D(0)), "BATON_BUDGET_WORKSPACE_DAY_USD"),
    ],
)
def test_a_zero_budget_stops_every_call_even_a_free_one(budgets, var):
    verdict = check(budgets, spent=Spend(), estimate=Estimate())
    assert not verdict.allowed and verdict.env_var == var
    assert "so no model calls are made" in verdict.sentence
    assert verdict.sentence.endswith(f"an operator can raise {var}")


def test_the_call_that_would_go_over_is_refused_and_the_sentence_says_everything():
    budgets = Budgets(channel_day_usd=D("0.30"))
    assert check(budgets, spent=Spend(channel_day_usd=D("0.2988")), estimate=SMALL).allowed  # lands exactly on it
    verdict = check(budgets, spent=Spend(channel_day_usd=D("0.2989")), estimate=SMALL)
    assert not verdict.allowed
    assert (verdict.budget, verdict.limit, verdict.spent, verdict.estimate) == (
        "per-channel daily model budget", D("0.30"), D("0.2989"), D("0.0012"))
    assert verdict.sentence == (
        "the next model call (about $0.0012) would go over the per-channel daily model budget: $0.2989 of $0.30 "
        "spent today (UTC day); an operator can raise BATON_BUDGET_CHANNEL_DAY_USD"
    )


def test_a_used_up_budget_stops_even_calls_whose_price_is_unknown():
    verdict = check(Budgets(workspace_day_usd=D(1)), spent=Spend(workspace_day_usd=D(1)), estimate=Estimate(900, D(0)))
    assert not verdict.allowed and verdict.field == "budget_workspace_day_usd"


def test_token_budgets_count_tokens_and_say_so():
    budgets = Budgets(request_tokens=20_000)
    assert check(budgets, spent=Spend(request_tokens=18_500), estimate=SMALL).allowed
    verdict = check(budgets, spent=Spend(request_tokens=18_501), estimate=SMALL)
    assert verdict.sentence == (
        "the next model call (about 1,500 tokens) would go over the per-request token budget: 18,501 of 20,000 "
        "tokens spent; an operator can raise BATON_BUDGET_REQUEST_TOKENS"
    )


def test_the_narrowest_budget_is_named_first():
    budgets = Budgets(request_usd=D("0.01"), channel_day_usd=D("0.01"), workspace_day_usd=D("0.01"))
    spent = Spend(request_usd=D("0.01"), channel_day_usd=D("0.01"), workspace_day_usd=D("0.01"))
    assert check(budgets, spent=spent, estimate=SMALL).env_var == "BATON_BUDGET_REQUEST_USD"
    wider = Spend(request_usd=D(0), channel_day_usd=D("0.01"), workspace_day_usd=D("0.01"))
    assert check(budgets, spent=wider, estimate=SMALL).env_var == "BATON_BUDGET_CHANNEL_DAY_USD"


def test_a_call_for_no_channel_is_not_held_to_the_channel_budget():
    budgets = Budgets(channel_day_usd=D(0), workspace_day_usd=D(5))
    assert check(budgets, spent=Spend(channel_day_usd=None), estimate=SMALL).allowed
    assert not check(budgets, spent=Spend(), estimate=SMALL).allowed


def test_an_estimate_is_prompt_tokens_plus_an_output_allowance_at_full_price():
    price = BUILTIN.price_for("gpt-4o-mini")
    estimate = estimate_call(["x" * 4000, "y" * 2], price=price)  # 1,000 + 1 tokens
    assert estimate.tokens == 1_001 + OUTPUT_ALLOWANCE_TOKENS
    # 1,001 * 0.15 + 1,000 * 0.60 per million = 0.00075015, rounded up to the millionth
    assert estimate.usd == D("0.000751")
    unknown = estimate_call(["x" * 4000], price=None)
    assert (unknown.tokens, unknown.usd) == (1_000 + OUTPUT_ALLOWANCE_TOKENS, D(0))


def test_budgets_come_from_settings_none_meaning_no_limit():
    settings = load_settings({"BATON_BUDGET_CHANNEL_DAY_USD": "0.50", "BATON_BUDGET_REQUEST_TOKENS": "0"},
                             default_home=Path("/tmp/baton"))
    assert Budgets.from_settings(settings) == Budgets(request_tokens=0, channel_day_usd=D("0.50"))


def test_dollars_are_shown_in_cents_or_to_a_hundredth_of_a_cent():
    assert [format_usd(D(x)) for x in ("0", "0.3", "12.5", "0.000056", "1234.5")] == [
        "$0.00", "$0.30", "$12.50", "$0.0001", "$1,234.50"]


def test_the_utc_day_is_the_calendar_day_in_utc():
    from datetime import UTC, datetime, timedelta, timezone

    late_in_new_york = datetime(2026, 3, 1, 21, 30, tzinfo=timezone(timedelta(hours=-5)))  # 02:30 UTC on the 2nd
    assert utc_day(late_in_new_york) == (datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 3, tzinfo=UTC))


# -- the guard ------------------------------------------------------------------------------------------------


def test_the_guard_counts_calls_it_admitted_until_they_are_released():
    spends: list[CallScope] = []

    def spend(scope: CallScope) -> Spend:
        spends.append(scope)
        return Spend(channel_day_usd=D("0.0100"))

    guard = BudgetGuard(Budgets(channel_day_usd=D("0.0120")), spend=spend)
    scope = CallScope(team_id="T1", channel_id="C1")
    assert guard.admit(scope, SMALL).allowed  # 0.0100 + 0.0012
    second = guard.admit(scope, SMALL)  # 0.0100 + 0.0012 in flight + 0.0012 > 0.0120
    assert not second.allowed and second.spent == D("0.0112")
    guard.release(SMALL)
    assert guard.admit(scope, SMALL).allowed
    assert spends == [scope] * 3


def test_parallel_admissions_never_overshoot_a_budget():
    guard = BudgetGuard(Budgets(request_usd=D("0.0060")), spend=lambda scope: Spend())
    admitted: list[bool] = []
    barrier = threading.Barrier(8)

    def ask() -> None:
        barrier.wait()
        admitted.append(guard.admit(CallScope(team_id="T1", request_id=1), SMALL).allowed)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert admitted.count(True) == 5  # 5 * 0.0012 = 0.0060


def test_the_scope_key_of_the_per_request_budget_is_the_narrowest_id():
    assert CallScope(team_id="T", request_id=3, meeting_id=9).budget_key == ("meeting_id", 9)
    assert CallScope(team_id="T", digest_run_id=4).budget_key == ("digest_run_id", 4)
    assert CallScope(team_id="T", request_id=3, plan_id=5).budget_key == ("request_id", 3)
    assert CallScope(team_id="T", channel_id="C1").budget_key is None


# -- /baton budget ----------------------------------------------------------------------------------------------


def report(**changes) -> BudgetReport:
    base = {
        "channel": SpendLine(key="C0GENERAL", calls=2, usd=D("0.30"), tokens=2_000),
        "workspace": SpendLine(key="workspace", calls=5, usd=D("0.45"), tokens=9_000, unknown_cost_calls=2,
                               cache_hits=3, refused=1),
        "models": (SpendLine(key="gpt-4o-mini", calls=3, usd=D("0.45"), tokens=4_000),
                   SpendLine(key="llama3:8b", calls=2, tokens=5_000, unknown_cost_calls=2)),
        "purposes": (SpendLine(key="plan", calls=3, usd=D("0.45")),),
        "users": (SpendLine(key="U0ALICE", calls=3, usd=D("0.45")),),
    }
    return BudgetReport(**{**base, **changes})


def test_budget_text_shows_spend_against_each_budget_and_flags_unknown_prices():
    budgets = Budgets(request_tokens=20_000, channel_day_usd=D("0.30"), workspace_day_usd=D(0))
    text = render_budget(report(), budgets, day=date(2026, 11, 23))
    lines = text.splitlines()
    assert lines[0] == "*Model spend today* (UTC day 2026-11-23)"
    assert lines[1] == ("• This channel (<#C0GENERAL>): $0.30 of $0.30 (100%) · :no_entry: used up: further calls "
                        "are not made")
    assert lines[2] == ("• Workspace: $0.45 (+ 2 calls at an unknown price) · budget $0: no model calls are made")
    assert lines[3] == ("• Per request (one plan, one meeting's notes, one digest): no limit on cost · at most "
                        "20,000 tokens")
    assert "• gpt-4o-mini: $0.45 (3 calls), 4,000 tokens" in lines
    assert ("• llama3:8b: :warning: price unknown: cost not counted (2 calls, 5,000 tokens); set its price in "
            "`BATON_MODEL_PRICES` (model=input/cached/output per 1M tokens)") in lines
    assert "*By purpose:* plan $0.45 (3 calls)" in lines and "*Top people:* <@U0ALICE> $0.45 (3 calls)" in lines
    assert "3 answers replayed from the cache at no cost; 1 call not made because of a budget." in lines
    assert lines[-1].startswith("An operator can raise or lower these by setting `BATON_BUDGET_REQUEST_USD`, ")
    assert "`BATON_BUDGET_CHANNEL_DAY_USD`, `BATON_BUDGET_WORKSPACE_DAY_USD`" in lines[-1]


def test_budget_text_without_limits_or_calls():
    empty = BudgetReport(channel=SpendLine(key="C1"), workspace=SpendLine(key="workspace"), models=(), purposes=(),
                         users=())
    text = render_budget(empty, Budgets(), day=date(2026, 1, 2))
    assert "• This channel (<#C1>): $0.00 · no limit" in text and "• Workspace: $0.00 · no limit" in text
    assert "No model calls today." in text and "*Models*" not in text
