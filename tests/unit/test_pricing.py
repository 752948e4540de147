"""LLM prices and usage arithmetic (core.pricing)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.pricing import BUILTIN, PRICES, ModelPrice, PriceTable, TokenUsage


def test_known_model_cost_bills_cached_tokens_at_the_cached_rate():
    # gpt-4o-mini: 0.15 in, 0.075 cached, 0.60 out per million; 400 of the 1,000 input tokens were cached.
    assert BUILTIN.cost("gpt-4o-mini", 1000, 400, 200) == Decimal("0.000240")


def test_dated_snapshots_cost_what_their_family_costs():
    assert BUILTIN.price_for("gpt-4o-mini-2024-07-18") == BUILTIN.price_for("gpt-4o-mini")
    assert BUILTIN.price_for("GPT-4o") == BUILTIN.price_for("gpt-4o")
    assert BUILTIN.price_for("gpt-4o") != BUILTIN.price_for("gpt-4o-mini")


def test_unknown_models_have_no_price_rather_than_a_guess():
    assert BUILTIN.price_for("llama3:8b") is None
    assert not BUILTIN.is_priced("llama3:8b") and BUILTIN.is_priced("gpt-4.1")
    assert BUILTIN.cost("llama3:8b", 10_000, 0, 10_000) is None


def test_usage_of_an_unknown_model_costs_zero_and_says_the_cost_is_unknown():
    usage = BUILTIN.usage("llama3:8b", input_tokens=10_000, cached_tokens=0, output_tokens=500)
    assert (usage.cost_usd, usage.cost_known, usage.tokens) == (Decimal(0), False, 10_500)
    known = BUILTIN.usage("gpt-4o", input_tokens=1, cached_tokens=0, output_tokens=0)
    assert known.cost_known and known.cost_usd == Decimal("0.000003")
    assert not (known + usage).cost_known, "a sum with an unknown part is not fully known"


def test_configured_prices_add_models_and_override_the_builtin_table():
    table = PriceTable.from_entries([("llama3:8b", "0.2", "0.1", "0.6"), ("gpt-4o", "5", "2.5", "20")])
    assert table.price_for("llama3:8b") == ModelPrice(Decimal("0.2"), Decimal("0.1"), Decimal("0.6"))
    assert table.cost("llama3:8b", 1_000_000, 500_000, 1_000_000) == Decimal("0.750000")
    assert table.cost("gpt-4o", 1_000_000, 0, 0) == Decimal("5.000000")
    assert table.price_for("gpt-4o-2024-08-06") == table.price_for("gpt-4o"), "snapshots follow the override"
    assert BUILTIN.cost("gpt-4o", 1_000_000, 0, 0) == Decimal("2.500000"), "the built-in table is untouched"
    assert PRICES["gpt-4o"].input == Decimal("2.50")


def test_cost_is_rounded_to_a_millionth():
    assert BUILTIN.cost("gpt-4o", 1, 0, 0) == Decimal("0.000003")  # 0.0000025 rounds half up
    assert BUILTIN.cost("gpt-4o", 1_000_000, 0, 1_000_000) == Decimal("12.500000")


def test_cached_tokens_cannot_exceed_input_and_counts_cannot_be_negative():
    assert BUILTIN.cost("gpt-4o", 10, 50, 0) == BUILTIN.cost("gpt-4o", 10, 10, 0)
    with pytest.raises(ValueError):
        BUILTIN.cost("gpt-4o", -1, 0, 0)
    with pytest.raises(ValueError):
        BUILTIN.cost("llama3:8b", 0, 0, -1)


def test_usage_adds_up():
    one = BUILTIN.usage("gpt-4o-mini", input_tokens=1000, cached_tokens=400, output_tokens=200)
    total = one + one + TokenUsage()
    assert total == TokenUsage(2000, 800, 400, Decimal("0.000480"))
