"""The connectors this deployment offers, wired to their clients and stores.

Every connector comes from a plugin (``connectors.plugins``): Baton's own through :data:`DEFAULT_PLUGINS`, then
the ``baton.connectors`` entry points of installed distributions, then the MCP servers' tools. Built once per
worker process from the settings; every client is passed in (the Slack ``WebClient``, a Postgres connection
factory, the clock, and optionally the urllib opener for webhooks).
"""

from __future__ import annotations

import logging
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import psycopg
from slack_sdk import WebClient

from connectors.base import Connector
from connectors.plugins import (
    ENTRY_POINT_GROUP,
    ConnectorServices,
    Plugin,
    PluginProblem,
    Registered,
    load_plugins,
    register_plugins,
)
from connectors.registry import ConnectorRegistry
from connectors.slack_clients import effect_client
from core.settings import Settings
from memory.facts import Embed
from workers.job_context import WorkerContext
from workers.mcp_catalogue import McpCatalogue
from workers.mcp_listing import current_catalogue
from workers.memories.support import embed_text

log = logging.getLogger(__name__)

#: Baton's own connector plugins, loaded by the same code as installed ones (they come first, so an installed
#: plugin can never take a built-in's action name).
DEFAULT_PLUGINS = (EntryPoint("builtin", "workers.builtin_connectors:register", ENTRY_POINT_GROUP),)
#: Key of the worker context's loaded :class:`PluginSet` in ``WorkerContext.extras``.
PLUGINS_EXTRA = "connector_plugins"


@dataclass
class PluginSet:
    """The connector plugins one process loaded, and every problem found with them so far (each logged once)."""

    plugins: list[Plugin]
    problems: list[PluginProblem] = field(default_factory=list)

    def register(self, services: ConnectorServices) -> Registered:
        """Every plugin's connectors; a plugin that fails is skipped, and its problem logged the first time."""
        registered = register_plugins(self.plugins, services)
        self._note(registered.problems)
        return registered

    def _note(self, problems: Iterable[PluginProblem]) -> None:
        for problem in problems:
            if problem not in self.problems:
                log.warning("connector %s", problem.line())
                self.problems.append(problem)


def discover_plugins(installed: Iterable[EntryPoint] | None = None) -> PluginSet:
    """Load the default plugins and the installed ones (``installed``: the ``baton.connectors`` entry points of
    every distribution on ``sys.path``), ordered by distribution and name so a clash always drops the same one."""
    found = entry_points(group=ENTRY_POINT_GROUP) if installed is None else installed
    ordered = sorted(found, key=lambda ep: (ep.dist.name if ep.dist is not None else "", ep.name, ep.value))
    plugins, problems = load_plugins([*DEFAULT_PLUGINS, *ordered])
    loaded = PluginSet(plugins)
    loaded._note(problems)
    return loaded


def build_registry(
    settings: Settings,
    *,
    slack: WebClient,
    connect: Callable[[], psycopg.Connection[Any]],
    now: Callable[[], datetime],
    opener: urllib.request.OpenerDirector | None = None,
    embed: Embed | None = None,
    mcp: McpCatalogue | None = None,
    plugins: PluginSet | None = None,
) -> ConnectorRegistry:
    """Every plugin's connectors (the built-ins: Slack posting and scheduling, tasks, webhooks and remembered
    facts; then installed plugins, found now unless ``plugins`` is given), and the usable tools of the MCP servers
    listed in ``mcp`` (a tool named like a plugin's action is left out)."""
    services = ConnectorServices(settings=settings, slack=slack, connect=connect, now=now, opener=opener, embed=embed)
    from_plugins = (plugins or discover_plugins()).register(services).connectors
    extra: Iterable[Connector] = mcp.connectors(taken=(c.action for c in from_plugins)) if mcp else ()
    return ConnectorRegistry([*from_plugins, *extra])


def registry_for(ctx: WorkerContext) -> ConnectorRegistry:
    """The registry a job uses: connectors get a Slack client without blind retries
    (``connectors.slack_clients.effect_client``), the job's clock, and memory writes embedded through the
    job's provider. The MCP servers' tools are listed once per worker context (at worker start, or here), and
    taken from the stored listing when someone stored a newer one (``workers.mcp_listing``); the plugins are loaded
    once per worker context."""
    mcp = current_catalogue(ctx)
    return build_registry(
        ctx.settings,
        slack=effect_client(ctx.settings),
        connect=ctx.db,
        now=ctx.now,
        embed=lambda text: embed_text(ctx, text),
        mcp=mcp,
        plugins=plugins_of(ctx),
    )


def plugins_of(ctx: WorkerContext) -> PluginSet:
    """The worker context's connector plugins, loaded on first use."""
    plugins = ctx.extras.get(PLUGINS_EXTRA)
    if not isinstance(plugins, PluginSet):
        plugins = ctx.extras[PLUGINS_EXTRA] = discover_plugins()
    return plugins


def load_worker_plugins(ctx: WorkerContext) -> PluginSet:
    """At worker start, before RQ forks a work horse per job: load the plugins and register them once, so a broken
    plugin is logged once here (each horse inherits what was logged) and every job finds them imported."""
    plugins = plugins_of(ctx)
    registry_for(ctx)
    return plugins
