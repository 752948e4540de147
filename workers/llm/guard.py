"""What guards each model call: what it is attributed to (:class:`CallScope`), the budget check made
before it (:class:`BudgetGuard`), and, after a failure, what went wrong (:func:`describe_failure`) and
whether another model could do better (:func:`worth_a_fallback`).

The :class:`BudgetGuard` sums what was spent in the call's scopes (from Postgres, through a
:data:`SpendSource`), adds the estimates of calls it admitted that have not been recorded yet (the
map step of a long meeting runs several calls at once), and asks :func:`core.budgets.check`. Calls
made at the same moment by *other* processes are not seen until recorded, so a daily budget can be
overshot by at most the calls in flight elsewhere.
"""

from __future__ import annotations

import email.utils
import threading
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

import openai
import psycopg

from core.budgets import Budgets, BudgetVerdict, Estimate, Spend, check
from core.pricing import TokenUsage
from memory.llm_calls import LLMCallRecord, spent_for_scope, spent_today, utc_day
from workers.llm.capabilities import error_message


@dataclass(frozen=True)
class CallScope:
    """What a call serves: recorded on its ``llm_calls`` row and used to sum spend against budgets."""

    team_id: str
    channel_id: str | None = None
    user_id: str | None = None
    request_id: int | None = None
    plan_id: int | None = None
    meeting_id: int | None = None
    digest_run_id: int | None = None

    @property
    def budget_key(self) -> tuple[str, int] | None:
        """The scope of the per-request budgets: the meeting, else the digest run, else the request, else the
        plan (a meeting's calls also carry its request id, so the narrower id decides); None: no such scope."""
        for column in ("meeting_id", "digest_run_id", "request_id", "plan_id"):
            value = getattr(self, column)
            if value is not None:
                return column, int(value)
        return None

    def record(self, *, purpose: str, model: str, ok: bool, usage: TokenUsage, template: str | None = None,
               template_hash: str | None = None, latency_ms: int = 0, error: str | None = None,
               cache_hit: bool = False, fallback_from: str | None = None) -> LLMCallRecord:
        """The ``llm_calls`` row of one call made in this scope."""
        return LLMCallRecord(
            team_id=self.team_id, purpose=purpose, model=model, ok=ok, request_id=self.request_id,
            plan_id=self.plan_id, template=template, template_hash=template_hash, input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens, cached_tokens=usage.cached_tokens, latency_ms=latency_ms,
            cost_usd=usage.cost_usd, error=error, channel_id=self.channel_id, user_id=self.user_id,
            meeting_id=self.meeting_id, digest_run_id=self.digest_run_id, cost_known=usage.cost_known,
            cache_hit=cache_hit, fallback_from=fallback_from,
        )


class Guard(Protocol):
    """Admits a call (reserving its estimate) or says which budget stops it; releases the reservation after."""

    def admit(self, scope: CallScope, estimate: Estimate) -> BudgetVerdict: ...

    def release(self, estimate: Estimate) -> None: ...


#: What was spent so far in a call's scopes.
SpendSource = Callable[[CallScope], Spend]


class BudgetGuard:
    """:class:`Guard` over :class:`core.budgets.Budgets`; thread-safe (one client may run calls in parallel)."""

    def __init__(self, budgets: Budgets, *, spend: SpendSource) -> None:
        self.budgets = budgets
        self._spend = spend
        self._lock = threading.Lock()
        self._in_flight = Estimate()

    def admit(self, scope: CallScope, estimate: Estimate) -> BudgetVerdict:
        """Check the budgets for a call estimated at ``estimate``; when allowed, it counts until released."""
        with self._lock:
            spent = self._spend(scope).plus(self._in_flight)
            verdict = check(self.budgets, spent=spent, estimate=estimate)
            if verdict.allowed:
                self._in_flight = _add(self._in_flight, estimate, sign=1)
            return verdict

    def release(self, estimate: Estimate) -> None:
        """The admitted call is over (and recorded): stop counting its estimate."""
        with self._lock:
            self._in_flight = _add(self._in_flight, estimate, sign=-1)


def _add(total: Estimate, more: Estimate, *, sign: int) -> Estimate:
    return Estimate(tokens=total.tokens + sign * more.tokens, usd=total.usd + sign * more.usd)


def postgres_spend(db: Callable[[], AbstractContextManager[psycopg.Connection[Any]]], *,
                   now: Callable[[], datetime]) -> SpendSource:
    """A :data:`SpendSource` reading ``llm_calls``: the scope's request/meeting/digest run, and today's (UTC)
    spend of its channel and workspace. ``db`` opens a connection; ``now`` is the injected clock."""

    def spend(scope: CallScope) -> Spend:
        day_start, day_end = utc_day(now())
        with db() as conn:
            today = spent_today(conn, scope.team_id, scope.channel_id, day_start, day_end)
            request_usd, request_tokens = Decimal(0), 0
            key = scope.budget_key
            if key is not None:
                request_usd, request_tokens = spent_for_scope(conn, **{key[0]: key[1]})
        return Spend(request_usd=request_usd, request_tokens=request_tokens, channel_day_usd=today.channel_usd,
                     workspace_day_usd=today.workspace_usd)

    return spend


#: HTTP statuses after which another model would fail the same way (the key or the account is refused).
NO_FALLBACK_STATUSES = frozenset({401, 403})


@dataclass(frozen=True)
class Failure:
    """Why a call failed, short enough for a Slack reply; the server's Retry-After and HTTP status if any."""

    reason: str
    retry_after: float | None = None
    status: int | None = None
    #: The server rejects what Baton sends; the reason says what to set (no retry, no fallback model).
    config_error: bool = False


def describe_failure(err: Exception, *, timeout: float) -> Failure:
    """The :class:`Failure` behind an SDK exception (``timeout`` is the per-attempt limit, for the reason)."""
    reason, retry_after = _failure(err, timeout=timeout)
    return Failure(reason, retry_after, err.status_code if isinstance(err, openai.APIStatusError) else None)


def worth_a_fallback(status: int | None) -> bool:
    """Whether a call that failed with ``status`` (None: no HTTP answer) may succeed on another model."""
    return status not in NO_FALLBACK_STATUSES


def _failure(err: Exception, *, timeout: float) -> tuple[str, float | None]:
    """A short reason for a failed call, and the server's Retry-After in seconds if it sent one."""
    if isinstance(err, openai.APITimeoutError):
        return no_answer_within(timeout), None
    if isinstance(err, openai.APIConnectionError):
        return "could not connect to the model API", None
    if isinstance(err, openai.APIStatusError):
        retry_after = retry_after_seconds(err.response.headers)
        status = err.status_code
        if isinstance(err, openai.AuthenticationError):
            return "the model API rejected the API key (401)", None
        if isinstance(err, openai.RateLimitError):
            return "the model API is rate limiting Baton (429)", retry_after
        if status >= 500:
            return f"the model API is failing ({status})", retry_after
        return f"the model API refused the request ({status}: {_short(server_message(err))})", None
    if isinstance(err, openai.APIResponseValidationError | ValueError):
        return "the model API sent a malformed response", None
    return f"the model API call failed ({type(err).__name__})", None


def no_answer_within(timeout: float) -> str:
    """Why an attempt failed that had no (whole) answer after ``timeout`` seconds."""
    return f"the model API did not answer within {timeout:g}s"


def server_message(err: openai.APIStatusError) -> str:
    """The ``message`` of the server's error body, without the SDK's "Error code: NNN - " prefix."""
    return error_message(err.body, default=err.message)


def retry_after_seconds(headers: Mapping[str, str], *, now: datetime | None = None) -> float | None:
    """How long the server asks to wait, read as the OpenAI SDK reads it: ``retry-after-ms``, then
    ``retry-after`` in seconds or as an HTTP date; None when it says nothing readable."""
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(float(value) * scale, 0.0)
        except ValueError:
            pass
        if name == "retry-after":
            try:
                when = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError):
                return None
            return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)
    return None


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
