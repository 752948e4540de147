"""The action catalogue as the planner reads it: one compact entry per action, arguments described once.

The structured-output schema (``ConnectorRegistry.plan_json_schema``) carries only the shape of each action's
arguments (:func:`schema_shape`: no descriptions, titles or defaults); what each argument means, its bounds and
its default are said here, once, as a line of text a model reads more cheaply than JSON Schema (a grammar-
constrained server never shows the schema to the model at all, so this is the one place the model is sure to see
them). An entry (:func:`compact_entry`) reads::

    {"action": "slack.post_message", "args": {"channel*": "Conversation id (C… public, …) or a user id",
     "in_thread": "boolean, default false. Reply in the thread the request came from."},
     "summary": "Post a message to a channel, as a reply in the requesting thread, or as a DM to a person."}

``*`` marks a required argument; ``read_only`` appears only when true (whether a step can be undone is Baton's
business, not the planner's). Nested objects are shown inline to
:data:`MAX_DEPTH` levels.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

#: Schema keywords that only explain (said once, in the text): left out of the reply's schema.
EXPLAINING_KEYWORDS = frozenset({"description", "title", "default", "examples", "$comment"})
#: How deep nested objects and lists are spelled out before they are shown as "object".
MAX_DEPTH = 2
_SPACES = re.compile(r"\s+")
#: Bounds worth a word to the model (others are checked on the reply and named in the repair prompt).
_BOUNDS = (
    ("maxLength", "at most {} chars"),
    ("maxItems", "at most {} items"),
    ("minimum", "min {}"),
    ("maximum", "max {}"),
    ("exclusiveMinimum", "> {}"),
)


def compact_entry(entry: Mapping[str, Any]) -> dict[str, Any]:
    """One catalogue entry (``ConnectorRegistry.catalogue()``'s shape) as the prompt shows it."""
    compact: dict[str, Any] = {"action": entry["action"], "summary": _one_line(entry.get("summary"))}
    if entry.get("read_only"):
        compact["read_only"] = True
    schema = entry.get("args_schema") or {}
    if isinstance(schema, Mapping):
        compact["args"] = argument_texts(schema, defs={**schema.get("definitions", {}), **schema.get("$defs", {})})
    if "source" in entry:
        compact["source"] = entry["source"]
    return compact


def argument_texts(schema: Mapping[str, Any], *, defs: Mapping[str, Any]) -> dict[str, str]:
    """Each property of an object ``schema`` (``name*`` when required) -> ``type[, bounds][, default]. description``."""
    properties = schema.get("properties") or {}
    required = set(schema.get("required") or ())
    texts = {}
    for name, prop in properties.items():
        prop = _resolve(prop, defs)
        kind = type_text(prop, defs=defs, depth=0)
        kind = kind.removeprefix("string").removeprefix(", ") if kind.split(",")[0] == "string" else kind
        parts = [kind] if kind else []  # text is what an argument is unless said otherwise
        if isinstance(prop, Mapping) and "default" in prop:
            parts.append(f"default {_value(prop['default'])}")
        description = _one_line(prop.get("description") if isinstance(prop, Mapping) else None)
        text = ". ".join(part for part in (", ".join(parts), description) if part)
        texts[f"{name}*" if name in required else str(name)] = text
    return texts


def type_text(schema: Any, *, defs: Mapping[str, Any], depth: int) -> str:
    """A short reading of a property's type: ``date-time``, ``string, at most 200 chars``, ``list of string``…
    (a string's ``format`` is its type's name)."""
    schema = _resolve(schema, defs)
    if not isinstance(schema, Mapping) or not schema:
        return "any"
    if "const" in schema:
        return f"exactly {_value(schema['const'])}"
    if "enum" in schema:
        return "one of " + "|".join(_value(v) for v in schema["enum"])
    choices = schema.get("anyOf") or schema.get("oneOf")
    if choices:
        return " or ".join(dict.fromkeys(type_text(choice, defs=defs, depth=depth) for choice in choices))
    kind = schema.get("type")
    if isinstance(kind, list):
        text = " or ".join(str(k) for k in kind)
    elif kind == "array":
        text = "list of " + type_text(schema.get("items"), defs=defs, depth=depth + 1)
    elif kind == "object" or "properties" in schema:
        text = _object_text(schema, defs=defs, depth=depth)
    elif kind == "string" and "format" in schema:
        text = str(schema["format"])
    else:
        text = str(kind or "any")
    bounds = [label.format(schema[key]) for key, label in _BOUNDS if key in schema]
    return ", ".join([text, *bounds])


def _object_text(schema: Mapping[str, Any], *, defs: Mapping[str, Any], depth: int) -> str:
    properties = schema.get("properties")
    if not properties or depth >= MAX_DEPTH:
        return "object"
    required = set(schema.get("required") or ())
    fields = [
        f"{name}{'*' if name in required else ''}: {type_text(prop, defs=defs, depth=depth + 1)}"
        for name, prop in properties.items()
    ]
    return "object {" + "; ".join(fields) + "}"


def _resolve(schema: Any, defs: Mapping[str, Any]) -> Any:
    """A local ``{"$ref": "#/$defs/Name"}`` replaced by its definition (one level; unknown refs stay as they are)."""
    if isinstance(schema, Mapping) and isinstance(schema.get("$ref"), str):
        name = schema["$ref"].rsplit("/", 1)[-1]
        target = defs.get(name)
        if isinstance(target, Mapping):
            return {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def _value(value: Any) -> str:
    """A value as the text shows it: a plain word as itself (no JSON quotes to escape), anything else as JSON."""
    if isinstance(value, str) and re.fullmatch(r"[\w.:/@-]+", value):
        return value
    return json.dumps(value, ensure_ascii=False)


def _one_line(text: Any) -> str:
    return _SPACES.sub(" ", str(text or "")).strip()


def schema_shape(schema: Any) -> Any:
    """A JSON schema without :data:`EXPLAINING_KEYWORDS`, at any depth (a property *named* like one is kept: only
    keyword positions are cleaned), and written shorter where the meaning is the same: ``anyOf`` of bare types as
    one ``type`` list (``{"type": ["integer", "null"]}``), no ``type`` beside an ``enum`` of strings."""
    return _shape(schema, in_names=False)


def _shape(value: Any, *, in_names: bool) -> Any:
    if isinstance(value, list):
        return [_shape(item, in_names=False) for item in value]
    if not isinstance(value, Mapping):
        return value
    if in_names:
        return {key: _shape(item, in_names=False) for key, item in value.items()}
    shaped = {
        key: _shape(item, in_names=key in ("properties", "$defs", "definitions"))
        for key, item in value.items()
        if key not in EXPLAINING_KEYWORDS
    }
    choices = shaped.get("anyOf")
    if isinstance(choices, list) and choices and all(_bare_type(choice) for choice in choices):
        shaped.pop("anyOf")
        shaped["type"] = [choice["type"] for choice in choices]
    enum = shaped.get("enum")
    if shaped.get("type") == "string" and isinstance(enum, list) and all(isinstance(v, str) for v in enum):
        shaped.pop("type")
    return shaped


def _bare_type(schema: Any) -> bool:
    """A schema that says nothing but one type name (``{"type": "integer"}``)."""
    return isinstance(schema, Mapping) and list(schema) == ["type"] and isinstance(schema["type"], str)


def hoist_definitions(shape: Any, *, prefix: str, into: dict[str, Any]) -> Any:
    """``shape`` (an action's argument schema) with its own ``$defs`` (or ``definitions``) moved ``into`` the plan
    schema's ``$defs`` under ``prefix`` + name, and its local references rewritten to match: nested inside the plan
    schema, ``#/$defs/Name`` would otherwise point at the plan's root (an MCP tool's pydantic-made inputSchema
    often has definitions)."""
    if not isinstance(shape, Mapping):
        return shape
    local = {**shape.get("definitions", {}), **shape.get("$defs", {})}
    if not local:
        return shape
    renamed = {f"#/{key}/{name}": f"#/$defs/{prefix}{name}" for key in ("$defs", "definitions") for name in local}
    for name, definition in local.items():
        into[f"{prefix}{name}"] = _rewrite_refs(definition, renamed)
    return _rewrite_refs({k: v for k, v in shape.items() if k not in ("$defs", "definitions")}, renamed)


def _rewrite_refs(value: Any, renamed: Mapping[str, str]) -> Any:
    if isinstance(value, Mapping):
        return {
            key: renamed.get(item, item) if key == "$ref" and isinstance(item, str) else _rewrite_refs(item, renamed)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_rewrite_refs(item, renamed) for item in value]
    return value
