"""``baton workspace rekey``: re-encrypt every installed workspace's tokens with the first encryption key.

Key rotation: put the new key first in ``BATON_ENCRYPTION_KEY`` with the old one after it
(``BATON_ENCRYPTION_KEY=new,old``), restart, run ``baton workspace rekey``, then drop the old key.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from baton.backends import migrate_database, resolve_backends
from baton.config import CommandError, build_settings
from memory.db import connect
from memory.installations import rekey
from memory.token_cipher import TokenCipher, TokenDecryptError

Add = Callable[[str, Callable[[argparse.Namespace], int], str], argparse.ArgumentParser]


def add_workspace_parser(subparsers: Any, add: Add) -> argparse.ArgumentParser:
    """Register ``baton workspace rekey`` through the CLI's ``add(name, func, help)`` helper."""
    del subparsers  # ``add`` already adds to them
    workspace = add("workspace", cmd_workspace, "Installed workspaces (OAuth mode): re-encrypt their tokens.")
    actions = workspace.add_subparsers(dest="workspace_command", required=True, metavar="ACTION")
    actions.add_parser("rekey", help="Re-encrypt every stored token with the first key of BATON_ENCRYPTION_KEY.")
    return workspace


def cmd_workspace(args: argparse.Namespace) -> int:
    """Run ``baton workspace rekey``."""
    settings, _services = resolve_backends(build_settings(args))
    if not settings.encryption_keys:
        raise CommandError(
            "BATON_ENCRYPTION_KEY is not set: export the new key first, then the old one "
            "(comma-separated), and run this again"
        )
    assert settings.database_url is not None
    migrate_database(settings.database_url)
    with connect(settings.database_url) as conn:
        try:
            count = rekey(conn, TokenCipher(settings.encryption_keys))
        except TokenDecryptError as err:
            raise CommandError(
                f"{err}: add the key they were encrypted with after the new one; nothing changed"
            ) from err
    print(f"re-encrypted the tokens of {count} installation(s) with the first key")
    return 0
