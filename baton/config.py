"""What every ``baton`` command shares: the settings built from its flags and the environment, and the one
error a command raises for a problem the user can act on."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import platformdirs

from core.settings import Settings, load_settings


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
    return load_settings(os.environ, default_home=default_home(), **overrides)
