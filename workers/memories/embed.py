"""Giving memories their vectors: the background job, the start-up check, and the deliberate re-embed.

* :func:`embed_pending_memories` (an RQ job; the reconciler enqueues it) embeds memories that lack a
  vector from the current provider. When the provider is down it leaves them for the next run: until
  then retrieval finds them by full-text search. It never changes the model or dimension of stored
  vectors; when the configured provider differs from them it only logs why and does nothing.
* :func:`check_embedding_settings` says, in one line, when stored vectors do not match the provider.
* :func:`reembed` (``baton memory reembed``) moves every vector to the current provider, changing the
  column's dimension first if needed. It records its target before touching anything, so an
  interrupted run is finished by the next one (or, row by row, by the background job).

Exceptions::

    EmbeddingBusy          another process is writing vectors (a re-embed, or the job); try again later
    EmbeddingUnavailable   (from workers.memories.embeddings) the provider failed; the re-embed can be rerun
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import psycopg

from core.settings import SettingsError
from memory import vectors
from workers.job_context import current
from workers.memories.embeddings import EmbeddingProvider, EmbeddingUnavailable
from workers.memories.support import provider as process_provider

log = logging.getLogger(__name__)

#: Memories embedded per database round trip by the background job (the provider batches further).
JOB_BATCH = 128
#: Memories per step of ``baton memory reembed`` (each step is stored, and reported, before the next).
REEMBED_BATCH = 256

Progress = Callable[[int, int], None]


class EmbeddingBusy(Exception):
    """Another process holds the embedding writers' lock."""


def embed_pending_memories(limit: int = 500) -> int:
    """Embed up to ``limit`` memories lacking a vector from the current provider; return how many were embedded.

    Never fails for want of embeddings: with no provider, a mismatched one, another writer at work, or the
    provider down, it logs why and returns what it managed (often 0). The reconciler runs it again later.
    """
    ctx = current()
    try:
        # The process's provider: what it learned of the API (listed models, a failure it backs off from) holds.
        provider = process_provider(ctx)
    except SettingsError as err:
        log.error("memory embeddings are off: %s", err)
        return 0
    if provider is None:
        log.debug("no embedding provider configured; memories are found by full-text search")
        return 0
    with ctx.db() as conn:
        done = _embed_pending(conn, provider, limit=limit)
    if done:
        log.info("embedded %d memories with %s", done, provider.name)
    return done


def _embed_pending(conn: psycopg.Connection[Any], provider: EmbeddingProvider, *, limit: int) -> int:
    with vectors.embedding_lock(conn) as locked:
        if not locked:
            log.info("another process is writing memory vectors; leaving pending memories to it")
            return 0
        warning = check_embedding_settings(conn, provider)
        if warning is not None:
            log.warning("%s", warning)
            return 0
        if vectors.current_settings(conn) is None:
            vectors.record_settings(conn, provider.name, provider.dimensions)
        done = 0
        while done < limit:
            rows = vectors.unembedded(conn, model=provider.name, limit=min(JOB_BATCH, limit - done))
            if not rows:
                break
            try:
                _embed_and_store(conn, provider, rows)
            except EmbeddingUnavailable as err:
                log.log(
                    logging.DEBUG if err.reported else logging.WARNING,
                    "could not embed memories with %s (%s); they stay on full-text search until the next run",
                    provider.name,
                    err.reason,
                )
                break
            done += len(rows)
        return done


def check_embedding_settings(conn: psycopg.Connection[Any], provider: EmbeddingProvider) -> str | None:
    """One line saying why stored vectors do not fit ``provider`` (another model or dimension), else ``None``."""
    fix = "run `baton memory reembed` (until then memories are found by full-text search)"
    column = vectors.column_dimensions(conn)
    if column != provider.dimensions:
        return f"stored memory vectors have {column} dimensions but {provider.name} makes {provider.dimensions}: {fix}"
    stored = vectors.current_settings(conn)
    if stored is not None and (stored.model, stored.dimensions) != (provider.name, provider.dimensions):
        return (
            f"stored memory vectors were made with {stored.model} ({stored.dimensions} dimensions) but the "
            f"embedding provider is {provider.name} ({provider.dimensions} dimensions): {fix}"
        )
    if stored is None:
        others = vectors.other_models(conn, model=provider.name)
        if others:
            return (
                f"stored memory vectors were made with {', '.join(others)} but the embedding provider is "
                f"{provider.name}: {fix}"
            )
    return None


def reembed(
    conn: psycopg.Connection[Any],
    provider: EmbeddingProvider,
    *,
    batch: int = REEMBED_BATCH,
    progress: Progress | None = None,
) -> int:
    """Give every memory a vector from ``provider``; return how many this run embedded.

    Records ``provider`` as the target first, then (if the dimension differs) rebuilds the column, which
    drops every stored vector, then embeds in batches of ``batch``, calling ``progress(done, total)`` after
    each. Interrupted (the provider failed, the process died), it is simply run again: rows that already
    have a vector from ``provider`` are not redone. ``conn`` must be in autocommit mode.
    Raises :class:`EmbeddingBusy` or :class:`~workers.memories.embeddings.EmbeddingUnavailable`.
    """
    if batch < 1:
        raise ValueError(f"batch must be positive, got {batch}")
    with vectors.embedding_lock(conn) as locked:
        if not locked:
            raise EmbeddingBusy("another process is writing memory vectors; try again in a minute")
        vectors.record_settings(conn, provider.name, provider.dimensions)  # the intent: what a rerun resumes
        if vectors.column_dimensions(conn) != provider.dimensions:
            log.warning("changing memory vectors to %d dimensions; every stored vector is dropped", provider.dimensions)
            vectors.change_dimensions(conn, provider.dimensions)
        counts = vectors.counts(conn, model=provider.name)
        done, total, embedded = counts.embedded, counts.total, 0
        if progress is not None:
            progress(done, total)
        while rows := vectors.unembedded(conn, model=provider.name, limit=batch):
            _embed_and_store(conn, provider, rows)
            embedded += len(rows)
            done += len(rows)
            total = max(total, done)  # memories written meanwhile are embedded too
            if progress is not None:
                progress(done, total)
        vectors.record_settings(conn, provider.name, provider.dimensions)
    return embedded


def _embed_and_store(conn: psycopg.Connection[Any], provider: EmbeddingProvider, rows: list[tuple[int, str]]) -> None:
    embedded = provider.embed([text for _, text in rows])
    if len(embedded) != len(rows):
        raise EmbeddingUnavailable(f"{provider.name} returned {len(embedded)} vectors for {len(rows)} texts")
    ids = [ident for ident, _ in rows]
    stored = [(ident, vector, provider.name) for ident, vector in zip(ids, embedded, strict=True)]
    vectors.store_embeddings(conn, stored)
