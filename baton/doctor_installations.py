"""``baton doctor`` in multi-workspace (OAuth) mode: the installed workspaces instead of one bot token.

One line for the encryption keys (how many, and whether every stored token is under the first key, under an
older one that ``baton workspace rekey`` should retire, or under none: a failure), one for the installations
(how many, which teams), and one ``auth.test`` per installed bot token.
"""

from __future__ import annotations

from slack_sdk.errors import SlackApiError

from connectors.slack_clients import plain_client
from core.settings import Settings
from memory.db import connect
from memory.installation_health import installed_bots, key_state
from memory.token_cipher import TokenCipher

#: (name, ok, detail) of one doctor line; ``baton.doctor`` turns them into its checks.
Line = tuple[str, bool, str]


def installation_lines(settings: Settings) -> list[Line]:
    """The key, installations and per-workspace ``auth.test`` lines. Never raises."""
    try:
        with connect(settings.database_url or "") as conn:
            keys = key_state(conn, settings.encryption_keys)
            bots = installed_bots(conn, TokenCipher(settings.encryption_keys))
    except Exception as err:
        return [("installs", False, f"cannot read the installations: {type(err).__name__}: {err}")]
    lines: list[Line] = [_key_line(keys.keys, keys.current, keys.older, keys.unreadable)]
    if not bots:
        lines.append(("installs", True, "no workspace has installed Baton yet (install from /slack/install)"))
        return lines
    teams = ", ".join(bot.team_id or f"org {bot.enterprise_id}" for bot in bots)
    lines.append(("installs", True, f"{len(bots)} workspace(s): {teams}"))
    for bot in bots:
        name = f"slack {bot.team_id or bot.enterprise_id}"
        if bot.bot_token is None:
            lines.append((name, False, "its bot token matches none of the keys in BATON_ENCRYPTION_KEY"))
            continue
        lines.append((name, *_auth_test(settings, bot.bot_token)))
    return lines


def _key_line(keys: int, current: int, older: int, unreadable: int) -> Line:
    detail = f"{keys} key(s); {current} stored token(s) under the first"
    if older:
        detail += f", {older} under an older key: run `baton workspace rekey`"
    if unreadable:
        detail += f", {unreadable} under no configured key: add the key they were encrypted with"
    return ("keys", unreadable == 0, detail)


def _auth_test(settings: Settings, token: str) -> tuple[bool, str]:
    client = plain_client(settings.with_changes(slack_bot_token=token))
    try:
        response = client.auth_test()
    except SlackApiError as err:
        return False, f"auth.test failed: {err.response.get('error')}"
    except Exception as err:
        return False, f"cannot reach {settings.slack_api_url}: {err}"
    return True, f"auth.test ok: bot {response.get('user')} in team {response.get('team')}"
