"""Connections to PostgreSQL (psycopg 3), with timeouts on by default."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row

#: Seconds to wait for a connection, and the server-side limit on any one statement.
CONNECT_TIMEOUT_SECONDS = 10
STATEMENT_TIMEOUT_MS = 30_000


def connect(url: str, *, autocommit: bool = True, **kwargs: Any) -> psycopg.Connection[dict[str, Any]]:
    """A new connection returning rows as dicts. Autocommit by default; use ``conn.transaction()``."""
    return psycopg.connect(
        url,
        autocommit=autocommit,
        row_factory=dict_row,
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
        **kwargs,
    )


