"""What ``baton doctor`` reports of a multi-workspace install: the installed workspaces and the state of the
encrypted tokens under the configured keys (the tokens themselves never leave this module but to be checked)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from core.installations import TOKEN_FIELDS
from memory.token_cipher import TokenCipher, TokenDecryptError


@dataclass(frozen=True)
class InstalledBot:
    """One workspace's (or org's) bot installation: its ids, and its bot token (None when it matches no key)."""

    team_id: str
    enterprise_id: str
    bot_token: str | None


@dataclass(frozen=True)
class KeyState:
    """How the stored tokens stand: under the first key, under an older one (``baton workspace rekey``), none."""

    keys: int
    current: int
    older: int
    unreadable: int


def installed_bots(conn: psycopg.Connection[Any], cipher: TokenCipher) -> list[InstalledBot]:
    """Every bot installation, oldest first, tokens decrypted (None for one no key decrypts)."""
    rows = conn.execute(
        "SELECT team_id, enterprise_id, bot_token FROM slack_installations WHERE user_id = '' "
        "AND bot_token IS NOT NULL ORDER BY installed_at, id"
    ).fetchall()
    return [InstalledBot(row["team_id"], row["enterprise_id"], _readable(cipher, row["bot_token"])) for row in rows]


def key_state(conn: psycopg.Connection[Any], keys: tuple[str, ...]) -> KeyState:
    """Count every stored token by the key that decrypts it."""
    first, every = TokenCipher(keys[:1]), TokenCipher(keys)
    columns = ", ".join(TOKEN_FIELDS)
    current = older = unreadable = 0
    for row in conn.execute(f"SELECT {columns} FROM slack_installations").fetchall():
        for stored in (row[name] for name in TOKEN_FIELDS):
            if stored is None:
                continue
            if _readable(first, stored) is not None:
                current += 1
            elif _readable(every, stored) is not None:
                older += 1
            else:
                unreadable += 1
    return KeyState(len(keys), current, older, unreadable)


def _readable(cipher: TokenCipher, stored: str) -> str | None:
    try:
        return cipher.decrypt(stored)
    except TokenDecryptError:
        return None
