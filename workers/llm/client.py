"""The one client Baton uses to talk to a language model (any OpenAI-compatible chat API).

It asks for JSON matching a schema (structured outputs, non-strict, so optional fields and
``anyOf`` work), with a timeout on every attempt and the SDK's own retries: ``max_retries`` attempts
more on connection errors, timeouts, 408/409/429 and 5xx, waiting what the server says in
``Retry-After`` (up to the SDK's two-minute cap; a longer wait is not retried) and otherwise an
exponential backoff with jitter. There is deliberately no second retry loop on top of the SDK's. The reply is
streamed and may be stopped early (:mod:`workers.llm.streaming`); the SDK retries until a reply starts, and a
stream that breaks off after it started fails the call (a fallback model may then be asked).

Around each call (all injected): a ``cache`` answers identical calls of ``cacheable`` purposes without
the API (:mod:`workers.llm.cache`); a ``guard`` checks budgets *before* the call, and a call that would
go over one is not made (:mod:`workers.llm.guard`); a ``fallback_model`` gets the question once when
the model still fails after the SDK's retries (not after a budget refusal or a rejected key); usage is
priced from the API's counts, cached prompt tokens included, by ``prices`` (a model without a price is
recorded with ``cost_known=False``). Every call, answered, failed, replayed or refused, is reported to
the ``recorder`` as an :class:`LLMCallRecord` attributed to the client's :class:`CallScope`.

Exceptions::

    LLMUnavailable        no usable answer: cannot connect, timed out, 429/5xx after retries, 401, any
     |                    other refusal of the request, or an HTTP body that is not a completion
     +-- BudgetExceeded   a budget stopped the call before it was made (``verdict`` says which); every
                          caller's degraded path serves, as for any LLMUnavailable

A completion whose *content* is not a JSON object is not an exception: :class:`LLMReply` then has
``data=None`` and the raw text, so the caller can ask the model to repair it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any, cast

import openai
from openai import OpenAI
from openai.types.chat import ChatCompletionMessageParam

from core import defaults
from core.budgets import BudgetVerdict, estimate_call
from core.llm_timeouts import attempt_timeout
from core.model_capabilities import (
    LIMIT_SETTING,
    Capabilities,
    LimitParam,
    Rejection,
    broken_stream,
    ignored_limit,
    output_limit,
    read_rejection,
    request_options,
    schema_instruction,
)
from core.pricing import BUILTIN, PriceTable, TokenUsage
from memory.llm_calls import REFUSED_PREFIX, LLMCallRecord, record_llm_call
from prompts import RenderedPrompt
from workers.llm.cache import CachedReply, ResponseCache, cache_key
from workers.llm.capabilities import ModelCapabilities
from workers.llm.deadline import Deadline
from workers.llm.guard import (
    CallScope,
    Failure,
    Guard,
    describe_failure,
    no_answer_within,
    server_message,
    worth_a_fallback,
)
from workers.llm.reply import MODEL_REFUSED, LLMReply, parse_json_object, why_not_json
from workers.llm.sdk import openai_client_for
from workers.llm.streaming import Completion, Reading, read_stream, whole

__all__ = ["MODEL_REFUSED", "BudgetExceeded", "CallScope", "Conversation", "LLMCallRecord", "LLMClient", "LLMReply",
           "LLMUnavailable", "Recorder", "openai_client_for", "parse_json_object", "record_llm_call",
           "why_without_model"]

log = logging.getLogger(__name__)


Recorder = Callable[[LLMCallRecord], None]


class LLMUnavailable(Exception):
    """The model gave no usable answer; ``reason`` is short enough for a Slack reply."""

    def __init__(self, reason: str, *, retry_after: float | None = None, status: int | None = None,
                 config_error: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.status = status  # the API's HTTP status, when it answered with an error
        #: The server rejects what Baton sends (and the reason says what to set): another try or model won't help.
        self.config_error = config_error


class BudgetExceeded(LLMUnavailable):
    """A budget stopped the call before it was made; ``reason`` names the budget and who can raise it."""

    def __init__(self, verdict: BudgetVerdict) -> None:
        super().__init__(verdict.sentence)
        self.verdict = verdict


@dataclass(frozen=True)
class Conversation:
    """Chat messages to send, and which template produced the newest part (for the call log)."""

    messages: tuple[Mapping[str, str], ...]
    template: str | None = None
    template_hash: str | None = None

    @classmethod
    def from_prompts(cls, *prompts: RenderedPrompt) -> Conversation:
        """The prompts' messages in order, attributed to the last prompt (the one this call adds)."""
        if not prompts:
            raise ValueError("a conversation needs at least one prompt")
        messages = tuple(message for prompt in prompts for message in prompt.chat_messages())
        return cls(messages=messages, template=prompts[-1].name, template_hash=prompts[-1].sha256)


@dataclass(frozen=True)
class _Question:
    """One ``complete_json`` call, before a model is picked for it."""

    purpose: str
    conversation: Conversation
    schema_name: str
    schema: Mapping[str, Any]
    scope: CallScope

    def sent_texts(self) -> list[str]:
        """What is sent that the budgets count: the messages' contents, and the schema when there is one."""
        texts = [m.get("content", "") for m in self.conversation.messages]
        return [*texts, json.dumps(self.schema)] if self.schema else texts

    def record(self, model: str, **fields: Any) -> LLMCallRecord:
        return self.scope.record(purpose=self.purpose, model=model, template=self.conversation.template,
                                 template_hash=self.conversation.template_hash, **fields)


class LLMClient:
    """Chat completions returning JSON, with timeouts, the SDK's retries, budgets, a fallback model, a
    response cache and a record of every call."""

    def __init__(
        self, *, api_key: str | None, base_url: str | None, model: str, timeout: float = 30.0, max_retries: int = 2,
        openai_client: OpenAI | None = None, recorder: Recorder | None = None, scope: CallScope | None = None,
        guard: Guard | None = None, fallback_model: str | None = None, cache: ResponseCache | None = None,
        cacheable: Collection[str] = (), prices: PriceTable = BUILTIN, deadline: Deadline | None = None,
        capabilities: ModelCapabilities | None = None, output_limits: Mapping[str, int] = defaults.OUTPUT_TOKENS,
        timeouts: Mapping[str, float] | None = None,
    ) -> None:
        """``timeout`` (seconds) applies to each attempt; ``max_retries`` more attempts follow a failure the SDK
        deems transient. An injected ``openai_client`` is used with these two options applied, and then
        ``api_key`` and ``base_url`` are ignored. ``recorder`` receives one record per call, attributed to
        ``scope`` (default: the ids given to each call). ``cache`` serves only the ``cacheable`` purposes.
        ``deadline`` bounds every call of this client together: attempts are cut to it, and a call (or a
        retry, or the fallback model) that would start after it fails at once with its reason. ``capabilities``
        says how to ask each model (default: learned by this client alone, nothing pinned); ``output_limits`` caps
        each call's output by purpose (:data:`core.defaults.OUTPUT_TOKENS`); ``timeouts`` gives an attempt of a
        purpose its own timeout instead of ``timeout`` (:func:`core.llm_timeouts.attempt_timeout`)."""
        self.model = model
        self.capabilities = capabilities or ModelCapabilities(base_url=base_url)
        self._output_limits = output_limits
        self.timeout = timeout
        self._timeouts: Mapping[str, float] = timeouts or {}
        self.scope = scope
        self.fallback_model = fallback_model
        self.prices = prices
        self._recorder = recorder
        self._guard = guard
        self._cache = cache
        self._cacheable = frozenset(cacheable)
        self._deadline = deadline
        self._client = openai_client_for(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries,
                                         client=openai_client, deadline=deadline)

    def complete_json(
        self, *, purpose: str, prompt: RenderedPrompt | Conversation, schema_name: str, schema: Mapping[str, Any],
        team_id: str, request_id: int | None = None, plan_id: int | None = None, model: str | None = None,
    ) -> LLMReply:
        """Ask for a JSON object matching ``schema``; raises :class:`LLMUnavailable` if no answer came
        (:class:`BudgetExceeded` if a budget stopped the call). ``request_id`` and ``plan_id`` add to the
        client's scope; ``model`` overrides the client's model for this call."""
        conversation = prompt if isinstance(prompt, Conversation) else Conversation.from_prompts(prompt)
        scope = self.scope or CallScope(team_id=team_id)
        scope = replace(scope, team_id=team_id, request_id=request_id if request_id is not None else scope.request_id,
                        plan_id=plan_id if plan_id is not None else scope.plan_id)
        question = _Question(purpose, conversation, schema_name, schema, scope)
        primary = model or self.model
        try:
            return self._ask(question, primary)
        except LLMUnavailable as err:
            fallback = self.fallback_model
            if (isinstance(err, BudgetExceeded) or err.config_error or fallback in (None, primary)
                    or not worth_a_fallback(err.status)):
                raise
            if self._deadline is not None and self._deadline.passed:
                raise  # no time is left for another model
            log.warning("%s failed on %s (%s); asking the fallback model %s", purpose, primary, err.reason, fallback)
            return self._ask(question, fallback, fallback_from=primary)

    def stream_text(
        self, *, purpose: str, prompt: RenderedPrompt, team_id: str, request_id: int | None = None,
    ) -> Iterator[str]:
        """Stream a plain-text (markdown) answer as the model writes it (``stream=True``): yields its pieces, then
        records the call once, with the tokens of the server's final usage chunk when it sends one.

        :class:`BudgetExceeded` or :class:`LLMUnavailable` before the first piece when no answer can start, and
        :class:`LLMUnavailable` after the pieces already yielded when the stream breaks off. No cache and no
        fallback model: what was shown cannot be taken back."""
        conversation = Conversation.from_prompts(prompt)
        scope = self.scope or CallScope(team_id=team_id)
        scope = replace(scope, team_id=team_id, request_id=request_id if request_id is not None else scope.request_id)
        question = _Question(purpose, conversation, "text", {}, scope)
        model = self.model
        estimate = estimate_call(question.sent_texts(), price=self.prices.price_for(model))
        if self._guard is not None:
            verdict = self._guard.admit(scope, estimate)
            if not verdict.allowed:
                refused = REFUSED_PREFIX + verdict.sentence
                self._record(question.record(model, ok=False, usage=TokenUsage(), error=refused))
                raise BudgetExceeded(verdict)
        try:
            yield from self._stream(question, model)
        finally:
            if self._guard is not None:
                self._guard.release(estimate)

    def _stream(self, question: _Question, model: str) -> Iterator[str]:
        caps = self.capabilities.for_model(model)
        limit = output_limit(question.purpose, self._output_limits, default=defaults.DEFAULT_OUTPUT_TOKENS)
        started, reading = time.monotonic(), Reading()
        messages = cast(list[ChatCompletionMessageParam], [dict(m) for m in question.conversation.messages])
        create, timeout = self._client.chat.completions.create, self._attempt_timeout(question.purpose)
        try:
            if caps.limit_param == "max_tokens":
                stream = create(model=model, messages=messages, stream=True, stream_options={"include_usage": True},
                                max_tokens=limit, timeout=timeout)
            else:
                stream = create(model=model, messages=messages, stream=True, stream_options={"include_usage": True},
                                max_completion_tokens=limit, timeout=timeout)
            for chunk in stream:
                piece = reading.take(chunk)
                if piece:
                    yield piece
        except (openai.OpenAIError, ValueError) as err:
            # This answer always streams, so "set BATON_LLM_STREAM=off" is no advice for it: nothing weaker to try.
            tried = {_form(caps), _form(replace(caps, stream=False))}
            failure = self._failure(err, model, caps, tried=tried, purpose=question.purpose)
            self._record(question.record(model, ok=False, error=failure.reason, usage=TokenUsage(),
                                         latency_ms=_ms_since(started)))
            raise LLMUnavailable(failure.reason, retry_after=failure.retry_after, status=failure.status,
                                 config_error=failure.config_error) from err
        answered_by = reading.model or model
        priced_as = answered_by if self.prices.is_priced(answered_by) else model
        usage = self._usage_of(reading.usage, question, pieces=reading.pieces, priced_as=priced_as)
        self._record(question.record(answered_by, ok=True, error=None, usage=usage, latency_ms=_ms_since(started)))

    def _ask(self, question: _Question, model: str, *, fallback_from: str | None = None) -> LLMReply:
        """One model's answer: from the cache, else through the budget guard and the API."""
        messages, cache = question.conversation.messages, self._cache if question.purpose in self._cacheable else None
        key = cache_key(model=model, messages=messages, schema_name=question.schema_name, schema=question.schema)
        cached = cache.get(key) if cache is not None else None
        if cached is not None:
            return self._replay(question, cached, fallback_from=fallback_from)
        estimate = estimate_call(question.sent_texts(), price=self.prices.price_for(model))
        if self._guard is not None:
            verdict = self._guard.admit(question.scope, estimate)
            if not verdict.allowed:
                refused = REFUSED_PREFIX + verdict.sentence
                self._record(question.record(model, ok=False, usage=TokenUsage(), error=refused,
                                             fallback_from=fallback_from))
                raise BudgetExceeded(verdict)
        try:
            reply = self._call_api(question, model, fallback_from=fallback_from)
        finally:
            if self._guard is not None:
                self._guard.release(estimate)
        if cache is not None and reply.data is not None:
            cache.put(key, CachedReply(raw=reply.raw, model=reply.model, finish_reason=reply.finish_reason))
        return reply

    def _replay(self, question: _Question, cached: CachedReply, *, fallback_from: str | None) -> LLMReply:
        self._record(question.record(cached.model, ok=True, usage=TokenUsage(), cache_hit=True,
                                     fallback_from=fallback_from))
        return LLMReply(data=parse_json_object(cached.raw), raw=cached.raw, usage=TokenUsage(), latency_ms=0,
                        model=cached.model, finish_reason=cached.finish_reason, cache_hit=True)

    def _call_api(self, question: _Question, model: str, *, fallback_from: str | None) -> LLMReply:
        def record(*, ok: bool, error: str | None, usage: TokenUsage, latency_ms: int, answered_by: str) -> None:
            self._record(question.record(answered_by, ok=ok, error=error, usage=usage, latency_ms=latency_ms,
                                         fallback_from=fallback_from))

        caps = self.capabilities.for_model(model)
        limit = output_limit(question.purpose, self._output_limits, default=defaults.DEFAULT_OUTPUT_TOKENS)
        tried = {_form(caps)}  # a server rejecting every form must not be asked forever
        while True:
            started, spent = time.monotonic(), TokenUsage()
            try:
                completion = self._send(question, model, caps, limit)
                instead = self._learn_from_broken_stream(completion, model, caps, tried=tried)
                if instead is None:
                    break
                if completion is not None:  # what the broken-off stream brought still counts
                    spent = self._usage_of(completion.usage, question, pieces=completion.pieces, priced_as=model)
            except (openai.OpenAIError, ValueError) as err:
                latency_ms = _ms_since(started)
                instead = self._learn_from(err, model, caps, tried=tried)
                if instead is None:
                    failure = self._failure(err, model, caps, tried=tried, purpose=question.purpose)
                    record(ok=False, error=failure.reason, usage=TokenUsage(), latency_ms=latency_ms,
                           answered_by=model)
                    raise LLMUnavailable(failure.reason, retry_after=failure.retry_after, status=failure.status,
                                         config_error=failure.config_error) from err
            # Learned, not failed: the server showed what it does not take; ask again at once in what it does.
            record(ok=False, error=instead[1], usage=spent, latency_ms=_ms_since(started), answered_by=model)
            caps = instead[0]
            tried.add(_form(caps))
        latency_ms = _ms_since(started)

        if completion is None:
            reason = "the model API sent a completion without choices"
            record(ok=False, error=reason, usage=TokenUsage(), latency_ms=latency_ms, answered_by=model)
            raise LLMUnavailable(reason)
        answered_by = completion.model or model
        priced_as = answered_by if self.prices.is_priced(answered_by) else model
        usage = self._usage_of(completion.usage, question, pieces=completion.pieces if completion.streamed else None,
                               priced_as=priced_as)
        if completion.stopped == "time":
            reason = self._time_up(question.purpose)
            record(ok=False, error=reason, usage=usage, latency_ms=latency_ms, answered_by=answered_by)
            raise LLMUnavailable(reason)
        self._check_limit(model, caps, limit, completion)
        raw = completion.content
        data = parse_json_object(raw)
        error = None
        if data is None:
            error = why_not_json(raw, refusal=completion.refusal, finish_reason=completion.finish_reason,
                                 broken_off=completion.broken_off)
        record(ok=data is not None, error=error, usage=usage, latency_ms=latency_ms, answered_by=answered_by)
        return LLMReply(data=data, raw=raw, usage=usage, latency_ms=latency_ms, model=answered_by,
                        finish_reason=completion.finish_reason, error=error)

    def _learn_from_broken_stream(self, completion: Completion | None, model: str, caps: Capabilities, *,
                                  tried: Collection[tuple[str, str, bool]]) -> tuple[Capabilities, str] | None:
        """Like :meth:`_learn_from`, for a stream the server ended before its reply did: ask without streaming (and
        remember to), unless streaming is pinned on (then the cut-off reply is read as it is)."""
        if completion is None or not completion.broken_off:
            return None
        rejection = broken_stream(caps)
        if rejection.instead is None or _form(rejection.instead) in tried or self.capabilities.pinned(rejection):
            return None
        return self._learn(rejection, rejection.instead, model, hint=" (llama-cpp-python ends a stream when another "
                           "request arrives, unless started with --interrupt_requests False)")

    def _time_up(self, purpose: str) -> str:
        """Why a streamed reply was stopped when its time was up: the work's deadline, or the attempt's timeout."""
        if self._deadline is not None and self._deadline.passed:
            return self._deadline.reason
        return no_answer_within(self._attempt_timeout(purpose))

    def _rejection(self, err: Exception, caps: Capabilities, *,
                   tried: Collection[tuple[str, str, bool]]) -> Rejection | None:
        """What ``err`` says the server does not take of ``caps`` (with nothing ``instead`` already tried)."""
        if not isinstance(err, openai.APIStatusError):
            return None
        rejection = read_rejection(server_message(err), sent=caps, status=err.status_code)
        instead = rejection.instead if rejection is not None else None
        if rejection is not None and instead is not None and _form(instead) in tried:
            return replace(rejection, instead=None, value=None)
        return rejection

    def _learn_from(self, err: Exception, model: str, caps: Capabilities, *,
                    tried: Collection[tuple[str, str, bool]]) -> tuple[Capabilities, str] | None:
        """The form to ask ``model`` in next, learned (and kept) from ``err``, with the call log's line about it;
        None when ``err`` teaches nothing or what it rejected is pinned."""
        rejection = self._rejection(err, caps, tried=tried)
        if rejection is None or rejection.instead is None or self.capabilities.pinned(rejection):
            return None
        return self._learn(rejection, rejection.instead, model)

    def _learn(self, rejection: Rejection, instead: Capabilities, model: str, *,
               hint: str = "") -> tuple[Capabilities, str]:
        """Keep ``instead`` for ``model`` and say so in the log (with ``hint``); the call log's line about it."""
        why = rejection.reason(model=model, pinned=False)
        log.warning("%s%s; asking again with %s", why, hint, instead.describe())
        self.capabilities.learn(model, instead)
        return instead, f"{why} (Baton now sends {instead.describe()})"

    def _failure(self, err: Exception, model: str, caps: Capabilities, *,
                 tried: Collection[tuple[str, str, bool]], purpose: str) -> Failure:
        """Why the call failed: a rejection Baton cannot work around (a configuration error), else the SDK's error."""
        rejection = self._rejection(err, caps, tried=tried)
        if rejection is not None:
            reason = rejection.reason(model=model, pinned=self.capabilities.pinned(rejection))
            log.error("%s", reason)
            return Failure(reason, status=cast(openai.APIStatusError, err).status_code, config_error=True)
        failure = describe_failure(err, timeout=self._attempt_timeout(purpose))
        if self._deadline is not None and self._deadline.passed and isinstance(err, openai.APITimeoutError):
            failure = replace(failure, reason=self._deadline.reason)
        return failure

    def _send(self, question: _Question, model: str, caps: Capabilities, limit: int) -> Completion | None:
        """One chat completion asked as ``caps`` says, capped at ``limit`` output tokens, streamed when ``caps`` says
        so (and then stopped early where reading on cannot help: :mod:`workers.llm.streaming`); None when the
        server's completion had no choices."""
        messages = [dict(m) for m in question.conversation.messages]
        instruction = schema_instruction(caps, question.schema)
        if instruction is not None:
            messages.append({"role": "system", "content": instruction})
        options = request_options(caps, schema_name=question.schema_name, schema=question.schema,
                                  max_output_tokens=limit)
        timeout = self._attempt_timeout(question.purpose)
        if caps.stream:
            options.update(stream=True, stream_options={"include_usage": True})
        answer = self._client.chat.completions.create(
            model=model, messages=cast(list[ChatCompletionMessageParam], messages), timeout=timeout, **options)
        if not caps.stream:
            return whole(answer)
        # The attempt that answered has its timeout from when its answer began (the SDK may have retried before it).
        ends_at = time.monotonic() + timeout
        if self._deadline is not None:
            ends_at = min(ends_at, time.monotonic() + self._deadline.remaining())
        return read_stream(answer, limit=limit, ends_at=ends_at)

    def _attempt_timeout(self, purpose: str) -> float:
        return attempt_timeout(purpose, self._timeouts, default=self.timeout)

    def _check_limit(self, model: str, caps: Capabilities, limit: int, completion: Completion) -> None:
        """A reply longer than the limit sent shows the server ignores that parameter: use the other one from now
        on (``llama-cpp-python`` accepts ``max_completion_tokens`` and ignores it), unless it is pinned. A stream
        stopped at the limit (``stopped == "limit"``) showed it before the server's count came."""
        counted = getattr(completion.usage, "completion_tokens", None)
        if completion.stopped != "limit" and not ignored_limit(limit=limit, completion_tokens=counted):
            return
        other: LimitParam = "max_tokens" if caps.limit_param == "max_completion_tokens" else "max_completion_tokens"
        rejection = Rejection(caps.limit_param, replace(caps, limit_param=other), LIMIT_SETTING, other)
        if self.capabilities.pinned(rejection):
            log.warning("%s ignored %s=%d (it is pinned by %s): only Baton's count of a streamed reply bounds it",
                        model, caps.limit_param, limit, LIMIT_SETTING)
            return
        log.warning("%s ignored %s=%d; using %s from now on", model, caps.limit_param, limit, other)
        self.capabilities.learn(model, replace(caps, limit_param=other))

    def _usage_of(self, usage: Any, question: _Question, *, pieces: int | None, priced_as: str) -> TokenUsage:
        """What a call spent: the server's count (``usage``), or for a stream of ``pieces`` that came without one
        (Baton stopped it, or the server sends none: llama-cpp-python 0.3) an estimate: the prompt as the budgets
        estimate it, and a token a piece."""
        if usage is None and pieces is not None:
            prompt = estimate_call(question.sent_texts(), price=None, output_tokens=0).tokens
            return self.prices.usage(priced_as, input_tokens=prompt, cached_tokens=0, output_tokens=pieces)
        return self._usage(usage, priced_as=priced_as)

    def _usage(self, usage: Any, *, priced_as: str) -> TokenUsage:
        """The SDK's ``usage`` (None from some local servers: then no tokens are known), priced."""
        cached = getattr(getattr(usage, "prompt_tokens_details", None), "cached_tokens", None) or 0
        return self.prices.usage(priced_as, input_tokens=getattr(usage, "prompt_tokens", 0) or 0, cached_tokens=cached,
                                 output_tokens=getattr(usage, "completion_tokens", 0) or 0)

    def _record(self, record: LLMCallRecord) -> None:
        if self._recorder is None:
            return
        try:
            self._recorder(record)
        except Exception:
            # Losing one log row must not lose the user's plan; the failure is logged loudly instead.
            log.exception("could not record an LLM call (%s, %s)", record.purpose, record.model)


#: Why work went on without the model, for a card and the log (see :func:`why_without_model`).
WHY_FAILING = "the language model ({model}) is not responding: {reason}"


def why_without_model(err: LLMUnavailable, *, model: str) -> str:
    """The true reason work went on without ``model``: a budget's sentence and a configuration error (which say
    what to do) as they are, anything else as the model not responding, naming it."""
    if isinstance(err, BudgetExceeded) or err.config_error:
        return err.reason
    return WHY_FAILING.format(model=model, reason=err.reason)


def _form(caps: Capabilities) -> tuple[str, str, bool]:
    """What tells one way of asking from another, for the set of those already tried."""
    return caps.structured, caps.limit_param, caps.stream


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
