"""Embedding vectors of long-term memories (``memories.embedding``) and what made them (``memory_settings``).

``memory_settings`` holds one row: the embedding model and dimension Baton's vectors are made with. A
re-embed records its target there *before* it starts, so rows still carrying another model (or no
vector) are simply work left to do, whoever picks it up next. Every function takes a psycopg
connection; the callers own transactions except where a function says it opens one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from pgvector import Vector
from pgvector.psycopg import register_vector

from memory import locks
from memory.locks import try_advisory_lock

#: Key of the session-level advisory lock held by whoever writes vectors (embed job, re-embed).
EMBEDDING_LOCK_KEY = locks.EMBEDDING
#: pgvector's HNSW index accepts ``vector`` columns of up to 2,000 dimensions.
MAX_INDEXED_DIMENSIONS = 2000
_INDEX = "memories_embedding_hnsw"


@dataclass(frozen=True)
class VectorSettings:
    """The model and dimension stored vectors are (being) made with."""

    model: str
    dimensions: int


@dataclass(frozen=True)
class EmbeddingCounts:
    """Memories with a vector from ``model``, and the rest (no vector, or one from another model)."""

    embedded: int
    unembedded: int

    @property
    def total(self) -> int:
        return self.embedded + self.unembedded


def current_settings(conn: psycopg.Connection[Any]) -> VectorSettings | None:
    """The recorded embedding model and dimension, or ``None`` before anything was recorded."""
    row = conn.execute("SELECT embedding_model, dimensions FROM memory_settings").fetchone()
    if row is None:
        return None
    model, dimensions = _values(row, "embedding_model", "dimensions")
    return VectorSettings(model=model, dimensions=dimensions)


def record_settings(conn: psycopg.Connection[Any], model: str, dimensions: int) -> None:
    """Record (or replace) the model and dimension vectors are made with."""
    conn.execute(
        """
        INSERT INTO memory_settings (id, embedding_model, dimensions) VALUES (true, %s, %s)
        ON CONFLICT (id) DO UPDATE
            SET embedding_model = EXCLUDED.embedding_model, dimensions = EXCLUDED.dimensions, updated_at = now()
        """,
        (model, dimensions),
    )


def any_unembedded(conn: psycopg.Connection[Any]) -> bool:
    """True when some memory has no vector yet (stored while the embedding provider was down, or before it)."""
    return conn.execute("SELECT 1 FROM memories WHERE embedding IS NULL LIMIT 1").fetchone() is not None


def unembedded(conn: psycopg.Connection[Any], *, model: str, limit: int) -> list[tuple[int, str]]:
    """Up to ``limit`` memories (id, text) lacking a vector from ``model``, oldest id first."""
    rows = conn.execute(
        """
        SELECT id, text FROM memories
        WHERE embedding IS NULL OR embedding_model IS DISTINCT FROM %s
        ORDER BY id LIMIT %s
        """,
        (model, limit),
    ).fetchall()
    return [(ident, text) for ident, text in (_values(row, "id", "text") for row in rows)]


def counts(conn: psycopg.Connection[Any], *, model: str) -> EmbeddingCounts:
    """How many memories have a vector from ``model`` and how many do not."""
    row = conn.execute(
        """
        SELECT count(*) FILTER (WHERE embedding IS NOT NULL AND embedding_model = %s) AS embedded,
               count(*) FILTER (WHERE embedding IS NULL OR embedding_model IS DISTINCT FROM %s) AS unembedded
        FROM memories
        """,
        (model, model),
    ).fetchone()
    assert row is not None
    embedded, missing = _values(row, "embedded", "unembedded")
    return EmbeddingCounts(embedded=embedded, unembedded=missing)


def other_models(conn: psycopg.Connection[Any], *, model: str) -> list[str]:
    """Models other than ``model`` that stored vectors were made with (usually none)."""
    rows = conn.execute(
        """
        SELECT DISTINCT coalesce(embedding_model, '(unknown)') AS model FROM memories
        WHERE embedding IS NOT NULL AND embedding_model IS DISTINCT FROM %s
        ORDER BY 1
        """,
        (model,),
    ).fetchall()
    return [_values(row, "model")[0] for row in rows]


def store_embeddings(conn: psycopg.Connection[Any], rows: Sequence[tuple[int, Sequence[float], str]]) -> None:
    """Store ``(id, vector, model)`` for each memory, in one transaction. Deleted ids are skipped."""
    if not rows:
        return
    register_vector(conn)
    with conn.transaction(), conn.cursor() as cursor:
        cursor.executemany(
            "UPDATE memories SET embedding = %s, embedding_model = %s WHERE id = %s",
            [(Vector(list(vector)), model, ident) for ident, vector, model in rows],
        )


def column_dimensions(conn: psycopg.Connection[Any]) -> int:
    """The declared dimension of ``memories.embedding`` (its ``vector(N)`` type modifier)."""
    row = conn.execute(
        """
        SELECT atttypmod FROM pg_attribute
        WHERE attrelid = 'memories'::regclass AND attname = 'embedding' AND NOT attisdropped
        """
    ).fetchone()
    assert row is not None, "memories.embedding is missing: run `baton migrate`"
    return int(_values(row, "atttypmod")[0])


def change_dimensions(conn: psycopg.Connection[Any], dimensions: int) -> None:
    """Make ``memories.embedding`` a ``vector(dimensions)``, dropping every stored vector, in one transaction.

    The HNSW index is dropped first (so the NULLing and the type change do not maintain it) and rebuilt
    on the empty column afterwards.
    """
    if isinstance(dimensions, bool) or not isinstance(dimensions, int):
        raise TypeError(f"dimensions must be an int, got {dimensions!r}")
    if not 1 <= dimensions <= MAX_INDEXED_DIMENSIONS:
        raise ValueError(f"dimensions must be from 1 to {MAX_INDEXED_DIMENSIONS}, got {dimensions}")
    with conn.transaction():
        # A deliberate admin operation that rewrites the table: exempt it from the usual 30 s statement limit.
        conn.execute("SET LOCAL statement_timeout = 0")
        conn.execute(f"DROP INDEX IF EXISTS {_INDEX}")
        conn.execute(
            "UPDATE memories SET embedding = NULL, embedding_model = NULL "
            "WHERE embedding IS NOT NULL OR embedding_model IS NOT NULL"
        )
        # DDL takes no parameters; ``dimensions`` is a checked int, so formatting it in is safe.
        conn.execute(f"ALTER TABLE memories ALTER COLUMN embedding TYPE vector({dimensions})")
        conn.execute(f"CREATE INDEX {_INDEX} ON memories USING hnsw (embedding vector_cosine_ops)")


def embedding_lock(conn: psycopg.Connection[Any]) -> contextlib.AbstractContextManager[bool]:
    """Try to take the embedding writers' advisory lock; yields whether it was taken (never waits).

    ``conn`` must be in autocommit mode: the lock belongs to the session and is released on exit.
    """
    return try_advisory_lock(conn, EMBEDDING_LOCK_KEY)


def _values(row: Any, *keys: str) -> tuple[Any, ...]:
    # Works with both dict rows (memory.db.connect) and tuple rows.
    if isinstance(row, dict):
        return tuple(row[key] for key in keys)
    return tuple(row[: len(keys)])
