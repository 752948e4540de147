"""Long-term memory as jobs use it: the embedding provider, query embeddings, planner context."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from core.context_budget import estimate_tokens
from core.redaction import DEFAULT_REDACTOR
from memory.db import Conn
from memory.recall import Recalled, recall
from memory.vectors import column_dimensions
from workers.job_context import WorkerContext
from workers.memories.embeddings import EmbeddingUnavailable, choose_provider

log = logging.getLogger(__name__)

#: Share of the planning prompt for remembered facts.
MEMORY_CONTEXT_TOKENS = 600
_PROVIDER_KEY = "embedding_provider"


def provider(ctx: WorkerContext) -> Any:
    """The embedding provider for this process (chosen once from the settings), or None."""
    if _PROVIDER_KEY not in ctx.extras:
        # The job clock times a failing API's backoff (so tests move it instead of sleeping).
        ctx.extras[_PROVIDER_KEY] = choose_provider(ctx.settings, clock=lambda: ctx.now().timestamp())
    return ctx.extras[_PROVIDER_KEY]


def install_provider(ctx: WorkerContext, chosen: Any) -> None:
    """Use ``chosen`` (possibly None) as this process's provider (the worker entry point preloads it)."""
    ctx.extras[_PROVIDER_KEY] = chosen


def embed_text(ctx: WorkerContext, text: str) -> tuple[Sequence[float], str] | None:
    """``(vector, model)`` for ``text``, or None when no provider is configured or it is down right now."""
    chosen = provider(ctx)
    if chosen is None:
        return None

    try:
        # Nothing leaves for an embedding API unredacted (queries included, not only stored memories).
        vector = chosen.embed([DEFAULT_REDACTOR.redact(text).text])[0]
    except EmbeddingUnavailable as err:
        # A backing-off provider said it once already (workers/memories/backoff.py); this text is found by full text.
        log.log(logging.DEBUG if err.reported else logging.WARNING,
                "embedding provider unavailable (%s); using full-text search only", err)
        return None
    if len(vector) != _column_dimensions(ctx):
        # Another dimension than the stored vectors: never mix them (see `baton memory reembed`).
        log.warning(
            "embedding has %s dimensions, memories store %s; using full-text search only",
            len(vector),
            _column_dimensions(ctx),
        )
        return None
    return vector, chosen.name


def _column_dimensions(ctx: WorkerContext) -> int:
    if "vector_dimensions" not in ctx.extras:
        with ctx.db() as conn:
            ctx.extras["vector_dimensions"] = column_dimensions(conn)
    return int(ctx.extras["vector_dimensions"])


def recall_for(
    ctx: WorkerContext,
    conn: Conn,
    *,
    team_id: str,
    channel_id: str,
    user_id: str,
    query: str,
    now: datetime,
    limit: int = 8,
    max_distance: float | None = None,
    touch: bool = True,
    budget_tokens: int | None = None,
) -> tuple[list[Recalled], bool]:
    """Recall memories for ``query``; the flag says whether vectors were used (False: full text only)."""
    embedded = embed_text(ctx, query)
    found = recall(
        conn,
        team_id=team_id,
        channel_id=channel_id,
        user_id=user_id,
        query=query,
        embedding=embedded[0] if embedded else None,
        model=embedded[1] if embedded else None,
        now=now,
        limit=limit,
        max_distance=max_distance,
        touch=touch,
        budget_tokens=budget_tokens,
    )
    return found, embedded is not None


def recall_for_request(
    ctx: WorkerContext, conn: Conn, record: Any, query: str, **options: Any
) -> tuple[list[Recalled], bool]:
    """:func:`recall_for` in the scope of a request: its workspace, channel and requester, now."""
    return recall_for(
        ctx,
        conn,
        team_id=record.team_id,
        channel_id=record.channel_id,
        user_id=record.user_id,
        query=query,
        now=ctx.now(),
        **options,
    )


def snippets(found: Sequence[Recalled]) -> tuple[str, ...]:
    """Memories as the planner sees them: id, scope, kind and date first, so it can cite or replace them."""
    lines = []
    used = 0
    for item in found:
        line = f"#{item.id} ({item.scope} {item.kind}, {item.created_at:%Y-%m-%d}): {item.text}"
        used += estimate_tokens(line)
        if used > MEMORY_CONTEXT_TOKENS:
            break
        lines.append(line)
    return tuple(lines)
