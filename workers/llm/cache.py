"""The response cache: answers to identical (model, prompt, schema) calls, replayed from Redis.

Only purposes whose answer may be replayed are cached (:data:`REPLAYABLE`): the notes of the same
meeting chunk asked again after a retry, the same merge, the same digest facts. Plans are never
cached: planning reads the clock, memory and the thread, and a plan must be made fresh. Entries
expire after ``BATON_LLM_CACHE_TTL`` seconds (0 turns the cache off); only usable answers (a JSON
object) are stored. Hits and misses are counted in Redis (:data:`HITS_KEY`, :data:`MISSES_KEY`) for
metrics.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import redis

log = logging.getLogger(__name__)

#: Purposes whose answers are safe to replay for an identical prompt.
REPLAYABLE = frozenset({"meeting_chunk", "meeting_merge", "meeting_notes", "digest"})
#: Redis counters of cache lookups that found an answer, and that did not.
HITS_KEY = "baton:llm_cache:hits"
MISSES_KEY = "baton:llm_cache:misses"
_ENTRY_PREFIX = "baton:llm_cache:entry:"


@dataclass(frozen=True)
class CachedReply:
    """What is kept of an answer: its text and who wrote it (tokens are not: a replay costs none)."""

    raw: str
    model: str
    finish_reason: str | None = None


class ResponseCache(Protocol):
    """Where replayable answers are kept, by :func:`cache_key`."""

    def get(self, key: str) -> CachedReply | None: ...

    def put(self, key: str, reply: CachedReply) -> None: ...


def cache_key(*, model: str, messages: tuple[Mapping[str, str], ...], schema_name: str,
              schema: Mapping[str, Any]) -> str:
    """SHA-256 of everything that shapes the answer: the model, the messages in order, and the schema."""
    payload = {"model": model, "messages": [dict(m) for m in messages], "schema_name": schema_name,
               "schema": schema}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


class RedisResponseCache:
    """:class:`ResponseCache` in Redis with a TTL. A Redis failure is a miss, never a failed call."""

    def __init__(self, connection: redis.Redis, *, ttl_seconds: int) -> None:
        if ttl_seconds <= 0:
            raise ValueError("a cache needs a TTL of at least one second (0 means: build no cache)")
        self._redis = connection
        self._ttl = ttl_seconds

    def get(self, key: str) -> CachedReply | None:
        """The stored answer for ``key``, counting the hit or miss."""
        try:
            stored = self._redis.get(_ENTRY_PREFIX + key)
            self._redis.incr(HITS_KEY if stored is not None else MISSES_KEY)
        except redis.RedisError as err:
            log.warning("LLM cache lookup failed, calling the model: %s", err)
            return None
        if stored is None:
            return None
        try:
            return CachedReply(**json.loads(stored))
        except (TypeError, ValueError):
            log.warning("LLM cache entry %s is unreadable; ignoring it", key[:12])
            return None

    def put(self, key: str, reply: CachedReply) -> None:
        """Keep ``reply`` under ``key`` for the TTL."""
        try:
            self._redis.set(_ENTRY_PREFIX + key, json.dumps(asdict(reply)), ex=self._ttl)
        except redis.RedisError as err:
            log.warning("could not store an LLM answer in the cache: %s", err)


def cache_counts(connection: redis.Redis) -> tuple[int, int]:
    """(hits, misses) counted since Redis started (or was flushed)."""
    hits, misses = connection.mget(HITS_KEY, MISSES_KEY)
    return int(hits or 0), int(misses or 0)
