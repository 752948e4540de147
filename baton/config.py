"""What every ``baton`` command shares: the settings built from its flags and the environment, and the one
error a command raises for a problem the user can act on."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import platformdirs

from core.mcp_config import McpConfig, McpConfigError, parse_mcp_config
from core.settings import ENV_VARS, Settings, load_settings


class CommandError(Exception):
    """A command failed for a reason the user can act on; the message is printed as one line."""


def default_home() -> Path:
    """Where Baton keeps its state unless ``BATON_HOME`` says otherwise (e.g. ~/.local/share/baton)."""
    return Path(platformdirs.user_data_dir("baton", appauthor=False))


def build_settings(args: argparse.Namespace) -> Settings:
    """The settings of this run: ``--port``, ``--log-level``, ``--home`` and ``--socket-mode`` over the environment
    over defaults."""
    overrides = {
        "port": getattr(args, "port", None),
        "socket_mode": True if getattr(args, "socket_mode", False) else None,
        "log_level": getattr(args, "log_level", None),
        "baton_home": getattr(args, "home", None),
    }
    settings = load_settings(os.environ, default_home=default_home(), **overrides)
    return settings.with_changes(
        mcp_servers=read_mcp_config(settings.mcp_config, explicit="BATON_MCP_CONFIG" in os.environ)
    )


def read_mcp_config(path: Path | None, *, explicit: bool) -> McpConfig:
    """The MCP servers file with ``${VAR}`` read from Baton's environment; no file is no servers (unless
    ``BATON_MCP_CONFIG`` named it). A malformed file is a :class:`CommandError` naming file, server and problem."""
    if path is None:
        return McpConfig()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if explicit:
            raise CommandError(f"{path}: not found ({ENV_VARS['mcp_config']} names it)") from None
        return McpConfig()
    except (OSError, UnicodeDecodeError) as err:
        raise CommandError(f"{path}: cannot be read ({err})") from None
    try:
        return parse_mcp_config(text, source=str(path), env=os.environ)
    except McpConfigError as err:
        raise CommandError(str(err)) from None
