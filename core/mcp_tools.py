"""What Baton makes of one MCP tool: its action name, risk, idempotency class, policy and pin.

Risk comes from the tool's annotations with the MCP specification's defaults where one is absent
(``readOnlyHint`` false, ``destructiveHint`` true, ``idempotentHint`` false, ``openWorldHint`` true):
read-only -> low; otherwise medium, and high when destructive or open-world. The operator's ``risk`` in
``mcp.json`` replaces it. The description is never read for any of this: it is the server's text, and a
server (or whoever wrote its description) cannot lower a tool's risk or raise its permissions.

Idempotency classes (Baton's, as for every connector):

- ``keyed``: the schema takes an idempotency key (``idempotency_key``, ``idempotencyKey`` or ``request_id``);
  Baton passes its step key, so the server can refuse a repeat.
- ``idempotent``: ``idempotentHint`` (or the operator's ``idempotent: true``); retried on transient errors.
- ``at_most_once``: everything else; called once, and an interrupted call leaves the outcome unknown.

The pin is a SHA-256 of the definition (name, description, input schema, annotations) in canonical JSON: a
plan records it, and the step does not run if the server later describes the tool differently.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from core.mcp_config import Policy, ToolSettings
from core.types import Risk

IdempotencyClass = Literal["keyed", "idempotent", "at_most_once"]

#: Argument names through which a tool accepts a caller's idempotency key, in order of preference.
KEY_ARGUMENTS = ("idempotency_key", "idempotencyKey", "request_id")

#: The MCP specification's value for each hint a tool leaves out.
HINT_DEFAULTS: Mapping[str, bool] = {
    "readOnlyHint": False,
    "destructiveHint": True,
    "idempotentHint": False,
    "openWorldHint": True,
}


@dataclass(frozen=True)
class ToolDefinition:
    """One tool as its server lists it (the parts Baton pins), under the server's configured name."""

    server: str
    name: str
    description: str
    input_schema: Mapping[str, Any]
    annotations: Mapping[str, Any] = field(default_factory=dict)

    @property
    def action(self) -> str:
        return f"{self.server}.{self.name}"

    def hint(self, name: str) -> bool:
        """An annotation hint, or the specification's default when the server did not give a boolean."""
        value = self.annotations.get(name)
        return value if isinstance(value, bool) else HINT_DEFAULTS[name]

    @property
    def pin(self) -> str:
        """SHA-256 (hex) of the canonical JSON of name, description, input schema and annotations."""
        canonical = json.dumps(
            {
                "name": self.name,
                "description": self.description,
                "inputSchema": self.input_schema,
                "annotations": self.annotations,
            },
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )
        return hashlib.sha256(canonical.encode()).hexdigest()

    @property
    def key_argument(self) -> str | None:
        """The argument that takes an idempotency key, if the schema has one."""
        properties = self.input_schema.get("properties")
        if not isinstance(properties, Mapping):
            return None
        return next((name for name in KEY_ARGUMENTS if name in properties), None)


@dataclass(frozen=True)
class ToolTerms:
    """How Baton treats a tool: risk, whether it only reads, idempotency class, policy, timeout."""

    risk: Risk
    read_only: bool
    idempotency: IdempotencyClass
    policy: Policy
    timeout: float
    #: May a low-risk call run without a click: ``allow`` says yes, ``ask`` no, unset: only when read-only.
    auto_run: bool


def argument_lines(args: Mapping[str, Any], *, limit: int | None) -> list[str]:
    """A tool call's arguments as a readable list, ``• `name`: value``; a value longer than ``limit`` characters is
    clipped with "…" (None: in full). Non-string values are shown as JSON."""
    lines = []
    for name, value in args.items():
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        if limit is not None and len(text) > limit:
            text = text[: limit - 1] + "…"
        lines.append(f"• `{name}`: {text}")
    return lines


def annotation_risk(tool: ToolDefinition) -> Risk:
    """Risk from the annotations alone (see the module docstring)."""
    if tool.hint("readOnlyHint"):
        return Risk.LOW
    if tool.hint("destructiveHint") or tool.hint("openWorldHint"):
        return Risk.HIGH
    return Risk.MEDIUM


def tool_terms(tool: ToolDefinition, settings: ToolSettings, *, default_timeout: float) -> ToolTerms:
    """Combine the annotations with the operator's settings for ``tool``.

    Policy: ``allow`` lets a low-risk call run without a click; ``ask`` always waits for approval; ``deny`` keeps
    the tool from the planner. Unset, a tool runs without a click only when it is read-only (and low risk), like
    Baton's own actions, and its policy is the one that says so: ``allow`` when read-only, ``ask`` otherwise (so
    ``baton tools`` never shows a write tool as ``allow`` that the operator never allowed).
    """
    read_only = tool.hint("readOnlyHint")
    if tool.key_argument is not None:
        idempotency: IdempotencyClass = "keyed"
    elif settings.idempotent if settings.idempotent is not None else (read_only or tool.hint("idempotentHint")):
        idempotency = "idempotent"
    else:
        idempotency = "at_most_once"
    return ToolTerms(
        risk=settings.risk or annotation_risk(tool),
        read_only=read_only,
        idempotency=idempotency,
        policy=settings.policy or ("allow" if read_only else "ask"),
        timeout=settings.timeout or default_timeout,
        auto_run=settings.policy == "allow" if settings.policy is not None else read_only,
    )
