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
#: Posting one plan's card (with the plan's id as the second key): a deferred post and a recovery never race.
PLAN_CARD = 0x0BA7_0006
#: Draining one thread's outbox posts (with a hash of channel and thread as the second key): one poster per
#: thread, so its posts go out in the order they were made.
OUTBOX_THREAD = 0x0BA7_0007


@contextlib.contextmanager
def try_advisory_lock(conn: psycopg.Connection[Any], key: int, ident: int | None = None) -> Iterator[bool]:
    """Try to take advisory lock ``key`` (on one row ``ident`` of that purpose, when given); yields whether it
    was taken (never waits), releases it on exit.

    ``conn`` must be in autocommit mode: the lock belongs to the session.
    """
    # The two-key form takes two int4: the purpose and the row (ids past 2**31 wrap into that space).
    keys: tuple[int, ...] = (key,) if ident is None else (key, (ident + 2**31) % 2**32 - 2**31)
    placeholders = ", ".join(["%s"] * len(keys))
    row = conn.execute(f"SELECT pg_try_advisory_lock({placeholders}) AS locked", keys).fetchone()
    locked = bool(row is not None and (row["locked"] if isinstance(row, dict) else row[0]))
    try:
        yield locked
    finally:
        if locked:
            conn.execute(f"SELECT pg_advisory_unlock({placeholders})", keys)
