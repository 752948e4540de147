"""The installation store of a multi-workspace install: bolt's ``AsyncInstallationStore`` in Postgres.

One row per :class:`~core.installations.InstallationKey` (table ``slack_installations``, migration 0016). Saving
an installation writes the installer's row and the workspace's bot row (user ``''``); a token refresh
(``async_save_bot``) updates the bot tokens of every row of that workspace. Tokens go through
:class:`~memory.token_cipher.TokenCipher` on the way in and out, so the table never holds one in plaintext.
The workers read the bot token synchronously with :func:`find_bot_token`; ``baton workspace rekey`` calls
:func:`rekey`. A workspace served by an org-wide install (Enterprise Grid) has no row of its own: the web process
notes its org (:func:`note_org_team`, table ``slack_team_orgs``) and :func:`find_bot` falls back on the org's row.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation

from core.installations import BOT_DETAIL_FIELDS, BOT_TOKEN_FIELDS, TOKEN_FIELDS, InstallationKey, TeamRef
from memory.token_cipher import TokenCipher
from memory.workspace_purge import cancel_org_purges, cancel_purge

log = logging.getLogger(__name__)

_UPSERT = """
INSERT INTO slack_installations (enterprise_id, team_id, user_id, is_enterprise_install, details,
                                 bot_token, bot_refresh_token, user_token, user_refresh_token, installed_at)
VALUES (%(enterprise_id)s, %(team_id)s, %(user_id)s, %(is_enterprise_install)s, %(details)s,
        %(bot_token)s, %(bot_refresh_token)s, %(user_token)s, %(user_refresh_token)s, %(installed_at)s)
ON CONFLICT (enterprise_id, team_id, user_id) DO UPDATE SET
    is_enterprise_install = EXCLUDED.is_enterprise_install, details = EXCLUDED.details,
    bot_token = EXCLUDED.bot_token, bot_refresh_token = EXCLUDED.bot_refresh_token,
    user_token = EXCLUDED.user_token, user_refresh_token = EXCLUDED.user_refresh_token,
    installed_at = EXCLUDED.installed_at, updated_at = now()
"""

_SELECT = """
SELECT * FROM slack_installations WHERE enterprise_id = %(enterprise_id)s AND team_id = %(team_id)s
   AND user_id = %(user_id)s
"""

_UPDATE_BOT = """
UPDATE slack_installations
   SET bot_token = %(bot_token)s, bot_refresh_token = %(bot_refresh_token)s,
       details = details || %(details)s, updated_at = now()
 WHERE enterprise_id = %(enterprise_id)s AND team_id = %(team_id)s
"""


def _stamp(value: Any) -> Any:
    """JSON for a field of bolt's dicts: a datetime becomes ISO 8601 text (bolt's constructors parse it)."""
    return value.isoformat() if isinstance(value, datetime) else value


def _split(fields: dict[str, Any], cipher: TokenCipher) -> tuple[dict[str, Any], dict[str, str | None]]:
    """(the non-secret details as JSON-ready values, the encrypted tokens) of bolt's ``to_dict_for_copying``."""
    details = {name: _stamp(value) for name, value in fields.items() if name not in TOKEN_FIELDS}
    tokens = {name: cipher.encrypt(fields.get(name)) for name in TOKEN_FIELDS}
    return details, tokens


def _fields(row: dict[str, Any], cipher: TokenCipher) -> dict[str, Any]:
    """A row back to the keyword arguments of bolt's ``Installation`` (tokens decrypted)."""
    fields = dict(row["details"])
    fields.update({name: cipher.decrypt(row[name]) for name in TOKEN_FIELDS})
    return fields


class PostgresInstallationStore(AsyncInstallationStore):
    """Bolt's async installation store on the web process's pool, tokens encrypted with ``cipher``."""

    def __init__(self, pool: AsyncConnectionPool, cipher: TokenCipher) -> None:
        self._pool = pool
        self._cipher = cipher

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_save(self, installation: Installation) -> None:
        """Store the installer's installation and make it the workspace's bot installation."""
        details, tokens = _split(installation.to_dict_for_copying(), self._cipher)
        key = InstallationKey.of(
            enterprise_id=installation.enterprise_id,
            team_id=installation.team_id,
            user_id=installation.user_id,
            is_enterprise_install=installation.is_enterprise_install,
        )
        row = {
            "is_enterprise_install": bool(installation.is_enterprise_install),
            "details": json.dumps(details),
            "installed_at": datetime.fromtimestamp(installation.installed_at, UTC),
            **tokens,
        }
        async with self._pool.connection() as conn, conn.transaction():
            for each in {key, key.bot}:
                await conn.execute(_UPSERT, {**row, **_key_params(each)})
            if key.team_id:  # a reinstall within the grace period keeps the workspace's data
                await cancel_purge(conn, key.team_id)
            elif key.enterprise_id:  # an org-wide reinstall keeps the data of the org's workspaces
                await cancel_org_purges(conn, key.enterprise_id)

    async def async_save_bot(self, bot: Bot) -> None:
        """A refreshed bot token (token rotation): every row of the workspace gets it."""
        async with self._pool.connection() as conn:
            cursor = await conn.execute(_UPDATE_BOT, _bot_params(bot, self._cipher))
            if cursor.rowcount == 0:
                log.warning("a refreshed bot token for team %s has no installation to update", bot.team_id)

    async def async_find_bot(
        self, *, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False
    ) -> Bot | None:
        """The workspace's (or org's) bot installation, or None when it is not installed."""
        installation = await self._find(
            InstallationKey.of(
                enterprise_id=enterprise_id, team_id=team_id, is_enterprise_install=is_enterprise_install
            )
        )
        if installation is None or installation.bot_token is None:
            return None
        return installation.to_bot()

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        """The user's installation with the workspace's current bot, or (no user) the latest installation."""
        key = InstallationKey.of(
            enterprise_id=enterprise_id, team_id=team_id, user_id=user_id, is_enterprise_install=is_enterprise_install
        )
        return await self._find(key)

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """Forget the bot tokens of a workspace (its users' own installations stay)."""
        key = InstallationKey.of(enterprise_id=enterprise_id, team_id=team_id)
        async with self._pool.connection() as conn, conn.transaction():
            await conn.execute(
                _UPDATE_BOT, {"bot_token": None, "bot_refresh_token": None, "details": "{}", **_key_params(key)}
            )
            await conn.execute(
                "DELETE FROM slack_installations WHERE enterprise_id = %(enterprise_id)s "
                "AND team_id = %(team_id)s AND user_id = ''",
                _key_params(key),
            )

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        """Delete one user's installation, or (no user) every installation of the workspace."""
        key = InstallationKey.of(enterprise_id=enterprise_id, team_id=team_id, user_id=user_id)
        sql = "DELETE FROM slack_installations WHERE enterprise_id = %(enterprise_id)s AND team_id = %(team_id)s"
        async with self._pool.connection() as conn:
            await conn.execute(sql + (" AND user_id = %(user_id)s" if user_id else ""), _key_params(key))

    async def _find(self, key: InstallationKey) -> Installation | None:
        async with self._pool.connection() as conn, conn.cursor(row_factory=dict_row) as cursor:
            row = await (await cursor.execute(_SELECT, _key_params(key))).fetchone()
            bot_row = row if not key.user_id else await (await cursor.execute(_SELECT, _key_params(key.bot))).fetchone()
        if row is None:
            return None
        fields = _fields(row, self._cipher)
        if bot_row is not None and bot_row is not row:  # a later install or a refresh may have a newer bot token
            bot_fields = _fields(bot_row, self._cipher)
            fields.update({name: bot_fields.get(name) for name in BOT_TOKEN_FIELDS + BOT_DETAIL_FIELDS})
        return Installation(**fields)


def _bot_params(bot: Bot, cipher: TokenCipher) -> dict[str, Any]:
    """Parameters of ``_UPDATE_BOT`` for a (refreshed) bot: its tokens encrypted, its details, its key."""
    fields = bot.to_dict_for_copying()
    key = InstallationKey.of(
        enterprise_id=bot.enterprise_id, team_id=bot.team_id, is_enterprise_install=bot.is_enterprise_install
    )
    details = {name: _stamp(fields.get(name)) for name in BOT_DETAIL_FIELDS}
    return {
        "details": json.dumps(details),
        **_key_params(key),
        **{name: cipher.encrypt(fields.get(name)) for name in BOT_TOKEN_FIELDS},
    }


def _key_params(key: InstallationKey) -> dict[str, str]:
    return {"enterprise_id": key.enterprise_id, "team_id": key.team_id, "user_id": key.user_id}


_NOTE_ORG = """
INSERT INTO slack_team_orgs (team_id, enterprise_id) VALUES (%(team_id)s, %(enterprise_id)s)
ON CONFLICT (team_id) DO UPDATE SET enterprise_id = EXCLUDED.enterprise_id, seen_at = now()
 WHERE slack_team_orgs.enterprise_id <> EXCLUDED.enterprise_id
"""

# A workspace's own row (team ids are unique across Slack, Grid or not), else its org's: the org the caller
# names, or the one noted for the workspace.
_FIND_BOT = """
WITH org AS (
    SELECT coalesce(nullif(%(enterprise_id)s, ''),
                    (SELECT enterprise_id FROM slack_team_orgs WHERE team_id = %(team_id)s), '') AS id
)
SELECT i.* FROM slack_installations i, org
 WHERE i.user_id = '' AND i.bot_token IS NOT NULL
   AND ((%(team_id)s <> '' AND i.team_id = %(team_id)s)
        OR (org.id <> '' AND i.enterprise_id = org.id AND i.team_id = ''))
 ORDER BY i.team_id DESC LIMIT 1
"""


async def note_org_team(conn: psycopg.AsyncConnection[Any], *, team_id: str, enterprise_id: str) -> None:
    """Remember that workspace ``team_id`` is served by org ``enterprise_id``'s org-wide install (one statement,
    writing only when the fact is new), so a job of that workspace finds the org's token."""
    await conn.execute(_NOTE_ORG, {"team_id": team_id, "enterprise_id": enterprise_id})


def find_bot(conn: psycopg.Connection[Any], cipher: TokenCipher, team: TeamRef, *, lock: bool = False) -> Bot | None:
    """The bot installed for ``team`` (a workspace install first, then its org's, the org given or noted by
    :func:`note_org_team`), tokens decrypted; None if Baton is not installed there. ``lock`` holds its row
    (``FOR UPDATE``) until the caller's transaction ends, so only one process refreshes an expiring token."""
    row = conn.execute(
        _FIND_BOT + (" FOR UPDATE OF i" if lock else ""),
        {"enterprise_id": team.enterprise_id or "", "team_id": team.team_id},
    ).fetchone()
    return None if row is None else Installation(**_fields(row, cipher)).to_bot()


def find_bot_token(conn: psycopg.Connection[Any], cipher: TokenCipher, team: TeamRef) -> str | None:
    """The bot token installed for ``team``, decrypted (see :func:`find_bot`)."""
    bot = find_bot(conn, cipher, team)
    return None if bot is None else bot.bot_token


def save_bot(conn: psycopg.Connection[Any], cipher: TokenCipher, bot: Bot) -> None:
    """A refreshed bot token from a worker: every row of the workspace gets it (the sync twin of
    :meth:`PostgresInstallationStore.async_save_bot`)."""
    conn.execute(_UPDATE_BOT, _bot_params(bot, cipher))


def rekey(conn: psycopg.Connection[Any], cipher: TokenCipher) -> int:
    """Re-encrypt every stored token with the cipher's first key, in one transaction; returns the rows done.

    Raises :class:`~memory.token_cipher.TokenDecryptError` (and changes nothing) when a token matches no key.
    """
    columns = ", ".join(TOKEN_FIELDS)
    with conn.transaction():
        rows = conn.execute(f"SELECT id, {columns} FROM slack_installations ORDER BY id FOR UPDATE").fetchall()
        for row in rows:
            rotated = {name: cipher.rotate(row[name]) for name in TOKEN_FIELDS}
            conn.execute(
                "UPDATE slack_installations SET "
                + ", ".join(f"{name} = %({name})s" for name in TOKEN_FIELDS)
                + ", updated_at = now() WHERE id = %(id)s",
                {**rotated, "id": row["id"]},
            )
    return len(rows)
