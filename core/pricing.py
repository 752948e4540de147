"""What an LLM call costs: a price table per model and token usage with its price.

Prices are USD per one million tokens (input, cached input, output). The built-in :data:`PRICES`
are what OpenAI published when this table was written; they change, so treat the figures as
estimates for budgets and dashboards, not as an invoice. A :class:`PriceTable` is the built-in table
with the operator's overrides on top (``BATON_MODEL_PRICES``, for local models or new prices).

A model the table does not know has an *unknown* price: :meth:`PriceTable.cost` returns ``None``,
and usage is recorded with a cost of 0 and ``cost_known=False`` rather than a guess, so reports can
flag the spend they cannot count.

OpenAI counts cached prompt tokens *inside* the prompt tokens, so ``input_tokens`` includes
``cached_tokens`` everywhere in this module.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
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


#: Known OpenAI models; the starting point of every :class:`PriceTable`.
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


@dataclass(frozen=True)
class TokenUsage:
    """Tokens spent (``input_tokens`` includes ``cached_tokens``) and what they cost; add them up with ``+``.

    ``cost_known`` is False when some of the tokens were spent on a model without a price: ``cost_usd``
    then counts only the priced part.
    """

    input_tokens: int = 0
    cached_tokens: int = 0
    output_tokens: int = 0
    cost_usd: Decimal = Decimal(0)
    cost_known: bool = True

    @property
    def tokens(self) -> int:
        """Input plus output tokens (what token budgets count)."""
        return self.input_tokens + self.output_tokens

    def __add__(self, other: TokenUsage) -> TokenUsage:
        return TokenUsage(
            input_tokens=self.input_tokens + other.input_tokens,
            cached_tokens=self.cached_tokens + other.cached_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cost_usd=self.cost_usd + other.cost_usd,
            cost_known=self.cost_known and other.cost_known,
        )


class PriceTable:
    """The built-in :data:`PRICES` with overrides; dated snapshots cost what their family costs."""

    def __init__(self, overrides: Mapping[str, ModelPrice] | None = None) -> None:
        self._prices = {**PRICES, **{name.strip().lower(): price for name, price in (overrides or {}).items()}}

    @classmethod
    def from_entries(cls, entries: Iterable[tuple[str, str, str, str]]) -> PriceTable:
        """A table from ``(model, input, cached input, output)`` decimal strings, as in ``Settings.model_prices``."""
        return cls({model: _price(input_, cached, output) for model, input_, cached, output in entries})

    def price_for(self, model: str) -> ModelPrice | None:
        """The price of ``model`` (or of its undated family), or ``None`` when it is unknown."""
        name = model.strip().lower()
        if name in self._prices:
            return self._prices[name]
        return self._prices.get(_SNAPSHOT_SUFFIX.sub("", name))

    def is_priced(self, model: str) -> bool:
        """True when ``model`` (or its family) has a price."""
        return self.price_for(model) is not None

    def cost(self, model: str, input_tokens: int, cached_tokens: int, output_tokens: int) -> Decimal | None:
        """USD cost of one call rounded to a millionth of a dollar, or ``None`` for a model without a price.

        ``input_tokens`` includes ``cached_tokens`` (OpenAI's convention); cached tokens are billed at the
        cached rate and the rest at the full input rate.
        """
        if min(input_tokens, cached_tokens, output_tokens) < 0:
            raise ValueError("token counts cannot be negative")
        price = self.price_for(model)
        if price is None:
            return None
        cached = min(cached_tokens, input_tokens)
        total = (
            Decimal(input_tokens - cached) * price.input
            + Decimal(cached) * price.cached_input
            + Decimal(output_tokens) * price.output
        ) / _PER_TOKENS
        return total.quantize(COST_QUANTUM, rounding=ROUND_HALF_UP)

    def usage(self, model: str, *, input_tokens: int, cached_tokens: int, output_tokens: int) -> TokenUsage:
        """Usage of one call to ``model`` with its cost (0 and ``cost_known=False`` for an unknown model)."""
        cost = self.cost(model, input_tokens, cached_tokens, output_tokens)
        return TokenUsage(
            input_tokens=input_tokens,
            cached_tokens=cached_tokens,
            output_tokens=output_tokens,
            cost_usd=cost if cost is not None else Decimal(0),
            cost_known=cost is not None,
        )


#: The built-in table without overrides.
BUILTIN = PriceTable()
