"""The catalogue said once: arguments' meaning as text in the prompt, their shape alone in the reply's schema."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

import jsonschema
import pytest
from pydantic import Field

from connectors.base import Args, Connector
from connectors.registry import ConnectorRegistry
from core.model_capabilities import grammar_schema
from core.planning.catalogue_text import compact_entry, schema_shape
from core.types import RequestOrigin, Risk


class TaskArgs(Args):
    """Arguments of ``tasks.create``."""

    title: str = Field(min_length=1, max_length=200, description="What needs doing, one line.")
    owner: str | None = Field(default=None, description="User id (U…) of the person responsible.")
    due_date: date | None = Field(default=None, description="Due date.")
    kind: Literal["chore", "bug"] = Field(default="chore", description="What sort of task.")
    tags: list[str] = Field(default_factory=list, description="Labels.")


class CreateTask(Connector):
    action = "tasks.create"
    summary = "Create a task  in Baton's\n task list."
    args_model = TaskArgs
    compensable = True

    def preview(self, args: Any, *, origin: RequestOrigin) -> str:
        return "create"

    def risk(self, args: Any, *, origin: RequestOrigin) -> Risk:
        return Risk.LOW

    def execute(self, args: Any, *, origin: RequestOrigin, key: str) -> dict[str, Any]:
        raise AssertionError("not run")


REGISTRY = ConnectorRegistry([CreateTask()])


def test_an_entry_says_each_arguments_meaning_bounds_and_default_once():
    [entry] = REGISTRY.catalogue()
    assert compact_entry(entry) == {
        "action": "tasks.create",
        "summary": "Create a task in Baton's task list.",
        "args": {
            "title*": "at most 200 chars. What needs doing, one line.",
            "owner": "string or null, default null. User id (U…) of the person responsible.",
            "due_date": "date or null, default null. Due date.",
            "kind": "one of chore|bug, default chore. What sort of task.",
            "tags": "list of string. Labels.",
        },
    }


def test_an_mcp_tool_keeps_its_source_and_nested_arguments_are_spelled_out():
    entry = {
        "action": "gh.create_issue",
        "summary": "Open an issue.",
        "read_only": True,
        "source": "mcp:gh",
        "args_schema": {
            "type": "object",
            "$defs": {"Label": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}},
            "properties": {
                "labels": {"type": "array", "items": {"$ref": "#/$defs/Label"}, "maxItems": 5},
                "when": {"type": "string", "format": "date-time"},
                "count": {"type": "integer", "minimum": 1, "maximum": 9},
            },
        },
    }
    assert compact_entry(entry) == {
        "action": "gh.create_issue",
        "summary": "Open an issue.",
        "read_only": True,
        "source": "mcp:gh",
        "args": {
            "labels": "list of object {name*: string}, at most 5 items",
            "when": "date-time",
            "count": "integer, min 1, max 9",
        },
    }


def test_the_schema_keeps_the_shape_and_drops_every_explanation():
    shape = schema_shape(TaskArgs.model_json_schema())
    assert "description" not in str(shape) and "title" not in shape and "default" not in str(shape)
    assert shape["properties"]["title"] == {"type": "string", "minLength": 1, "maxLength": 200}
    assert shape["properties"]["owner"] == {"type": ["string", "null"]}  # anyOf of bare types, said shorter
    assert shape["properties"]["kind"] == {"enum": ["chore", "bug"]}
    # A property *named* like a keyword is a name, not an explanation.
    named = {"type": "object", "properties": {"description": {"type": "string", "title": "D"}}}
    assert schema_shape(named) == {"type": "object", "properties": {"description": {"type": "string"}}}


PLAN = {
    "title": "Task",
    "rationale": "Asked for.",
    "cannot_plan_reason": None,
    "steps": [
        {
            "action": "tasks.create",
            "args": {"title": "Fix it", "owner": None, "kind": "bug"},
            "description": "Create the task",
            "depends_on": [],
        }
    ],
}


@pytest.mark.parametrize("sent", [False, True], ids=["full", "as sent"])
def test_the_compact_plan_schema_still_accepts_a_plan_and_rejects_wrong_arguments(sent):
    schema = REGISTRY.plan_json_schema()
    schema = grammar_schema(schema) if sent else schema
    jsonschema.validate(PLAN, schema)
    wrong = {**PLAN, "steps": [{**PLAN["steps"][0], "args": {"title": "x", "colour": "red"}}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(wrong, schema)
    unknown = {**PLAN, "steps": [{**PLAN["steps"][0], "action": "tasks.delete"}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(unknown, schema)


def test_the_plan_schema_can_be_limited_to_the_offered_actions():
    assert REGISTRY.plan_json_schema([])["properties"]["steps"]["items"]["anyOf"] == []
    [variant] = REGISTRY.plan_json_schema(["tasks.create", "not.registered"])["properties"]["steps"]["items"]["anyOf"]
    assert variant["properties"]["action"] == {"const": "tasks.create"}


def test_an_mcp_tools_own_definitions_move_to_the_plan_schemas_root_and_its_references_follow():
    nested = {
        "type": "object",
        "$defs": {"Label": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}},
        "definitions": {"Size": {"enum": ["s", "m"]}},
        "properties": {
            "labels": {"type": "array", "items": {"$ref": "#/$defs/Label"}},
            "size": {"$ref": "#/definitions/Size"},
        },
        "required": ["labels"],
    }

    class Labels(CreateTask):
        action = "gh.label"

        def args_schema(self) -> dict[str, Any]:
            return nested

    schema = ConnectorRegistry([Labels()]).plan_json_schema()
    assert set(schema["$defs"]) == {"steps", "gh.label.Label", "gh.label.Size"}
    step = {
        "action": "gh.label",
        "args": {"labels": [{"name": "bug"}], "size": "m"},
        "description": "x",
        "depends_on": [],
    }
    jsonschema.validate({**PLAN, "steps": [step]}, schema)
    for wrong in ({"labels": [{"colour": "red"}]}, {"labels": [], "size": "xl"}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({**PLAN, "steps": [{**step, "args": wrong}]}, schema)
    assert compact_entry({"action": "gh.label", "summary": "Label.", "args_schema": nested})["args"] == {
        "labels*": "list of object {name*: string}",
        "size": "one of s|m",
    }
