"""What Baton has learned about each model on its model server, shared by every process through Redis.

The pure rules (the forms, what a rejection means, the schema a grammar engine takes) are in
:mod:`core.model_capabilities`; this module keeps their outcome. Learning happens on use: the first call to a
model is sent in the strongest form; a rejection that names what the server does not take (HTTP 4xx or 5xx)
switches that model to the next form at once, and the choice is written to Redis for
``defaults.LLM_CAPABILITIES_TTL_SECONDS``, so every worker and the next day's first call start from it. No
probe requests are made on the happy path (a server that takes the strongest form never sees a second request).

Why Redis and not Postgres: this is a cache of facts any process can re-learn with one request, not state a
user depends on; a TTL is what lets a server upgrade be noticed, and Redis has one. Without Redis (some tests,
``baton doctor`` before Redis is up) each client keeps its own copy in memory.

A pinned setting (``BATON_LLM_STRUCTURED``, ``BATON_LLM_LIMIT_PARAM``, ``BATON_LLM_STREAM``) is never changed by
what is learned: a rejection of a pinned form is a configuration error, reported with the value to set.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from dataclasses import replace
from typing import Any, Protocol, cast

import redis

from core.model_capabilities import (
    LIMIT_PARAMS,
    STREAM,
    STRONGEST,
    Capabilities,
    LimitParam,
    Rejection,
    Structured,
    read_rejection,
)

log = logging.getLogger(__name__)

_KEY_PREFIX = "baton:llm_caps:"


class CapabilityStore(Protocol):
    """Where learned :class:`Capabilities` are kept, by server and model."""

    def get(self, key: str) -> Capabilities | None: ...

    def put(self, key: str, caps: Capabilities) -> None: ...


class MemoryCapabilityStore:
    """:class:`CapabilityStore` in this process only (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, Capabilities] = {}

    def get(self, key: str) -> Capabilities | None:
        with self._lock:
            return self._entries.get(key)

    def put(self, key: str, caps: Capabilities) -> None:
        with self._lock:
            self._entries[key] = caps


class RedisCapabilityStore:
    """:class:`CapabilityStore` in Redis with a TTL, falling back to memory when Redis fails (never failing a call)."""

    def __init__(self, connection: redis.Redis, *, ttl_seconds: int) -> None:
        self._redis = connection
        self._ttl = ttl_seconds
        self._memory = MemoryCapabilityStore()

    def get(self, key: str) -> Capabilities | None:
        try:
            stored = self._redis.get(_KEY_PREFIX + key)
        except redis.RedisError as err:
            log.warning("could not read the model's capabilities from Redis: %s", err)
            return self._memory.get(key)
        return Capabilities.from_json(cast(bytes, stored)) if stored is not None else self._memory.get(key)

    def put(self, key: str, caps: Capabilities) -> None:
        self._memory.put(key, caps)
        try:
            self._redis.set(_KEY_PREFIX + key, caps.to_json(), ex=self._ttl)
        except redis.RedisError as err:
            log.warning("could not keep the model's capabilities in Redis: %s", err)


class ModelCapabilities:
    """How to ask each model on one server: the pins, else what was learned, else :data:`STRONGEST`."""

    def __init__(
        self,
        *,
        base_url: str | None,
        store: CapabilityStore | None = None,
        structured: str = "auto",
        limit_param: str = "auto",
        stream: str = "auto",
    ) -> None:
        """``structured``, ``limit_param`` and ``stream`` are the settings' values ("auto", or the pinned choice;
        ``stream`` is pinned with "on" or "off")."""
        self._server = hashlib.sha256((base_url or "").encode()).hexdigest()[:16]
        self._store = store or MemoryCapabilityStore()
        self._structured = None if structured == "auto" else cast(Structured, structured)
        self._limit = None if limit_param == "auto" else cast(LimitParam, limit_param)
        self._stream = None if stream == "auto" else stream == "on"

    def for_model(self, model: str) -> Capabilities:
        """How to ask ``model`` now."""
        caps = self._store.get(self._key(model)) or STRONGEST
        if self._structured is not None:
            caps = replace(caps, structured=self._structured)
        if self._limit is not None:
            caps = replace(caps, limit_param=self._limit)
        if self._stream is not None:
            caps = replace(caps, stream=self._stream)
        return caps

    def pinned(self, rejection: Rejection) -> bool:
        """Whether what ``rejection`` rejected was pinned by a setting (then nothing is learned from it)."""
        if rejection.rejected in LIMIT_PARAMS:
            return self._limit is not None
        if rejection.rejected == STREAM:
            return self._stream is not None
        return self._structured is not None

    def learn(self, model: str, caps: Capabilities) -> None:
        """Keep ``caps`` for ``model`` (for every process, when the store is Redis). A pinned choice is not kept as if
        learned: unpinning it later starts again from what was learned, or the strongest form."""
        known = self._store.get(self._key(model)) or STRONGEST
        if self._structured is not None:
            caps = replace(caps, structured=known.structured)
        if self._limit is not None:
            caps = replace(caps, limit_param=known.limit_param)
        if self._stream is not None:
            caps = replace(caps, stream=known.stream)
        self._store.put(self._key(model), replace(caps, learned=True))

    def _key(self, model: str) -> str:
        return f"{self._server}:{model}"


def sent_capabilities(body: Any) -> Capabilities:
    """The form a chat request ``body`` (a dict, as sent) was asked in: read back from the request, so the SDK's
    response hook can judge a rejection without knowing the caller."""
    if not isinstance(body, dict):
        return STRONGEST
    response_format = body.get("response_format")
    kind = response_format.get("type") if isinstance(response_format, dict) else None
    structured: Structured = kind if kind in ("json_schema", "json_object") else "text"
    limit: LimitParam = "max_completion_tokens" if "max_completion_tokens" in body else "max_tokens"
    return Capabilities(structured=structured, limit_param=limit, stream=body.get("stream") is True)


def no_retry_on_rejection(response: Any) -> None:
    """SDK response hook: an error answer (4xx or 5xx) whose message names a form or parameter of the request is a
    fact about the server, not a passing fault, so it is marked ``x-should-retry: false`` and the SDK hands it
    over at once (``llama-cpp-python`` answers a JSON schema with HTTP 500, which the SDK would retry twice)."""
    if response.status_code < 400:
        return
    try:
        response.read()
        body, sent = response.json(), json.loads(response.request.content or b"null")
    except ValueError:
        return
    message = error_message(body, default=response.text)
    if read_rejection(message, sent=sent_capabilities(sent), status=response.status_code) is not None:
        response.headers["x-should-retry"] = "false"


def error_message(body: Any, *, default: str) -> str:
    """The ``message`` of an OpenAI-style error body (``{"error": {"message": ...}}``, or ``{"message": ...}``,
    or FastAPI's ``{"detail": ...}``), else ``default``."""
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return str(inner["message"])
        if isinstance(inner, str):
            return inner
        if "detail" in body:
            return json.dumps(body["detail"]) if not isinstance(body["detail"], str) else body["detail"]
    return default
