"""The one exception of the embedding providers (re-exported by :mod:`workers.memories.embeddings`).

Its own module so that each provider module can raise it without importing the module that chooses
between them.
"""

from __future__ import annotations

__all__ = ["EmbeddingUnavailable"]


class EmbeddingUnavailable(Exception):
    """No vectors this time: the API failed or answered oddly, or the local model could not be loaded.

    ``reason`` is one short line; the caller leaves the rows for a later run. ``reported``: it was logged already
    (a provider backing off, :mod:`workers.memories.backoff`), so the caller need not say it again."""

    def __init__(self, reason: str, *, reported: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.reported = reported
