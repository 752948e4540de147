"""Connections to PostgreSQL (psycopg 3), with timeouts on by default."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row

#: A connection as Baton opens them (rows as dicts): the type every function that takes ``conn`` expects.
Conn = psycopg.Connection[dict[str, Any]]
#: An async connection of the web process's pool (the intake SQL before the ack).
AsyncConn = psycopg.AsyncConnection[Any]

#: Seconds to wait for a connection, and the server-side limit on any one statement.
CONNECT_TIMEOUT_SECONDS = 10
STATEMENT_TIMEOUT_MS = 30_000


def connect(url: str, *, autocommit: bool = True, **kwargs: Any) -> Conn:
    """A new connection returning rows as dicts. Autocommit by default; use ``conn.transaction()``."""
    return psycopg.connect(
        url,
        autocommit=autocommit,
        row_factory=dict_row,
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
        **kwargs,
    )


