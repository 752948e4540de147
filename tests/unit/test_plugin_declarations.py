"""What a connector plugin declares is checked before any of it is offered: each kind of bad declaration skips
the whole plugin with a reason naming the action; a built-in plugin failing is a bug and raises."""

from __future__ import annotations

from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any, ClassVar

import pytest
from slack_sdk import WebClient

from connectors.base import Args, Connector
from connectors.plugins import (
    BUILT_IN,
    BuiltInPluginError,
    ConnectorServices,
    Plugin,
    load_plugins,
    register_plugins,
)
from core.settings import Settings
from core.types import Risk

SERVICES = ConnectorServices(
    settings=Settings(baton_home=Path("/nonexistent")),
    slack=WebClient(token=None),
    connect=lambda: None,  # type: ignore[arg-type,return-value]
    now=lambda: None,  # type: ignore[arg-type,return-value]
)


class Note(Connector):
    action: ClassVar[str] = "notes.add"
    summary: ClassVar[str] = "Add a note."
    args_model: ClassVar[type[Args]] = Args

    def preview(self, args: Any, *, origin: Any) -> str:
        return "add a note"

    def risk(self, args: Any, *, origin: Any) -> Risk:
        return Risk.LOW

    def execute(self, args: Any, *, origin: Any, key: str) -> dict[str, Any]:
        return {}


def named(action: str, **attributes: Any) -> Connector:
    return type("Custom", (Note,), {"action": action, **attributes})()


class BadSchema(Note):
    def args_schema(self) -> dict[str, Any]:
        return {"type": "object", "properties": {"n": {"type": "integer", "minimum": "zero"}}}


def problem_of(*connectors: object) -> str:
    registered = register_plugins([Plugin("third", "plugin:third", lambda services: list(connectors))], SERVICES)
    assert registered.by_plugin == ()
    (problem,) = registered.problems
    return problem.problem


@pytest.mark.parametrize(
    ("connectors", "problem"),
    [
        ((object(),), "registered a object, not a connectors.base.Connector"),
        ((named("NotesAdd"),), "action name 'NotesAdd' is not like `namespace.verb` (lower case, dots between words)"),
        ((named("notes"),), "action name 'notes' is not like `namespace.verb` (lower case, dots between words)"),
        ((Note(), Note()), "claims the action notes.add, which this plugin already provides"),
        ((named("notes.blank", summary=" "),), "notes.blank has no summary (the planner chooses actions by it)"),
        (
            (named("notes.maybe", idempotency="sometimes"),),
            "notes.maybe has the idempotency class 'sometimes', not one of at_most_once, idempotent, keyed",
        ),
        ((BadSchema(),), "notes.add has an invalid argument schema: 'zero' is not of type 'number'"),
    ],
)
def test_a_bad_declaration_skips_the_plugin_with_the_reason(connectors: tuple[object, ...], problem: str):
    assert problem_of(*connectors) == problem


def test_the_first_plugin_keeps_an_action_and_a_later_claim_is_skipped():
    first = Plugin("first", "plugin:first", lambda services: [Note()])
    second = Plugin("second", "plugin:second", lambda services: [Note(), named("notes.other")])
    registered = register_plugins([first, second], SERVICES)
    assert [(plugin.name, [c.action for c in cs]) for plugin, cs in registered.by_plugin] == [("first", ["notes.add"])]
    assert [p.line() for p in registered.problems] == [
        "plugin second (plugin:second): claims the action notes.add, which plugin:first already provides; skipped"
    ]
    assert registered.connectors[0].source == "plugin:first"  # Baton says where it came from, not the plugin


def test_a_plugin_cannot_waive_approval_for_itself():
    eager = named("notes.eager", source="built-in")
    eager.auto_run = True
    registered = register_plugins([Plugin("eager", "plugin:eager", lambda services: [eager])], SERVICES)
    (connector,) = registered.connectors
    assert connector.source == "plugin:eager" and connector.auto_run is None


def test_a_built_in_plugin_failing_is_a_bug_and_raises():
    with pytest.raises(BuiltInPluginError, match="plugin builtin \\(built-in\\): raised while registering: "):
        register_plugins([Plugin("builtin", BUILT_IN, lambda services: 1 / 0)], SERVICES)  # type: ignore[arg-type,return-value]
    missing = EntryPoint("builtin", "no_such_module_anywhere:register", "baton.connectors")
    with pytest.raises(BuiltInPluginError, match="cannot be imported: ModuleNotFoundError"):
        load_plugins([missing])


def test_an_entry_point_must_name_a_function():
    odd = EntryPoint("odd", "connectors.plugins:ENTRY_POINT_GROUP", "baton.connectors")  # no distribution: built-in
    with pytest.raises(BuiltInPluginError, match=r"connectors\.plugins:ENTRY_POINT_GROUP is not a function"):
        load_plugins([odd])
