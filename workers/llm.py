"""The one client Baton uses to talk to a language model (any OpenAI-compatible chat API).

It asks for JSON matching a schema (structured outputs, non-strict, so optional fields and
``anyOf`` work), with a timeout on every attempt and the SDK's own retries: ``max_retries`` attempts
more on connection errors, timeouts, 408/409/429 and 5xx, waiting what the server says in
``Retry-After`` (up to the SDK's two-minute cap; a longer wait is not retried) and otherwise an
exponential backoff with jitter. There is deliberately no second retry loop on top of the SDK's.

Every call, successful or not, is reported to the ``recorder`` as an :class:`LLMCallRecord` (the
shape of a row of ``llm_calls``), with token usage and its price from :mod:`core.pricing`.

Exceptions::

    LLMUnavailable   no usable answer: cannot connect, timed out, 429/5xx after retries, 401, any
                     other refusal of the request, or an HTTP body that is not a completion

A completion whose *content* is not a JSON object is not an exception: :class:`LLMReply` then has
``data=None`` and the raw text, so the caller can ask the model to repair it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

import openai
from openai import OpenAI
from openai.types.chat import ChatCompletionMessageParam

from core.pricing import TokenUsage, is_priced
from memory.llm_calls import LLMCallRecord, record_llm_call
from prompts import RenderedPrompt

__all__ = [
    "Conversation",
    "LLMCallRecord",
    "LLMClient",
    "LLMReply",
    "LLMUnavailable",
    "Recorder",
    "record_llm_call",
]

log = logging.getLogger(__name__)


def openai_client_for(
    *, api_key: str | None, base_url: str | None, timeout: float, max_retries: int, client: OpenAI | None = None
) -> OpenAI:
    """The one way Baton builds an OpenAI SDK client (chat and embeddings): explicit key and base URL,
    so the SDK never reads its own environment variables, and timeouts and retries always set."""
    if client is not None:
        return client.with_options(timeout=timeout, max_retries=max_retries)
    return OpenAI(
        api_key=api_key or NO_API_KEY, base_url=base_url or OPENAI_BASE_URL, timeout=timeout, max_retries=max_retries
    )


#: Where the SDK would send requests by default; passed explicitly so it never reads OPENAI_BASE_URL itself.
OPENAI_BASE_URL = "https://api.openai.com/v1"
#: Sent as the key to keyless local servers (the SDK insists on some key, and must not read OPENAI_API_KEY).
NO_API_KEY = "no-key"

Recorder = Callable[[LLMCallRecord], None]


class LLMUnavailable(Exception):
    """The model gave no usable answer; ``reason`` is short enough for a Slack reply."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


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
class LLMReply:
    """A completion: ``data`` is the content parsed as a JSON object, or ``None`` if it was not one."""

    data: dict[str, Any] | None
    raw: str
    usage: TokenUsage
    latency_ms: int
    model: str
    finish_reason: str | None = None
    error: str | None = None  # why ``data`` is None

    @property
    def cost_usd(self) -> Decimal:
        return self.usage.cost_usd


class LLMClient:
    """Chat completions returning JSON, with timeouts, the SDK's retries and a record of every call."""

    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str | None,
        model: str,
        timeout: float = 30.0,
        max_retries: int = 2,
        openai_client: OpenAI | None = None,
        recorder: Recorder | None = None,
    ) -> None:
        """``timeout`` (seconds) applies to each attempt; ``max_retries`` more attempts follow a failure the SDK
        deems transient. An injected ``openai_client`` is used with these two options applied, and then
        ``api_key`` and ``base_url`` are ignored. ``recorder`` receives one record per call."""
        self.model = model
        self.timeout = timeout
        self._recorder = recorder
        self._client = openai_client_for(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries, client=openai_client
        )

    def complete_json(
        self,
        *,
        purpose: str,
        prompt: RenderedPrompt | Conversation,
        schema_name: str,
        schema: Mapping[str, Any],
        team_id: str,
        request_id: int | None = None,
        plan_id: int | None = None,
        model: str | None = None,
    ) -> LLMReply:
        """Ask for a JSON object matching ``schema``; raises :class:`LLMUnavailable` if no answer came."""
        conversation = prompt if isinstance(prompt, Conversation) else Conversation.from_prompts(prompt)
        model = model or self.model

        def record(*, ok: bool, error: str | None, usage: TokenUsage, latency_ms: int, answered_by: str) -> None:
            self._record(
                LLMCallRecord(
                    team_id=team_id,
                    request_id=request_id,
                    plan_id=plan_id,
                    purpose=purpose,
                    model=answered_by,
                    template=conversation.template,
                    template_hash=conversation.template_hash,
                    input_tokens=usage.input_tokens,
                    output_tokens=usage.output_tokens,
                    cached_tokens=usage.cached_tokens,
                    latency_ms=latency_ms,
                    cost_usd=usage.cost_usd,
                    ok=ok,
                    error=error,
                )
            )

        started = time.monotonic()
        try:
            completion = self._client.chat.completions.create(
                model=model,
                messages=cast(list[ChatCompletionMessageParam], [dict(m) for m in conversation.messages]),
                response_format={
                    "type": "json_schema",
                    "json_schema": {"name": schema_name, "schema": dict(schema), "strict": False},
                },
            )
        except (openai.OpenAIError, ValueError) as err:
            reason, retry_after = _failure(err, timeout=self.timeout)
            record(ok=False, error=reason, usage=TokenUsage(), latency_ms=_ms_since(started), answered_by=model)
            raise LLMUnavailable(reason, retry_after=retry_after) from err
        latency_ms = _ms_since(started)

        answered_by = completion.model if isinstance(completion.model, str) and completion.model else model
        usage = _usage(completion, priced_as=answered_by if is_priced(answered_by) else model)
        if not completion.choices:
            reason = "the model API sent a completion without choices"
            record(ok=False, error=reason, usage=usage, latency_ms=latency_ms, answered_by=answered_by)
            raise LLMUnavailable(reason)
        choice = completion.choices[0]
        raw = choice.message.content or ""
        data = parse_json_object(raw)
        error = None
        if data is None:
            error = _why_not_json(raw, refusal=choice.message.refusal, finish_reason=choice.finish_reason)
        record(ok=data is not None, error=error, usage=usage, latency_ms=latency_ms, answered_by=answered_by)
        return LLMReply(
            data=data,
            raw=raw,
            usage=usage,
            latency_ms=latency_ms,
            model=answered_by,
            finish_reason=choice.finish_reason,
            error=error,
        )

    def _record(self, record: LLMCallRecord) -> None:
        if self._recorder is None:
            return
        try:
            self._recorder(record)
        except Exception:
            # Losing one log row must not lose the user's plan; the failure is logged loudly instead.
            log.exception("could not record an LLM call (%s, %s)", record.purpose, record.model)


def parse_json_object(text: str) -> dict[str, Any] | None:
    """``text`` decoded as a JSON object (a surrounding Markdown code fence is tolerated), else ``None``."""
    body = text.strip()
    if body.startswith("```"):
        body = body.removeprefix("```json").removeprefix("```").removesuffix("```").strip()
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _why_not_json(raw: str, *, refusal: str | None, finish_reason: str | None) -> str:
    if refusal:
        return f"the model refused: {refusal[:200]}"
    if finish_reason == "length":
        return "the reply was cut off at the output token limit"
    if not raw.strip():
        return "the reply was empty"
    return "the reply was not a JSON object"


def _usage(completion: Any, *, priced_as: str) -> TokenUsage:
    usage = completion.usage
    if usage is None:
        return TokenUsage()
    details = getattr(usage, "prompt_tokens_details", None)
    cached = getattr(details, "cached_tokens", None) or 0
    return TokenUsage.priced(
        priced_as,
        input_tokens=usage.prompt_tokens or 0,
        cached_tokens=cached,
        output_tokens=usage.completion_tokens or 0,
    )


def _failure(err: Exception, *, timeout: float) -> tuple[str, float | None]:
    """A short reason for a failed call, and the server's Retry-After in seconds if it sent one."""
    if isinstance(err, openai.APITimeoutError):
        return f"the model API did not answer within {timeout:g}s", None
    if isinstance(err, openai.APIConnectionError):
        return "could not connect to the model API", None
    if isinstance(err, openai.APIStatusError):
        retry_after = _retry_after(err.response.headers.get("retry-after"))
        status = err.status_code
        if isinstance(err, openai.AuthenticationError):
            return "the model API rejected the API key (401)", None
        if isinstance(err, openai.RateLimitError):
            return "the model API is rate limiting Baton (429)", retry_after
        if status >= 500:
            return f"the model API is failing ({status})", retry_after
        return f"the model API refused the request ({status}: {_short(_server_message(err))})", None
    if isinstance(err, openai.APIResponseValidationError | ValueError):
        return "the model API sent a malformed response", None
    return f"the model API call failed ({type(err).__name__})", None


def _server_message(err: openai.APIStatusError) -> str:
    """The ``message`` of OpenAI's error body, without the SDK's "Error code: NNN - " prefix."""
    body = err.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return str(inner["message"])
    return err.message


def _retry_after(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
