"""What an LLM call costs: a price table per model and token usage with its price.

Prices are USD per one million tokens, as OpenAI published them when this table was written; they
change, so treat the figures as estimates for budgets and dashboards, not as an invoice. A model
not in the table costs 0 (a local or self-hosted model, or one we do not know yet): unknown is
reported as free rather than guessed.

OpenAI counts cached prompt tokens *inside* the prompt tokens, so ``input_tokens`` includes
``cached_tokens`` everywhere in this module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

#: Costs are stored as numeric(12, 6) (the llm_calls and plans tables), so they are rounded to this.
COST_QUANTUM = Decimal("0.000001")
_PER_TOKENS = Decimal(1_000_000)
# Dated snapshots ("gpt-4o-mini-2024-07-18") cost what their family costs.
_SNAPSHOT_SUFFIX = re.compile(r"-\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class ModelPrice:
    """USD per one million tokens."""

    input: Decimal
    cached_input: Decimal
    output: Decimal


def _price(input_: str, cached: str, output: str) -> ModelPrice:
    return ModelPrice(Decimal(input_), Decimal(cached), Decimal(output))


#: Known OpenAI models. Anything else costs :data:`FREE`.
PRICES: dict[str, ModelPrice] = {
    "gpt-4o": _price("2.50", "1.25", "10.00"),
    "gpt-4o-mini": _price("0.15", "0.075", "0.60"),
    "gpt-4.1": _price("2.00", "0.50", "8.00"),
    "gpt-4.1-mini": _price("0.40", "0.10", "1.60"),
    "gpt-4.1-nano": _price("0.10", "0.025", "0.40"),
    "o3-mini": _price("1.10", "0.55", "4.40"),
    "o4-mini": _price("1.10", "0.275", "4.40"),
    "gpt-5": _price("1.25", "0.125", "10.00"),
    "gpt-5-mini": _price("0.25", "0.025", "2.00"),
    "gpt-5-nano": _price("0.05", "0.005", "0.40"),
}

#: The price of a model we do not know.
FREE = ModelPrice(Decimal(0), Decimal(0), Decimal(0))


def price_for(model: str) -> ModelPrice:
    """The price of ``model``, of its undated family for a dated snapshot, else :data:`FREE`."""
    name = model.strip().lower()
    if name in PRICES:
        return PRICES[name]
    return PRICES.get(_SNAPSHOT_SUFFIX.sub("", name), FREE)


def is_priced(model: str) -> bool:
    """True when ``model`` (or its family) is in the price table."""
    return price_for(model) is not FREE


def cost_usd(model: str, input_tokens: int, cached_tokens: int, output_tokens: int) -> Decimal:
    """USD cost of one call, rounded to a millionth of a dollar.

    ``input_tokens`` includes ``cached_tokens`` (OpenAI's convention); cached tokens are billed at the
    cached rate and the rest at the full input rate.
    """
    if min(input_tokens, cached_tokens, output_tokens) < 0:
        raise ValueError("token counts cannot be negative")
    price = price_for(model)
    cached = min(cached_tokens, input_tokens)
    total = (
        Decimal(input_tokens - cached) * price.input
        + Decimal(cached) * price.cached_input
        + Decimal(output_tokens) * price.output
    ) / _PER_TOKENS
    return total.quantize(COST_QUANTUM, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class TokenUsage:
    """Tokens spent (``input_tokens`` includes ``cached_tokens``) and what they cost; add them up with ``+``."""

    input_tokens: int = 0
    cached_tokens: int = 0
    output_tokens: int = 0
    cost_usd: Decimal = Decimal(0)

    def __add__(self, other: TokenUsage) -> TokenUsage:
        return TokenUsage(
            input_tokens=self.input_tokens + other.input_tokens,
            cached_tokens=self.cached_tokens + other.cached_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cost_usd=self.cost_usd + other.cost_usd,
        )

    @classmethod
    def priced(cls, model: str, *, input_tokens: int, cached_tokens: int, output_tokens: int) -> TokenUsage:
        """Usage of one call to ``model`` with its cost from the price table."""
        return cls(
            input_tokens=input_tokens,
            cached_tokens=cached_tokens,
            output_tokens=output_tokens,
            cost_usd=cost_usd(model, input_tokens, cached_tokens, output_tokens),
        )
