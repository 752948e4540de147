"""Connections to PostgreSQL (psycopg 3), with timeouts on by default."""

from __future__ import annotations

import select
from typing import Any

import psycopg
from psycopg import pq
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

#: A connection as Baton opens them (rows as dicts): the type every function that takes ``conn`` expects.
Conn = psycopg.Connection[dict[str, Any]]
#: An async connection of the web process's pool (the intake SQL before the ack).
AsyncConn = psycopg.AsyncConnection[Any]

#: Seconds to wait for a connection, and the server-side limit on any one statement.
CONNECT_TIMEOUT_SECONDS = 10
STATEMENT_TIMEOUT_MS = 30_000
#: The same limits for SQL a Slack request waits on before its ack (Slack gives up after 3 s): waiting for a
#: pooled connection, and any one statement of the web process's intake pool.
ACK_CONNECT_TIMEOUT_SECONDS = 1.0
ACK_STATEMENT_TIMEOUT_MS = 1_500
#: Seconds the web process waits for a pooled connection after the ack (a click's decision): the clicker is
#: told the database is unavailable after this long, rather than waiting on a hang.
WEB_CONNECT_TIMEOUT_SECONDS = 2.0
#: Seconds the web process's pools keep retrying one failed connection (1, 2, 4 s apart) before the next request
#: starts a fresh attempt at once.
WEB_RECONNECT_SECONDS = 5.0


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




def is_outage(error: BaseException) -> bool:
    """True when ``error`` says the database could not do the work *now* (refused or lost connection, a server
    shutting down or starting up, a pool with no connection in time, a statement timeout): the same work may
    succeed in a moment, so it is retried or spooled, never reported as final."""
    return isinstance(error, psycopg.OperationalError | psycopg.InterfaceError)


async def check_when_suspect(conn: AsyncConn) -> None:
    """A pool ``check`` that costs no round trip for a connection that looks healthy.

    psycopg_pool's own check sends an empty query on every checkout: a round trip before every ack. A
    connection the server closed (a restart, a terminated backend) has something to read on its socket (the
    server's FATAL message, then end of file) or is no longer OK; only then is the full check made, which raises
    and makes the pool replace it. A connection lost without a word (a dead network) is not caught here; its
    statement then fails within the statement timeout and the request takes the outage path.
    """
    idle = conn.info.transaction_status == pq.TransactionStatus.IDLE
    if conn.closed or conn.pgconn.status != pq.ConnStatus.OK or not idle or _has_unread(conn.fileno()):
        await AsyncConnectionPool.check_connection(conn)


def _has_unread(fd: int) -> bool:
    readable, _, _ = select.select([fd], [], [], 0)
    return bool(readable)
