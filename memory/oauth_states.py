"""The OAuth ``state`` store: bolt's ``AsyncOAuthStateStore`` in Postgres (table ``slack_oauth_states``).

``/slack/install`` issues a random state; ``/slack/oauth_redirect`` consumes it: the row is deleted in the same
statement that checks it, so a state is accepted once, and only before it expires. A forged state was never
issued, and a replayed one is already gone: both are refused.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from psycopg_pool import AsyncConnectionPool
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from core import defaults

log = logging.getLogger(__name__)


class PostgresOAuthStateStore(AsyncOAuthStateStore):
    """Issues and consumes OAuth states; ``now`` is the injected clock, states live ``expiry_seconds``."""

    def __init__(
        self,
        pool: AsyncConnectionPool,
        *,
        now: Callable[[], datetime],
        expiry_seconds: int = defaults.OAUTH_STATE_EXPIRY_SECONDS,
    ) -> None:
        self._pool = pool
        self._now = now
        self._expiry = timedelta(seconds=expiry_seconds)

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        """A new unguessable state, stored with its expiry."""
        state = secrets.token_urlsafe(32)
        async with self._pool.connection() as conn:
            # Expired states nobody came back with are swept as new ones are issued: the table stays small.
            await conn.execute("DELETE FROM slack_oauth_states WHERE expires_at < %s", (self._now(),))
            await conn.execute(
                "INSERT INTO slack_oauth_states (state, expires_at) VALUES (%s, %s)",
                (state, self._now() + self._expiry),
            )
        return state

    async def async_consume(self, state: str) -> bool:
        """True once for a state this store issued and that has not expired; False ever after."""
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                "DELETE FROM slack_oauth_states WHERE state = %s RETURNING expires_at", (state,)
            )
            row = await cursor.fetchone()
        if row is None:
            log.info("refused an OAuth state that was never issued or was already used")
            return False
        expires_at = row["expires_at"] if isinstance(row, dict) else row[0]
        if expires_at < self._now():
            log.info("refused an expired OAuth state")
            return False
        return True
