"""Postgres advisory locks: one holder at a time across every Baton process on every machine.

Session-level and never waiting: the caller learns at once whether it holds the lock, and the lock goes with
the connection, so a process that dies releases it. Keys are fixed integers, one per purpose.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import psycopg

#: The memory embedding writers (``baton memory reembed``, the embed-pending job).
EMBEDDING = 0x0BA7_0004
#: The recovery pass (``workers.reconcile``), run by every worker and scheduler, one at a time.
RECOVERY = 0x0BA7_0005


@contextlib.contextmanager
def try_advisory_lock(conn: psycopg.Connection[Any], key: int) -> Iterator[bool]:
    """Try to take advisory lock ``key``; yields whether it was taken (never waits), releases it on exit.

    ``conn`` must be in autocommit mode: the lock belongs to the session.
    """
    row = conn.execute("SELECT pg_try_advisory_lock(%s) AS locked", (key,)).fetchone()
    locked = bool(row is not None and (row["locked"] if isinstance(row, dict) else row[0]))
    try:
        yield locked
    finally:
        if locked:
            conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
