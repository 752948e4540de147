"""``baton doctor``'s real model calls: one tiny completion, asked the way Baton asks (the learned or pinned
structured-output form, an output limit), and one embedding when the LLM API makes them. Each reports PASS or FAIL
with the server's own message, and what Baton detected about the server."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import openai

from core import defaults
from core.settings import Settings
from workers.llm.capabilities import ModelCapabilities
from workers.llm.client import Conversation, LLMClient, LLMUnavailable
from workers.llm.guard import server_message
from workers.memories.embeddings import EmbeddingUnavailable, OpenAIEmbeddings, choose_provider


@dataclass(frozen=True)
class Check:
    """One doctor line: what was checked, whether it passed, and what was seen."""

    name: str
    ok: bool
    detail: str


#: The doctor's question: the smallest one that still needs the model to produce JSON of a schema.
PROBE = Conversation(
    messages=({"role": "user", "content": 'Reply with the JSON object {"ok": true} and nothing else.'},)
)
PROBE_SCHEMA: dict[str, Any] = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}


def completion_check(settings: Settings) -> Check:
    """One completion of :data:`PROBE` on the chat model, with no retries and the usual timeout."""
    capabilities = ModelCapabilities(
        base_url=settings.openai_base_url, structured=settings.llm_structured, limit_param=settings.llm_limit_param,
        stream=settings.llm_stream,
    )
    llm = LLMClient(
        api_key=settings.openai_api_key,
        base_url=settings.openai_base_url,
        model=settings.chat_model,
        timeout=defaults.HTTP_TIMEOUT_SECONDS,
        max_retries=0,
        capabilities=capabilities,
        output_limits={"doctor": defaults.DOCTOR_OUTPUT_TOKENS},
    )
    started = time.monotonic()
    try:
        reply = llm.complete_json(
            purpose="doctor", prompt=PROBE, schema_name="doctor", schema=PROBE_SCHEMA, team_id="doctor"
        )
    except LLMUnavailable as err:
        return Check("completion", False, f"{settings.chat_model}: {_with_server_message(err)}")
    detected = llm.capabilities.for_model(settings.chat_model).describe()
    took = f"{time.monotonic() - started:.1f}s"
    if reply.data is None:
        return Check(
            "completion",
            False,
            f"{settings.chat_model} answered in {took} but not with JSON ({reply.error}); detected: {detected}",
        )
    return Check("completion", True, f"{settings.chat_model} answered in {took}; detected: {detected}")


def embedding_check(settings: Settings) -> Check | None:
    """One embedding when the settings send embeddings to the LLM API (None otherwise: the local model, or none)."""
    try:
        provider = choose_provider(settings)
    except ValueError as err:
        return Check("embedding", False, str(err))
    if not isinstance(provider, OpenAIEmbeddings):
        if provider is not None:
            provider.close()
        return None
    try:
        with provider:
            [vector] = provider.embed(["baton doctor"])
    except EmbeddingUnavailable as err:
        return Check(
            "embedding",
            False,
            f"{settings.embedding_model}: {err.reason} (BATON_EMBEDDING_PROVIDER=none "
            "or local avoids the LLM API for memory)",
        )
    return Check("embedding", True, f"{settings.embedding_model}: {len(vector)} dimensions")


def _with_server_message(err: LLMUnavailable) -> str:
    """``err``'s reason, with the server's own message when the reason does not carry it (a 5xx)."""
    cause = err.__cause__
    if isinstance(cause, openai.APIStatusError):
        message = " ".join(server_message(cause).split())[:300]
        if message and message not in err.reason:
            return f"{err.reason}: the server said {message!r}"
    return err.reason
