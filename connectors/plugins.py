"""Connector plugins: the one extension point through which every connector, Baton's own included, is registered.

A plugin is a Python distribution that declares an entry point in the ``baton.connectors`` group::

    [project.entry-points."baton.connectors"]
    hello = "baton_plugin_hello:register"

The entry point names a function ``register(services: ConnectorServices) -> Iterable[Connector]``: it builds its
connectors (the protocol of :mod:`connectors.base`: argument model, ``preview``, ``risk``, ``execute`` receiving
the idempotency key, an idempotency class) from the clients Baton hands it. Baton's built-in connectors are
registered the same way, from a list of default entry points the composition hands to :func:`load_plugins`
(as ``llm`` loads ``llm/default_plugins``), so the mechanism runs in every process.

A plugin that cannot be imported, raises while registering, declares an action badly (its argument schema is
checked with ``jsonschema``) or claims an action name already taken is skipped whole, with a
:class:`PluginProblem` saying which plugin and why; Baton runs on without it. A built-in plugin failing is a bug
in Baton and raises.

Plain entry points rather than a ``pluggy`` hookspec: there is one hook, and each plugin's failure must be caught
and attributed on its own, which means calling each implementation separately anyway; pluggy would add a
dependency and a second name for the same loop.
"""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import EntryPoint
from typing import Any, get_args

import psycopg
from jsonschema import validators
from jsonschema.exceptions import SchemaError
from slack_sdk import WebClient

from connectors.base import Connector
from core.mcp_tools import IdempotencyClass
from core.settings import Settings

#: The entry point group plugins declare.
ENTRY_POINT_GROUP = "baton.connectors"
#: Source of the connectors of Baton's own (default) plugins.
BUILT_IN = "built-in"
#: ``namespace.verb``: lower-case words joined by dots (``slack.post_message``, ``hello.append_line``).
ACTION_NAME = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_-]*)+")
IDEMPOTENCY_CLASSES = frozenset(get_args(IdempotencyClass))


@dataclass(frozen=True)
class ConnectorServices:
    """What Baton hands a plugin's ``register``: every client a connector may need, built by the worker.

    ``slack`` never retries by itself (a post that reached Slack must not be sent twice); ``connect`` opens a
    Postgres connection; ``now`` is the job's clock; ``opener`` the HTTP opener for outbound calls (None: urllib's
    default); ``embed`` turns text into a vector for memory writes (None when no embedding provider is set).
    """

    settings: Settings
    slack: WebClient
    connect: Callable[[], psycopg.Connection[Any]]
    now: Callable[[], datetime]
    opener: urllib.request.OpenerDirector | None = None
    embed: Callable[[str], Any] | None = None


Register = Callable[[ConnectorServices], Iterable[Connector]]


@dataclass(frozen=True)
class Plugin:
    """A loaded plugin: its entry point name, where it comes from (``built-in`` or ``plugin:<dist>``), and its
    ``register`` function."""

    name: str
    source: str
    register: Register

    @property
    def built_in(self) -> bool:
        return self.source == BUILT_IN


@dataclass(frozen=True)
class PluginProblem:
    """Why a plugin was skipped."""

    plugin: str
    source: str
    problem: str

    def line(self) -> str:
        """``plugin hello (plugin:baton-plugin-hello): cannot be imported: …; skipped``."""
        return f"plugin {self.plugin} ({self.source}): {self.problem}; skipped"


class BuiltInPluginError(RuntimeError):
    """One of Baton's own connector plugins failed: a bug, never skipped quietly."""


def source_of(entry_point: EntryPoint) -> str:
    """``plugin:<distribution name>``; ``built-in`` for an entry point no distribution declares (the defaults)."""
    dist = entry_point.dist
    return f"plugin:{dist.name}" if dist is not None else BUILT_IN


def load_plugins(entry_points: Iterable[EntryPoint]) -> tuple[list[Plugin], list[PluginProblem]]:
    """Import each entry point's ``register`` function; one that cannot be imported (or is not callable) becomes a
    problem instead."""
    plugins: list[Plugin] = []
    problems: list[PluginProblem] = []
    for entry_point in entry_points:
        source = source_of(entry_point)
        try:
            register = entry_point.load()
        except Exception as err:
            problem = PluginProblem(entry_point.name, source, f"cannot be imported: {_reason(err)}")
            _raise_if_built_in(source, problem)
            problems.append(problem)
            continue
        if not callable(register):
            problem = PluginProblem(entry_point.name, source, f"{entry_point.value} is not a function")
            _raise_if_built_in(source, problem)
            problems.append(problem)
            continue
        plugins.append(Plugin(entry_point.name, source, register))
    return plugins, problems


@dataclass(frozen=True)
class Registered:
    """The connectors each plugin registered (in order), and the plugins skipped with why."""

    by_plugin: tuple[tuple[Plugin, tuple[Connector, ...]], ...]
    problems: tuple[PluginProblem, ...]

    @property
    def connectors(self) -> list[Connector]:
        return [connector for _, connectors in self.by_plugin for connector in connectors]


#: (connector class, action) pairs whose argument schema passed the check: checking a schema against JSON
#: Schema's meta-schema takes milliseconds and every job builds its connectors, so a process checks each once.
_SCHEMAS_CHECKED: set[tuple[type, str]] = set()


def register_plugins(plugins: Iterable[Plugin], services: ConnectorServices) -> Registered:
    """Call each plugin's ``register`` and check what it declares; the first plugin to claim an action keeps it
    (the built-ins come first), a later one claiming it again is skipped whole."""
    taken: dict[str, str] = {}
    by_plugin: list[tuple[Plugin, tuple[Connector, ...]]] = []
    problems: list[PluginProblem] = []
    for plugin in plugins:
        try:
            connectors = tuple(plugin.register(services))
            problem = _declaration_problem(connectors, taken)
        except Exception as err:
            problem = f"raised while registering: {_reason(err)}"
        if problem is not None:
            found = PluginProblem(plugin.name, plugin.source, problem)
            _raise_if_built_in(plugin.source, found)
            problems.append(found)
            continue
        for connector in connectors:
            if not plugin.built_in:
                # The source is Baton's to say, not the plugin's (``baton tools`` and the planner's catalogue show
                # it), and so is running without a click: a plugin's step follows the built-ins' rule (read-only
                # and low risk, where the workspace's policy allows it), never its own ``auto_run``.
                connector.source = plugin.source  # type: ignore[misc]
                connector.auto_run = None
            taken[connector.action] = plugin.source
        by_plugin.append((plugin, connectors))
    return Registered(tuple(by_plugin), tuple(problems))


def _declaration_problem(connectors: tuple[Any, ...], taken: dict[str, str]) -> str | None:
    """What is wrong with a plugin's connectors (the first thing found), or None."""
    seen: set[str] = set()
    for connector in connectors:
        if not isinstance(connector, Connector):
            return f"registered a {type(connector).__name__}, not a connectors.base.Connector"
        action = connector.action
        if not isinstance(action, str) or not ACTION_NAME.fullmatch(action):
            return f"action name {action!r} is not like `namespace.verb` (lower case, dots between words)"
        if action in taken or action in seen:
            owner = taken.get(action, "this plugin")
            return f"claims the action {action}, which {owner} already provides"
        seen.add(action)
        if not isinstance(connector.summary, str) or not connector.summary.strip():
            return f"{action} has no summary (the planner chooses actions by it)"
        if connector.idempotency not in IDEMPOTENCY_CLASSES:
            classes = ", ".join(sorted(IDEMPOTENCY_CLASSES))
            return f"{action} has the idempotency class {connector.idempotency!r}, not one of {classes}"
        if (type(connector), action) in _SCHEMAS_CHECKED:
            continue
        problem = _schema_problem(action, connector.args_schema())
        if problem is not None:
            return problem
        _SCHEMAS_CHECKED.add((type(connector), action))
    return None


def _schema_problem(action: str, schema: Any) -> str | None:
    if not isinstance(schema, dict) or schema.get("type") != "object":
        return f"{action}'s argument schema is not an object schema"
    try:
        validators.validator_for(schema).check_schema(schema)
    except SchemaError as err:
        return f"{action} has an invalid argument schema: {err.message}"
    return None


def _raise_if_built_in(source: str, problem: PluginProblem) -> None:
    if source == BUILT_IN:
        raise BuiltInPluginError(problem.line())


def _reason(err: BaseException) -> str:
    text = str(err).strip().splitlines()[0] if str(err).strip() else ""
    return f"{type(err).__name__}: {text}" if text else type(err).__name__
