"""The one place jobs get an :class:`~workers.llm.client.LLMClient`: settings, prices, budgets, cache and the call log
wired together for one scope (a request's planning, a meeting's notes, a digest run).

Routing is by model name: the client's default is ``BATON_CHAT_MODEL`` (planning, the final merge of
a meeting), callers pass ``model=`` for routine work on ``BATON_CHEAP_MODEL`` (chunk summaries, digest
prose), and ``BATON_FALLBACK_MODEL`` answers when either keeps failing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import replace

from core import defaults
from core.budgets import Budgets
from core.pricing import PriceTable
from memory import audit
from memory.llm_calls import REFUSED_PREFIX, LLMCallRecord, record_llm_call
from workers.job_context import WorkerContext
from workers.llm.cache import REPLAYABLE, RedisResponseCache, ResponseCache
from workers.llm.capabilities import ModelCapabilities, RedisCapabilityStore
from workers.llm.client import LLMClient
from workers.llm.deadline import Deadline
from workers.llm.guard import BudgetGuard, CallScope, postgres_spend

__all__ = ["CallScope", "llm_client"]

log = logging.getLogger(__name__)


def llm_client(ctx: WorkerContext, scope: CallScope, *, model: str | None = None,
               on_refusal: Callable[[str], None] | None = None, deadline: Deadline | None = None) -> LLMClient | None:
    """A client for calls made in ``scope`` (``model`` defaults to the chat model), or None when no model is
    configured (degraded mode).

    Each call is logged in ``llm_calls`` at the injected clock's time, and in the audit trail as
    ``llm.call`` when it served a request. Budgets are checked against Postgres when any is set; the
    Redis cache serves replayable purposes when ``BATON_LLM_CACHE_TTL`` is not 0. ``on_refusal`` is told,
    once, the sentence of the first budget that stops a call (to tell the requester). ``deadline`` bounds all
    the client's calls together.
    """
    settings = ctx.settings
    if not settings.llm_configured:
        return None
    budgets = Budgets.from_settings(settings)
    guard = BudgetGuard(budgets, spend=postgres_spend(ctx.db, now=ctx.now)) if budgets != Budgets() else None
    cache: ResponseCache | None = None
    if ctx.redis is not None and settings.llm_cache_ttl_seconds > 0:
        cache = RedisResponseCache(ctx.redis, ttl_seconds=settings.llm_cache_ttl_seconds)
    return LLMClient(
        api_key=settings.openai_api_key,
        base_url=settings.openai_base_url,
        model=model or settings.chat_model,
        recorder=_recorder(ctx, on_refusal),
        scope=scope,
        guard=guard,
        fallback_model=settings.fallback_model,
        cache=cache,
        cacheable=REPLAYABLE,
        prices=PriceTable.from_entries(settings.model_prices),
        deadline=deadline,
        capabilities=model_capabilities(ctx),
        timeout=float(defaults.LLM_DEFAULT_TIMEOUT_SECONDS),
        timeouts={**defaults.LLM_ATTEMPT_TIMEOUTS, **dict(settings.llm_timeouts)},
        output_limits={**defaults.OUTPUT_TOKENS, **dict(settings.llm_output_tokens)},
    )


def model_capabilities(ctx: WorkerContext) -> ModelCapabilities:
    """How to ask each model of the configured server: the settings' pins, else what any process learned (Redis)."""
    settings = ctx.settings
    store = (RedisCapabilityStore(ctx.redis, ttl_seconds=defaults.LLM_CAPABILITIES_TTL_SECONDS)
             if ctx.redis is not None else None)
    return ModelCapabilities(base_url=settings.openai_base_url, store=store, structured=settings.llm_structured,
                             limit_param=settings.llm_limit_param, stream=settings.llm_stream)


def _recorder(ctx: WorkerContext, on_refusal: Callable[[str], None] | None) -> Callable[[LLMCallRecord], None]:
    lock, told = threading.Lock(), [False]

    def record(call: LLMCallRecord) -> None:
        call = replace(call, at=ctx.now())
        with ctx.db() as conn:
            record_llm_call(conn, call)
            if call.request_id is not None:
                audit.append(
                    conn, team_id=call.team_id, request_id=call.request_id, plan_id=call.plan_id, kind="llm.call",
                    model=call.model, purpose=call.purpose, template=call.template, template_hash=call.template_hash,
                    input_tokens=call.input_tokens, output_tokens=call.output_tokens, cached_tokens=call.cached_tokens,
                    latency_ms=call.latency_ms, cost_usd=str(call.cost_usd), cost_known=call.cost_known,
                    cache_hit=call.cache_hit, fallback_from=call.fallback_from, meeting_id=call.meeting_id,
                    ok=call.ok, error=call.error,
                )
        if on_refusal is None or call.error is None or not call.error.startswith(REFUSED_PREFIX):
            return
        with lock:
            first, told[0] = not told[0], True
        if first:
            on_refusal(call.error.removeprefix(REFUSED_PREFIX))

    return record
