"""Model budgets, checked before every call is made (pure: spend and estimates are passed in).

Four budgets, each ``None`` (no limit) or a limit, where ``0`` means no model calls at all:

- per-request cost (``BATON_BUDGET_REQUEST_USD``) and tokens (``BATON_BUDGET_REQUEST_TOKENS``, input +
  output): what one request spends, see "scope" below;
- per-channel daily cost (``BATON_BUDGET_CHANNEL_DAY_USD``): every call made for the channel today;
- workspace daily cost (``BATON_BUDGET_WORKSPACE_DAY_USD``): every call made in the workspace today.

*Scope* of the per-request budgets: a request's planning (its ``request_id``), a meeting's notes (its
``meeting_id``, the chunk summaries and merges together), or one digest run (its ``digest_run_id``);
see ``workers.llm.client.CallScope.budget_key``. *Today* is the UTC calendar day, the same for every
process whatever its time zone. Calls to a model without a price count their tokens but no dollars
(their cost is unknown, and flagged as such in ``/baton budget``).

A call is made only if, for every budget that applies, what was spent plus the call's estimate
(:func:`estimate_call`: prompt tokens by :func:`core.context_budget.estimate_tokens` plus
:data:`OUTPUT_ALLOWANCE_TOKENS`, priced at the model's full input and output rates) stays within the
limit. The first budget that would be exceeded, narrowest first, is named in the verdict together
with its variable and who can raise it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_UP, Decimal

from core.context_budget import estimate_tokens
from core.pricing import COST_QUANTUM, ModelPrice
from core.settings import ENV_VARS, Settings

#: Output tokens assumed for a call whose answer has not come yet (a plan or a part's notes fit in it).
OUTPUT_ALLOWANCE_TOKENS = 1_000
#: Who can change a budget: budgets are environment variables of the Baton processes.
WHO_CAN_RAISE = "an operator"
_PER_TOKENS = Decimal(1_000_000)
_DAILY = frozenset({"budget_channel_day_usd", "budget_workspace_day_usd"})
#: Told to the person whose request went without the model because of a budget (``reason``: a verdict's sentence).
BUDGET_NOTICE = ":warning: I did not use the language model for this: {reason}."


@dataclass(frozen=True)
class Budgets:
    """The limits in force; ``None`` is no limit, ``0`` allows no model call."""

    request_usd: Decimal | None = None
    request_tokens: int | None = None
    channel_day_usd: Decimal | None = None
    workspace_day_usd: Decimal | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Budgets:
        """The budgets configured in ``settings`` (``BATON_BUDGET_*``)."""
        return cls(
            request_usd=settings.budget_request_usd,
            request_tokens=settings.budget_request_tokens,
            channel_day_usd=settings.budget_channel_day_usd,
            workspace_day_usd=settings.budget_workspace_day_usd,
        )


@dataclass(frozen=True)
class Spend:
    """What was already spent in the scopes of the next call; ``channel_day_usd`` is ``None`` when the call
    serves no channel (a personal digest), so the channel budget does not apply to it."""

    request_usd: Decimal = Decimal(0)
    request_tokens: int = 0
    channel_day_usd: Decimal | None = Decimal(0)
    workspace_day_usd: Decimal = Decimal(0)

    def plus(self, estimate: Estimate) -> Spend:
        """This spend with ``estimate`` added to every scope (calls admitted but not recorded yet)."""
        return Spend(
            request_usd=self.request_usd + estimate.usd,
            request_tokens=self.request_tokens + estimate.tokens,
            channel_day_usd=None if self.channel_day_usd is None else self.channel_day_usd + estimate.usd,
            workspace_day_usd=self.workspace_day_usd + estimate.usd,
        )


@dataclass(frozen=True)
class Estimate:
    """What the next call may cost: tokens (input + output allowance) and USD (0 when the price is unknown)."""

    tokens: int = 0
    usd: Decimal = Decimal(0)


def estimate_call(texts: Iterable[str], *, price: ModelPrice | None,
                  output_tokens: int = OUTPUT_ALLOWANCE_TOKENS) -> Estimate:
    """The estimate of a call sending ``texts`` (the messages' contents and the schema) to a model at ``price``."""
    input_tokens = sum(estimate_tokens(text) for text in texts)
    if price is None:
        return Estimate(tokens=input_tokens + output_tokens, usd=Decimal(0))
    usd = (Decimal(input_tokens) * price.input + Decimal(output_tokens) * price.output) / _PER_TOKENS
    return Estimate(tokens=input_tokens + output_tokens, usd=usd.quantize(COST_QUANTUM, rounding=ROUND_UP))


@dataclass(frozen=True)
class BudgetVerdict:
    """Whether the next call may be made; when not, which budget stops it and why (:attr:`sentence`)."""

    budget: str | None = None  # the budget's name, e.g. "per-channel daily model budget"; None: allowed
    field: str | None = None  # its settings field, e.g. "budget_channel_day_usd"
    limit: Decimal | int | None = None
    spent: Decimal | int = 0
    estimate: Decimal | int = 0

    @property
    def allowed(self) -> bool:
        return self.budget is None

    @property
    def env_var(self) -> str | None:
        """The variable that sets the budget that stops the call."""
        return ENV_VARS[self.field] if self.field else None

    @property
    def sentence(self) -> str:
        """One line for people: the budget, its limit, what was spent, and who can raise it (empty if allowed)."""
        if self.budget is None or self.limit is None:
            return ""
        raise_it = f"{WHO_CAN_RAISE} can raise {self.env_var}"
        tokens = self.field == "budget_request_tokens"
        limit = f"{self.limit:,} tokens" if tokens else format_usd(Decimal(self.limit))
        if not self.limit:
            return f"the {self.budget} is {limit}, so no model calls are made; {raise_it}"
        spent = f"{self.spent:,}" if tokens else format_usd(Decimal(self.spent))
        next_call = f"about {self.estimate:,} tokens" if tokens else f"about {format_usd(Decimal(self.estimate))}"
        when = " today (UTC day)" if self.field in _DAILY else ""
        return (f"the next model call ({next_call}) would go over the {self.budget}: {spent} of {limit} "
                f"spent{when}; {raise_it}")


def check(budgets: Budgets, *, spent: Spend, estimate: Estimate) -> BudgetVerdict:
    """May a call estimated at ``estimate`` be made after ``spent``? Narrowest budget first."""
    rules: list[tuple[str, str, Decimal | int | None, Decimal | int | None, Decimal | int]] = [
        ("per-request token budget", "budget_request_tokens", budgets.request_tokens, spent.request_tokens,
         estimate.tokens),
        ("per-request model budget", "budget_request_usd", budgets.request_usd, spent.request_usd, estimate.usd),
        ("per-channel daily model budget", "budget_channel_day_usd", budgets.channel_day_usd, spent.channel_day_usd,
         estimate.usd),
        ("workspace daily model budget", "budget_workspace_day_usd", budgets.workspace_day_usd,
         spent.workspace_day_usd, estimate.usd),
    ]
    for name, field, limit, used, next_call in rules:
        if limit is None or used is None:
            continue
        if limit == 0 or used >= limit or used + next_call > limit:
            return BudgetVerdict(budget=name, field=field, limit=limit, spent=used, estimate=next_call)
    return BudgetVerdict()


def format_usd(amount: Decimal) -> str:
    """Dollars for people: cents when that is exact (``$0.30``), else four decimals (``$0.0012``)."""
    if amount == amount.quantize(Decimal("0.01")):
        return f"${amount.quantize(Decimal('0.01')):,}"
    return f"${amount.quantize(Decimal('0.0001'), rounding=ROUND_UP):,}"
