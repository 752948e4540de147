"""LLM prices and usage arithmetic (core.pricing)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.pricing import FREE, TokenUsage, cost_usd, is_priced, price_for


def test_known_model_cost_bills_cached_tokens_at_the_cached_rate():
    # gpt-4o-mini: 0.15 in, 0.075 cached, 0.60 out per million; 400 of the 1,000 input tokens were cached.
    assert cost_usd("gpt-4o-mini", 1000, 400, 200) == Decimal("0.000240")


def test_dated_snapshots_cost_what_their_family_costs():
    assert price_for("gpt-4o-mini-2024-07-18") == price_for("gpt-4o-mini")
    assert price_for("GPT-4o") == price_for("gpt-4o")
    assert price_for("gpt-4o") != price_for("gpt-4o-mini")


def test_unknown_models_are_free_not_guessed():
    assert price_for("llama3:8b") is FREE
    assert not is_priced("llama3:8b") and is_priced("gpt-4.1")
    assert cost_usd("llama3:8b", 10_000, 0, 10_000) == Decimal("0")


def test_cost_is_rounded_to_a_millionth():
    assert cost_usd("gpt-4o", 1, 0, 0) == Decimal("0.000003")  # 0.0000025 rounds half up
    assert cost_usd("gpt-4o", 1_000_000, 0, 1_000_000) == Decimal("12.500000")


def test_cached_tokens_cannot_exceed_input_and_counts_cannot_be_negative():
    assert cost_usd("gpt-4o", 10, 50, 0) == cost_usd("gpt-4o", 10, 10, 0)
    with pytest.raises(ValueError):
        cost_usd("gpt-4o", -1, 0, 0)


def test_usage_adds_up():
    one = TokenUsage.priced("gpt-4o-mini", input_tokens=1000, cached_tokens=400, output_tokens=200)
    total = one + one + TokenUsage()
    assert total == TokenUsage(2000, 800, 400, Decimal("0.000480"))
