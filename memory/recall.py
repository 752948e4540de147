"""Hybrid retrieval of long-term memory: vector similarity + full text, fused by reciprocal rank.

Every query is scoped: the workspace (``team_id``) always, and within it the memories of this
channel, workspace-wide ones and the requester's own. pgvector's iterative index scan keeps the
HNSW index useful under these filters (without it a filtered query can come back short).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from pgvector.psycopg import register_vector

from core.context_budget import estimate_tokens

#: Reciprocal rank fusion constant (the usual 60): higher flattens the difference between ranks.
RRF_K = 60
#: Candidates taken from each retriever before fusion.
CANDIDATES = 40
#: How much recency can lift a memory (1.0 = none): recent ones get up to +25%.
RECENCY_WEIGHT = 0.25
RECENCY_HALF_LIFE_DAYS = 60.0
#: HNSW search breadth; with iterative scans the index keeps searching until the filter is satisfied.
EF_SEARCH = 100
#: Scopes with at most this many embedded memories are searched exactly (bench/README.md: HNSW recall
#: drops under very selective filters, while an exact scan of a few thousand rows takes milliseconds).
EXACT_SEARCH_MAX_ROWS = 5000

_SCOPE = """
    team_id = %(team)s AND superseded_by IS NULL
    AND (expires_at IS NULL OR expires_at > %(now)s)
    AND (scope = 'workspace'
         OR (scope = 'channel' AND channel_id = %(channel)s)
         OR (scope = 'user' AND user_id = %(user)s))
"""


@dataclass(frozen=True)
class Recalled:
    id: int
    text: str
    scope: str
    kind: str
    source_link: str | None
    created_at: datetime
    score: float


def vector_candidates(
    conn: psycopg.Connection[Any],
    *,
    team_id: str,
    channel_id: str,
    user_id: str,
    embedding: Sequence[float],
    now: datetime,
    limit: int = CANDIDATES,
    max_distance: float | None = None,
    model: str | None = None,
) -> list[int]:
    """Ids of the nearest memories in scope (cosine), using the HNSW index with an iterative scan.

    ``max_distance`` drops neighbours that are not actually similar (for "forget" and questions,
    where "nothing relevant" must be a possible answer).
    """
    _ensure_vector_type(conn)
    params = {"team": team_id, "channel": channel_id, "user": user_id, "now": now}
    # Small scopes are searched exactly through the scope index (recall 1.0, and faster than HNSW there,
    # see bench/README.md); large ones use HNSW with an iterative scan. "+ 0" keeps the planner from
    # serving the exact ORDER BY with the HNSW index.
    counted = conn.execute(
        f"SELECT count(*) AS n FROM (SELECT 1 FROM memories WHERE {_SCOPE} AND embedding IS NOT NULL "
        f"LIMIT {EXACT_SEARCH_MAX_ROWS + 1}) scoped",
        params,
    ).fetchone()
    in_scope = counted["n"] if isinstance(counted, dict) else counted[0]  # type: ignore[index]
    small = in_scope <= EXACT_SEARCH_MAX_ROWS
    order = "(embedding <=> %(vec)s::vector) + 0" if small else "embedding <=> %(vec)s::vector"
    with conn.transaction():
        conn.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
        conn.execute(f"SET LOCAL hnsw.ef_search = {EF_SEARCH}")
        rows = conn.execute(
            f"""
            SELECT id FROM (
                SELECT id, embedding <=> %(vec)s::vector AS distance FROM memories
                WHERE {_SCOPE} AND embedding IS NOT NULL
                  AND (%(model)s::text IS NULL OR embedding_model = %(model)s::text)
                ORDER BY {order} LIMIT %(limit)s
            ) nearest WHERE %(max)s::float8 IS NULL OR distance <= %(max)s::float8 ORDER BY distance
            """,
            {
                "team": team_id,
                "channel": channel_id,
                "user": user_id,
                "now": now,
                "limit": limit,
                "vec": _vector(embedding),
                "max": max_distance,
                "model": model,
            },
        ).fetchall()
    return [row["id"] if isinstance(row, dict) else row[0] for row in rows]


def text_candidates(
    conn: psycopg.Connection[Any],
    *,
    team_id: str,
    channel_id: str,
    user_id: str,
    query: str,
    now: datetime,
    limit: int = CANDIDATES,
) -> list[int]:
    """Ids of memories in scope matching any word of ``query`` (English stemming), best first."""
    words = [w for w in re.findall(r"\w+", query.lower()) if len(w) > 1][:32]
    if not words:
        return []
    rows = conn.execute(
        f"""
        SELECT id FROM memories, to_tsquery('english', %(q)s) AS q
        WHERE {_SCOPE} AND tsv @@ q
        ORDER BY ts_rank_cd(tsv, q) DESC, id DESC LIMIT %(limit)s
        """,
        {"team": team_id, "channel": channel_id, "user": user_id, "now": now, "limit": limit, "q": " | ".join(words)},
    ).fetchall()
    return [row["id"] for row in rows]


def recall(
    conn: psycopg.Connection[Any],
    *,
    team_id: str,
    channel_id: str,
    user_id: str,
    query: str,
    embedding: Sequence[float] | None,
    now: datetime,
    limit: int = 8,
    budget_tokens: int | None = None,
    max_distance: float | None = None,
    model: str | None = None,
    touch: bool = True,
) -> list[Recalled]:
    """The memories most relevant to ``query`` in scope, fused, recency-weighted, cut to a budget.

    With no ``embedding`` (no provider, or it is down) only full text is used.
    """
    ranked: list[list[int]] = [
        text_candidates(conn, team_id=team_id, channel_id=channel_id, user_id=user_id, query=query, now=now)
    ]
    if embedding is not None:
        ranked.append(
            vector_candidates(
                conn,
                team_id=team_id,
                channel_id=channel_id,
                user_id=user_id,
                embedding=embedding,
                now=now,
                max_distance=max_distance,
                model=model,
            )
        )
    fused: dict[int, float] = {}
    for ids in ranked:
        for rank, memory_id in enumerate(ids):
            fused[memory_id] = fused.get(memory_id, 0.0) + 1.0 / (RRF_K + rank + 1)
    if not fused:
        return []
    rows = conn.execute(
        "SELECT id, text, scope, kind, source_link, created_at FROM memories WHERE team_id = %s AND id = ANY(%s)",
        (team_id, list(fused)),
    ).fetchall()
    results = []
    for row in rows:
        age_days = max(0.0, (now - row["created_at"]).total_seconds() / 86400)
        recency = 1.0 + RECENCY_WEIGHT * math.exp(-age_days * math.log(2) / RECENCY_HALF_LIFE_DAYS)
        results.append(Recalled(score=fused[row["id"]] * recency, **row))
    results.sort(key=lambda item: item.score, reverse=True)
    results = results[:limit]
    if budget_tokens is not None:
        kept, used = [], 0
        for item in results:
            cost = estimate_tokens(item.text) + 8
            if used + cost > budget_tokens:
                break
            kept.append(item)
            used += cost
        results = kept
    if touch and results:
        conn.execute(
            "UPDATE memories SET last_used_at = %s WHERE team_id = %s AND id = ANY(%s)",
            (now, team_id, [item.id for item in results]),
        )
    return results


def _ensure_vector_type(conn: psycopg.Connection[Any]) -> None:
    """Register pgvector's type on a connection once (each registration costs catalog look-ups)."""
    if not getattr(conn, "_baton_vector_registered", False):
        register_vector(conn)
        conn._baton_vector_registered = True  # type: ignore[attr-defined]


def _vector(values: Sequence[float]) -> Any:
    import numpy as np
    from pgvector import Vector

    return Vector(np.asarray(values, dtype=np.float32))
