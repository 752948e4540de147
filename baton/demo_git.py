"""The demo's MCP turn: an operator's alias running ``mcp-server-git`` on a throwaway repository.

When ``mcp-server-git`` is installed (``pip install mcp-server-git``; the ``dev`` extra has it), git is
on the PATH and the operator has no ``mcp.json`` of their own, the demo makes an empty repository in a temporary
directory and an ``mcp.json`` beside it with the ``git`` server and one alias::

    create branch {name} in the demo repo   ->   git.git_create_branch

The demo script's ``/if mcp-server-git <turn>`` lines play only then; otherwise each is skipped with a note
saying why (:class:`baton.demo_session.DemoSession`).
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from baton.config import read_mcp_config
from core.settings import Settings

FEATURE = "mcp-server-git"
PATTERN = "create branch {name} in the demo repo"
NOT_INSTALLED = "mcp-server-git is not installed (pip install mcp-server-git)"
NO_GIT = "git is not on the PATH"
OWN_CONFIG = "the demo leaves your own mcp.json ({path}) as it is"


@dataclass(frozen=True)
class DemoGit:
    """The settings to run the demo with, the ``mcp.json`` the worker should read (None: unchanged), and why the
    feature is missing (None: it is there)."""

    settings: Settings
    config: Path | None = None
    missing: str | None = None


def prepare(settings: Settings, workdir: Path) -> DemoGit:
    """Set up the throwaway repository and its ``mcp.json`` in ``workdir`` (the caller removes it), if possible."""
    if importlib.util.find_spec("mcp_server_git") is None:
        return DemoGit(settings, missing=NOT_INSTALLED)
    if shutil.which("git") is None:
        return DemoGit(settings, missing=NO_GIT)
    if settings.mcp_config is not None and settings.mcp_config.exists():
        return DemoGit(settings, missing=OWN_CONFIG.format(path=settings.mcp_config))
    repo = workdir / "demo-repo"
    for command in (
        ["init", "-q", "-b", "main", str(repo)],
        [
            "-C",
            str(repo),
            "-c",
            "user.name=Baton demo",
            "-c",
            "user.email=demo@baton.invalid",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "A throwaway repository for the Baton demo",
        ],
    ):
        subprocess.run(["git", *command], check=True, capture_output=True)
    config = workdir / "mcp.json"
    config.write_text(json.dumps(document(repo), indent=2), encoding="utf-8")
    servers = read_mcp_config(config, explicit=True)
    return DemoGit(settings.with_changes(mcp_config=config, mcp_servers=servers), config=config)


def document(repo: Path) -> dict[str, object]:
    """The demo's ``mcp.json``: the git server on ``repo`` and the alias."""
    return {
        "mcpServers": {"git": {"command": sys.executable, "args": ["-m", "mcp_server_git", "--repository", str(repo)]}},
        "baton": {
            "aliases": [
                {
                    "pattern": PATTERN,
                    "action": "git.git_create_branch",
                    "args": {"repo_path": str(repo), "branch_name": "{name}"},
                    "description": "Create the branch {name} in the demo repository",
                }
            ]
        },
    }
