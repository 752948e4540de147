"""``baton workspace rekey`` and ``baton workspace purge TEAM``.

Key rotation: put the new key first in ``BATON_ENCRYPTION_KEY`` with the old one after it
(``BATON_ENCRYPTION_KEY=new,old``), restart, run ``baton workspace rekey``, then drop the old key.

``purge`` deletes a workspace's data now (what the recovery pass does once an uninstalled workspace's grace
period has passed: ``memory.workspace_purge``), after ``--yes`` or a typed confirmation, and prints the counts.
A workspace that still has Baton installed is refused.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from baton.backends import migrate_database, resolve_backends
from baton.config import CommandError, build_settings
from memory import workspace_purge
from memory.db import connect
from memory.installations import rekey
from memory.token_cipher import TokenCipher, TokenDecryptError

Add = Callable[[str, Callable[[argparse.Namespace], int], str], argparse.ArgumentParser]


def add_workspace_parser(subparsers: Any, add: Add) -> argparse.ArgumentParser:
    """Register ``baton workspace rekey`` through the CLI's ``add(name, func, help)`` helper."""
    del subparsers  # ``add`` already adds to them
    workspace = add(
        "workspace", cmd_workspace, "Installed workspaces (OAuth mode): re-encrypt their tokens, purge one's data."
    )
    actions = workspace.add_subparsers(dest="workspace_command", required=True, metavar="ACTION")
    actions.add_parser("rekey", help="Re-encrypt every stored token with the first key of BATON_ENCRYPTION_KEY.")
    purge = actions.add_parser(
        "purge",
        help="Delete every message, request, plan, memory, meeting, task and "
        "digest of a workspace now (one Baton no longer serves).",
    )
    purge.add_argument("team", metavar="TEAM", help="the workspace's team id (T…)")
    purge.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    return workspace


def cmd_workspace(args: argparse.Namespace) -> int:
    """Run ``baton workspace rekey`` or ``baton workspace purge TEAM``."""
    if args.workspace_command == "purge":
        return _purge(args)
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


def _purge(args: argparse.Namespace) -> int:
    """``baton workspace purge TEAM [--yes]``."""
    team = str(args.team).strip()
    if not team:
        raise CommandError("name the workspace: baton workspace purge T0123ABCD")
    settings, _services = resolve_backends(build_settings(args))
    assert settings.database_url is not None
    migrate_database(settings.database_url)
    with connect(settings.database_url) as conn:
        if workspace_purge.is_installed(conn, team):
            raise CommandError(f"{team} still has Baton installed: uninstall it from Slack first; nothing deleted")
        if not args.yes and not _confirmed(team):
            raise CommandError(f"not confirmed; nothing deleted (type {team} when asked, or pass --yes)")
        counts = workspace_purge.purge_workspace(conn, team, actor="cli")
    if not counts:
        print(f"nothing of {team} was stored; nothing deleted")
        return 0
    print(f"deleted the data of {team}:")
    for table, count in counts.items():
        print(f"  {table:<20} {count}")
    return 0


def _confirmed(team: str) -> bool:
    """Ask on the terminal; no terminal means no confirmation."""
    if not sys.stdin.isatty():
        return False
    answer = input(
        f"Delete every stored message, plan, memory, meeting, task and digest of {team}? Type {team} to confirm: "
    )
    return answer.strip() == team
