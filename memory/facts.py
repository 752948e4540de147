"""The store behind ``memory.remember``: explicit memories, redacted, embedded when possible.

Idempotent through ``memories.idempotency_key``; near-duplicates in the same scope are merged; a
correction supersedes the memory it replaces. Redaction runs here, before anything is stored or
embedded, so no caller can skip it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from core.redaction import DEFAULT_REDACTOR, MARKER, Redactor
from memory.store import MemoryRecord, delete_memories, load_memories, write_memory

#: ``embed(text) -> (vector, model name)``, or None when no embedding provider is reachable right now
#: (the memory is stored without a vector and embedded later by the embed-pending job).
Embed = Callable[[str], tuple[Sequence[float], str] | None]


@dataclass(frozen=True)
class StoredFact:
    id: int
    scope: str
    text: str
    merged: bool = False
    superseded: int | None = None
    redacted: tuple[str, ...] = ()


class PostgresFactStore:
    """Explicit memories in Postgres; ``connect`` returns a new dict-row connection (``memory.db.connect``)."""

    def __init__(
        self,
        connect: Callable[[], psycopg.Connection[Any]],
        *,
        embed: Embed | None = None,
        redactor: Redactor = DEFAULT_REDACTOR,
    ) -> None:
        self._connect = connect
        self._embed = embed
        self._redactor = redactor

    def remember(
        self,
        *,
        team_id: str,
        scope: str,
        channel_id: str | None,
        user_id: str | None,
        text: str,
        source: str | None,
        author_id: str | None,
        key: str,
        kind: str = "fact",
        replaces: int | None = None,
        source_channel: str | None = None,
        source_ts: str | None = None,
    ) -> StoredFact:
        """Store a memory, or return the one already stored under ``key`` (or an equivalent one)."""
        redaction = self._redactor.redact(text)
        embedded = self._embed(redaction.text) if self._embed is not None else None
        with self._connect() as conn:
            written = write_memory(
                conn,
                team_id=team_id,
                scope=scope,
                text=redaction.text,
                key=key,
                channel_id=channel_id,
                user_id=user_id,
                kind=kind,
                source_kind="explicit",
                source_link=source,
                source_channel=source_channel,
                source_ts=source_ts,
                author_id=author_id,
                embedding=embedded[0] if embedded else None,
                embedding_model=embedded[1] if embedded else None,
                replaces=replaces,
            )
        memory = written.memory
        # The planner may have redacted the text already (it never sends secrets to the model): count
        # those markers too, so the confirmation can say what was removed.
        kinds = set(redaction.kinds) | {m.group(1) for m in MARKER.finditer(redaction.text)}
        return StoredFact(
            memory.id,
            memory.scope,
            memory.text,
            merged=written.merged,
            superseded=written.superseded,
            redacted=tuple(sorted(kinds)),
        )

    def facts(self, *, team_id: str) -> list[MemoryRecord]:
        """Every explicit memory of a workspace, oldest first (for inspection and tests)."""
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT id FROM memories WHERE team_id = %s AND source_kind = 'explicit' ORDER BY id", (team_id,)
            ).fetchall()
            return load_memories(conn, team_id=team_id, ids=[row["id"] for row in rows])

    def forget(self, *, team_id: str, fact_id: int) -> bool:
        """Delete a memory of this workspace for real; False when there was none."""
        with self._connect() as conn:
            return bool(delete_memories(conn, team_id=team_id, ids=[fact_id]))
