"""Writing, superseding, listing and deleting long-term memories (text already redacted by the caller)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from memory.recall import _ensure_vector_type, _vector

#: Cosine similarity above which a new memory in the same scope is the same memory (merged, not stored twice).
MERGE_SIMILARITY = 0.92

_COLUMNS = (
    "id, team_id, scope, channel_id, user_id, kind, text, source_kind, source_link, author_id, pinned, "
    "created_at, expires_at, superseded_by, embedding_model"
)


@dataclass(frozen=True)
class MemoryRecord:
    id: int
    team_id: str
    scope: str
    channel_id: str | None
    user_id: str | None
    kind: str
    text: str
    source_kind: str
    source_link: str | None
    author_id: str | None
    pinned: bool
    created_at: datetime
    expires_at: datetime | None
    superseded_by: int | None
    embedding_model: str | None


@dataclass(frozen=True)
class Written:
    memory: MemoryRecord
    merged: bool  # an equivalent memory existed; nothing new was stored
    superseded: int | None = None


def write_memory(
    conn: psycopg.Connection[Any],
    *,
    team_id: str,
    scope: str,
    text: str,
    key: str,
    channel_id: str | None = None,
    user_id: str | None = None,
    kind: str = "fact",
    source_kind: str = "explicit",
    source_link: str | None = None,
    source_channel: str | None = None,
    source_ts: str | None = None,
    author_id: str | None = None,
    expires_at: datetime | None = None,
    embedding: Sequence[float] | None = None,
    embedding_model: str | None = None,
    replaces: int | None = None,
) -> Written:
    """Store a memory once per ``key``; merge a near-duplicate in the same scope; supersede ``replaces``."""
    _ensure_vector_type(conn)
    with conn.transaction():
        existing = conn.execute(f"SELECT {_COLUMNS} FROM memories WHERE idempotency_key = %s", (key,)).fetchone()
        if existing is not None:
            return Written(MemoryRecord(**existing), merged=False, superseded=replaces)
        duplicate = _near_duplicate(
            conn,
            team_id=team_id,
            scope=scope,
            channel_id=channel_id,
            user_id=user_id,
            text=text,
            embedding=embedding,
            embedding_model=embedding_model,
        )
        if duplicate is not None and replaces is None:
            return Written(duplicate, merged=True)
        row = conn.execute(
            f"""
            INSERT INTO memories (team_id, scope, channel_id, user_id, kind, text, source_kind, source_link,
                                  source_channel, source_ts, author_id, expires_at, embedding, embedding_model,
                                  idempotency_key)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            RETURNING {_COLUMNS}
            """,
            (
                team_id,
                scope,
                channel_id if scope == "channel" else None,
                user_id if scope == "user" else None,
                kind,
                text,
                source_kind,
                source_link,
                source_channel,
                source_ts,
                author_id,
                expires_at,
                None if embedding is None else _vector(embedding),
                embedding_model if embedding is not None else None,
                key,
            ),
        ).fetchone()
        assert row is not None
        superseded = None
        if replaces is not None:
            # Only a memory the requester can see (this channel, workspace-wide, or their own) can be
            # corrected: an id from another channel must not be hidden from afar.
            done = conn.execute(
                """
                UPDATE memories SET superseded_by = %(new)s
                WHERE id = %(old)s AND team_id = %(team)s AND superseded_by IS NULL
                  AND (scope = 'workspace' OR (scope = 'channel' AND channel_id = %(channel)s)
                       OR (scope = 'user' AND user_id = %(user)s))
                RETURNING id
                """,
                {
                    "new": row["id"],
                    "old": replaces,
                    "team": team_id,
                    "channel": source_channel or channel_id,
                    "user": author_id,
                },
            ).fetchone()
            superseded = done["id"] if done else None
        return Written(MemoryRecord(**row), merged=False, superseded=superseded)


def _near_duplicate(
    conn: psycopg.Connection[Any],
    *,
    team_id: str,
    scope: str,
    channel_id: str | None,
    user_id: str | None,
    text: str,
    embedding: Sequence[float] | None,
    embedding_model: str | None = None,
) -> MemoryRecord | None:
    scope_sql = "team_id = %(team)s AND scope = %(scope)s AND superseded_by IS NULL"
    if scope == "channel":
        scope_sql += " AND channel_id = %(channel)s"
    elif scope == "user":
        scope_sql += " AND user_id = %(user)s"
    params: dict[str, Any] = {"team": team_id, "scope": scope, "channel": channel_id, "user": user_id, "text": text}
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM memories WHERE {scope_sql} AND lower(text) = lower(%(text)s) LIMIT 1", params
    ).fetchone()
    if row is None and embedding is not None:
        params["vec"] = _vector(embedding)
        params["model"] = embedding_model
        params["max"] = 1.0 - MERGE_SIMILARITY
        row = conn.execute(
            f"""
            SELECT {_COLUMNS} FROM memories
            WHERE {scope_sql} AND embedding IS NOT NULL AND embedding_model = %(model)s
              AND (embedding <=> %(vec)s::vector) <= %(max)s
            ORDER BY embedding <=> %(vec)s::vector LIMIT 1
            """,
            params,
        ).fetchone()
    return None if row is None else MemoryRecord(**row)


def load_memories(conn: psycopg.Connection[Any], *, team_id: str, ids: Sequence[int]) -> list[MemoryRecord]:
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM memories WHERE team_id = %s AND id = ANY(%s) ORDER BY id", (team_id, list(ids))
    ).fetchall()
    return [MemoryRecord(**row) for row in rows]


def list_for_channel(
    conn: psycopg.Connection[Any], *, team_id: str, channel_id: str, user_id: str, limit: int = 20
) -> list[MemoryRecord]:
    """What Baton remembers that this channel sees (channel, workspace, and the viewer's own), newest first."""
    rows = conn.execute(
        f"""
        SELECT {_COLUMNS} FROM memories
        WHERE team_id = %s AND superseded_by IS NULL
          AND (scope = 'workspace' OR (scope = 'channel' AND channel_id = %s) OR (scope = 'user' AND user_id = %s))
        ORDER BY pinned DESC, created_at DESC LIMIT %s
        """,
        (team_id, channel_id, user_id, limit),
    ).fetchall()
    return [MemoryRecord(**row) for row in rows]


def delete_memories(conn: psycopg.Connection[Any], *, team_id: str, ids: Sequence[int]) -> list[int]:
    """Delete for real (rows and embeddings). Returns the ids that existed in this workspace.

    Memories these ones superseded go too when the same person wrote them: forgetting your correction
    must not bring back the fact you corrected, but it cannot delete someone else's memory either (that
    one simply becomes current again).
    """
    rows = conn.execute(
        """
        WITH RECURSIVE doomed(id, author_id) AS (
            SELECT id, author_id FROM memories WHERE team_id = %(team)s AND id = ANY(%(ids)s)
            UNION
            SELECT m.id, m.author_id FROM memories m JOIN doomed d ON m.superseded_by = d.id
            WHERE m.team_id = %(team)s AND m.author_id IS NOT DISTINCT FROM d.author_id
        )
        DELETE FROM memories WHERE team_id = %(team)s AND id IN (SELECT id FROM doomed) RETURNING id
        """,
        {"team": team_id, "ids": list(ids)},
    ).fetchall()
    return sorted(row["id"] for row in rows)


def delete_expired(conn: psycopg.Connection[Any], *, now: datetime, unused_before: datetime | None) -> dict[str, int]:
    """Remove expired memories and, with a retention policy, unpinned ones unused since ``unused_before``.

    Returns how many went, per workspace.
    """
    rows = conn.execute(
        """
        DELETE FROM memories
        WHERE (expires_at IS NOT NULL AND expires_at <= %(now)s)
           OR (%(cutoff)s::timestamptz IS NOT NULL AND NOT pinned
               AND coalesce(last_used_at, created_at) < %(cutoff)s::timestamptz)
        RETURNING team_id
        """,
        {"now": now, "cutoff": unused_before},
    ).fetchall()
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["team_id"]] = counts.get(row["team_id"], 0) + 1
    return counts
