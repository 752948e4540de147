"""Synthetic long-term memories for the recall benchmark, and loading them into a migrated database.

Vectors are clustered the way sentence embeddings are: every memory is one of ``CENTROIDS`` random
topics plus gaussian noise, normalised. Channels have favourite topics (half of a channel's memories
come from its ``HOME_TOPICS``), as real channels do, so neighbours are neither all in one channel nor
spread uniformly. Two members of one topic have cosine similarity ~0.5, unrelated memories ~0.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from pgvector.psycopg import register_vector

from memory.db import connect

TEAM = "TBENCH"
CHANNELS = 100
DIM = 384
CENTROIDS = 500
HOME_TOPICS = 10
TOPIC_AFFINITY = 0.5
#: Norm of the noise added to a unit centroid: cos(member, centroid) = 1/sqrt(1 + r²) ≈ 0.71.
MEMBER_NOISE = 1.0
#: Norm of the noise added to a stored vector to make a query: cos(query, source) ≈ 0.94.
QUERY_NOISE = 0.35
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
#: The embedding model every stored vector is labelled with (recall filters on the current model).
MODEL = "bench-synthetic"
#: Memory for building the HNSW graph in one pass (the server default of 64MB makes 100k x 384 spill).
BUILD_MAINTENANCE_WORK_MEM = "1GB"

_WHO = ("The api team", "Alice", "Bob", "Ops", "Support", "Finance", "The on-call", "Design", "Security", "Sales")
_VERB = ("decided to", "prefers to", "agreed to", "will", "asked us to", "never wants to", "usually tries to")
_ACTION = ("deploy", "roll back", "review", "freeze", "rotate", "archive", "announce", "migrate", "test", "price")
_OBJECT = ("the billing service", "release notes", "the staging cluster", "API keys", "the onboarding flow",
           "invoices", "the mobile app", "the status page", "customer exports", "the search index")
_WHEN = ("on Fridays", "before launch", "after the incident review", "every sprint", "in the morning",
         "once QA signs off", "at quarter end", "when traffic is low")


@dataclass(frozen=True)
class Corpus:
    """Rows to store: unit float32 vectors, each with a channel index, a topic and a sentence."""

    vectors: np.ndarray
    channels: np.ndarray
    topics: np.ndarray
    texts: list[str]
    ages_days: np.ndarray

    def __len__(self) -> int:
        return len(self.texts)

    def head(self, rows: int) -> Corpus:
        """The first ``rows`` memories (same distribution, same topics)."""
        return Corpus(self.vectors[:rows], self.channels[:rows], self.topics[:rows], self.texts[:rows],
                      self.ages_days[:rows])


@dataclass(frozen=True)
class Query:
    channel: str
    vector: np.ndarray


def channel_id(index: int) -> str:
    return f"CBENCH{index:03d}"


def _unit(matrix: np.ndarray) -> np.ndarray:
    return matrix / np.linalg.norm(matrix, axis=-1, keepdims=True)


def make_corpus(rows: int, *, seed: int = 7) -> Corpus:
    """``rows`` clustered memories across ``CHANNELS`` channels, reproducible from ``seed``."""
    rng = np.random.default_rng(seed)
    centroids = _unit(rng.standard_normal((CENTROIDS, DIM)))
    channels = rng.integers(0, CHANNELS, rows)
    home = rng.integers(0, CENTROIDS, (CHANNELS, HOME_TOPICS))
    local = rng.random(rows) < TOPIC_AFFINITY
    topics = np.where(local, home[channels, rng.integers(0, HOME_TOPICS, rows)], rng.integers(0, CENTROIDS, rows))
    vectors = np.empty((rows, DIM), dtype=np.float32)
    for start in range(0, rows, 10_000):  # in chunks, to keep the float64 noise small
        stop = min(rows, start + 10_000)
        noise = rng.standard_normal((stop - start, DIM)) * (MEMBER_NOISE / np.sqrt(DIM))
        vectors[start:stop] = _unit(centroids[topics[start:stop]] + noise)
    words = rng.integers(0, 1 << 30, (rows, 4))
    texts = [
        f"{_WHO[w[0] % len(_WHO)]} {_VERB[w[1] % len(_VERB)]} {_ACTION[t % len(_ACTION)]} "
        f"{_OBJECT[(t // len(_ACTION)) % len(_OBJECT)]} {_WHEN[w[2] % len(_WHEN)]} (#{w[3] % 10_000})"
        for w, t in zip(words.tolist(), topics.tolist(), strict=True)
    ]
    return Corpus(vectors, channels, topics, texts, rng.random(rows) * 365)


def make_queries(corpus: Corpus, count: int, *, seed: int = 11, channels: Sequence[int] | None = None) -> list[Query]:
    """Noisy copies of random stored vectors, each asked in the channel of the memory it copies.

    The channel is drawn uniformly from ``channels`` (default: all of them).
    """
    rng = np.random.default_rng(seed)
    by_channel = [np.flatnonzero(corpus.channels == c) for c in range(CHANNELS)]
    pool = list(range(CHANNELS)) if channels is None else list(channels)
    queries = []
    for _ in range(count):
        channel = pool[int(rng.integers(0, len(pool)))]
        source = corpus.vectors[int(rng.choice(by_channel[channel]))]
        noisy = source + rng.standard_normal(DIM) * (QUERY_NOISE / np.sqrt(DIM))
        queries.append(Query(channel_id(channel), (noisy / np.linalg.norm(noisy)).astype(np.float32)))
    return queries


def load(url: str, corpus: Corpus, *, index_options: str | None = None) -> dict[str, Any]:
    """COPY ``corpus`` into the (empty, migrated) ``memories`` table, then build the HNSW index.

    The migration's index is dropped first and recreated from its own definition afterwards (plus
    ``WITH (index_options)`` when given, e.g. ``m = 32, ef_construction = 128``), the usual way to
    bulk-load: one graph build instead of 100,000 incremental inserts. Row ``i`` of the corpus gets
    id ``i + 1``, which the benchmark relies on to look vectors up by id.
    """
    notices: list[str] = []
    with connect(url) as conn:
        conn.add_notice_handler(lambda diag: notices.append(diag.message_primary or ""))
        conn.execute("SET statement_timeout = 0")
        register_vector(conn)
        row = conn.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'memories_embedding_hnsw'").fetchone()
        assert row is not None, "migration 0004 did not create memories_embedding_hnsw"
        index_sql = row["indexdef"] + (f" WITH ({index_options})" if index_options else "")
        conn.execute("DROP INDEX memories_embedding_hnsw")

        started = time.perf_counter()
        columns = "team_id, scope, channel_id, kind, text, embedding, embedding_model, source_kind, created_at"
        with conn.cursor() as cur, cur.copy(f"COPY memories ({columns}) FROM STDIN WITH (FORMAT BINARY)") as copy:
            copy.set_types(["text", "text", "text", "text", "text", "vector", "text", "text", "timestamptz"])
            for i in range(len(corpus)):
                copy.write_row((TEAM, "channel", channel_id(int(corpus.channels[i])), "fact", corpus.texts[i],
                                corpus.vectors[i], MODEL, "explicit",
                                NOW - timedelta(days=float(corpus.ages_days[i]))))
        copy_seconds = time.perf_counter() - started
        ids = conn.execute("SELECT min(id) AS first, max(id) AS last, count(*) AS n FROM memories").fetchone()
        assert ids == {"first": 1, "last": len(corpus), "n": len(corpus)}, f"ids are not 1..{len(corpus)}: {ids}"

        started = time.perf_counter()
        conn.execute("VACUUM ANALYZE memories")
        vacuum_seconds = time.perf_counter() - started

        workers = conn.execute("SHOW max_parallel_maintenance_workers").fetchone()
        conn.execute(f"SET maintenance_work_mem = '{BUILD_MAINTENANCE_WORK_MEM}'")
        started = time.perf_counter()
        conn.execute(index_sql)
        build_seconds = time.perf_counter() - started
        conn.execute("ANALYZE memories")
        size = conn.execute(
            "SELECT pg_relation_size('memories_embedding_hnsw') AS index_bytes, "
            "pg_total_relation_size('memories') AS table_bytes"
        ).fetchone()
    assert size is not None and workers is not None
    return {
        "rows": len(corpus),
        "copy_seconds": copy_seconds,
        "copy_rows_per_second": len(corpus) / copy_seconds,
        "vacuum_analyze_seconds": vacuum_seconds,
        "index_sql": index_sql,
        "index_build_seconds": build_seconds,
        "index_build_maintenance_work_mem": BUILD_MAINTENANCE_WORK_MEM,
        "index_build_parallel_workers": workers["max_parallel_maintenance_workers"],
        "index_mb": size["index_bytes"] / 2**20,
        "table_total_mb": size["table_bytes"] / 2**20,
        "notices": [n for n in notices if n],
    }


def merge_channels(url: str, corpus: Corpus, groups: dict[int, Sequence[int]]) -> tuple[Corpus, float]:
    """Fold channels into bigger ones (``{into: [from, ...]}``) in the database and in a copy of ``corpus``.

    Makes scopes of several sizes in one table. The HNSW index is dropped for the update and rebuilt
    after it (returns its build seconds), so the graph is as fresh as after :func:`load`.
    """
    channels = corpus.channels.copy()
    with connect(url) as conn:
        conn.execute("SET statement_timeout = 0")
        row = conn.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'memories_embedding_hnsw'").fetchone()
        assert row is not None
        conn.execute("DROP INDEX memories_embedding_hnsw")
        for into, sources in groups.items():
            conn.execute("UPDATE memories SET channel_id = %s WHERE team_id = %s AND channel_id = ANY(%s)",
                         (channel_id(into), TEAM, [channel_id(c) for c in sources]))
            channels[np.isin(channels, list(sources))] = into
        conn.execute("VACUUM FULL memories")
        conn.execute("ANALYZE memories")
        conn.execute(f"SET maintenance_work_mem = '{BUILD_MAINTENANCE_WORK_MEM}'")
        started = time.perf_counter()
        conn.execute(row["indexdef"])
        build_seconds = time.perf_counter() - started
        conn.execute("ANALYZE memories")
    merged = Corpus(corpus.vectors, channels, corpus.topics, corpus.texts, corpus.ages_days)
    return merged, build_seconds
