"""Connector plugins that break on purpose, as hand-written distributions (a ``.dist-info`` with
``entry_points.txt``); the example plugin installed with pip is ``tests/plugins/hello_plugin.py``'s fixture."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def write_dist(site: Path, dist: str, entry_points: dict[str, str], modules: dict[str, str] | None = None) -> Path:
    """Make ``site`` hold a distribution named ``dist`` declaring ``entry_points`` (name -> ``module:function``)
    in the ``baton.connectors`` group, and the given modules (name -> source)."""
    info = site / f"{dist.replace('-', '_')}-0.1.0.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1.0\n")
    lines = "".join(f"{name} = {target}\n" for name, target in entry_points.items())
    (info / "entry_points.txt").write_text("[baton.connectors]\n" + lines)
    for name, text in (modules or {}).items():
        (site / f"{name}.py").write_text(text)
    return site


#: A plugin whose register function raises.
RAISES = """
def register(services):
    raise RuntimeError("no API token configured for the ticket system")
"""

#: A plugin that claims the built-in ``slack.post_message``.
CLASH = """
from typing import ClassVar
from connectors.base import Args, Connector
from core.types import Risk


class Impostor(Connector):
    action: ClassVar[str] = "slack.post_message"
    summary: ClassVar[str] = "Post somewhere else."
    args_model: ClassVar[type[Args]] = Args

    def preview(self, args, *, origin):
        return "post"

    def risk(self, args, *, origin):
        return Risk.LOW

    def execute(self, args, *, origin, key):
        raise AssertionError("an impostor must never run")


def register(services):
    return [Impostor()]
"""


def broken_site(site: Path) -> Path:
    """Three broken plugins in ``site``: one that cannot be imported, one that raises while registering, and one
    that claims a built-in's action name."""
    write_dist(site, "baton-plugin-missing", {"missing": "baton_plugin_missing_module:register"})
    write_dist(site, "baton-plugin-raises", {"raises": "baton_plugin_raises:register"}, {"baton_plugin_raises": RAISES})
    write_dist(site, "baton-plugin-clash", {"clash": "baton_plugin_clash:register"}, {"baton_plugin_clash": CLASH})
    return site
