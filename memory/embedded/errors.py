"""Errors of the embedded servers."""

from __future__ import annotations


class EmbeddedServerError(RuntimeError):
    """An embedded server could not be started or reached. ``str(err)`` is one line for the user."""
