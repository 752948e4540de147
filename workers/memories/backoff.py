"""Backing off a failing embeddings API: reported once, then left alone for a while, not retried on every write.

Every memory write and every recall embeds a text. With the API down (or answering every request with an error)
each of them would make the SDK's three attempts and log the same warning; instead the first failure is logged
once at WARNING, and for a backoff that doubles after each failed try (from
:data:`core.defaults.EMBEDDING_BACKOFF_SECONDS` up to :data:`core.defaults.EMBEDDING_BACKOFF_MAX_SECONDS`) calls
fail at once without touching the network. Nothing is lost meanwhile: memories are stored without a vector, found
by full-text search, and the background job (:func:`workers.memories.embed.embed_pending_memories`) gives them
their vectors once the API answers again. The clock is ``time.monotonic`` unless one is injected.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from core import defaults
from workers.memories.errors import EmbeddingUnavailable

log = logging.getLogger(__name__)


class Backoff:
    """One embeddings provider's failure streak: when it may be asked again, and whether that was said already."""

    def __init__(
        self,
        what: str,
        *,
        clock: Callable[[], float] | None = None,
        first: float = defaults.EMBEDDING_BACKOFF_SECONDS,
        longest: float = defaults.EMBEDDING_BACKOFF_MAX_SECONDS,
    ) -> None:
        self._what, self._clock, self._first, self._longest = what, clock or time.monotonic, first, longest
        self._wait = 0.0
        self._until = 0.0
        self._reason: str | None = None

    def check(self) -> None:
        """Raise :class:`EmbeddingUnavailable` (already reported) while backing off; else let the call go."""
        if self._reason is not None and self._clock() < self._until:
            raise EmbeddingUnavailable(self._reason, reported=True)

    def failed(self, err: EmbeddingUnavailable) -> None:
        """Start or lengthen the backoff; the first failure of a streak is logged, later ones only at DEBUG."""
        first = self._reason is None
        self._wait = self._first if first else min(self._longest, self._wait * 2)
        self._until = self._clock() + self._wait
        self._reason = err.reason
        if first:
            log.warning(
                "%s: %s; memories are found by full-text search and embedded later (next try in %gs)",
                self._what,
                err.reason,
                self._wait,
            )
        else:
            log.debug("%s still failing: %s (next try in %gs)", self._what, err.reason, self._wait)
        err.reported = True

    def succeeded(self) -> None:
        """End a failure streak (saying so, when there was one)."""
        if self._reason is not None:
            log.info("%s answers again", self._what)
        self._reason, self._wait, self._until = None, 0.0, 0.0
