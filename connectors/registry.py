"""The set of connectors a deployment offers, and the catalogue and schema derived from it.

The catalogue (:meth:`ConnectorRegistry.catalogue`) is what the prompt describes to the model, once per action
(``core/planning/catalogue_text.py``); the structured-output schema (:meth:`ConnectorRegistry.plan_json_schema`)
carries only the shape of each action's arguments (``schema_shape``: no descriptions, titles or defaults), so
nothing is said to the model twice. Actions from outside Baton (MCP tools: ``source`` is not ``built-in``)
carry text their server wrote: their catalogue entries say their source, so the prompt can quote them as
untrusted data.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from connectors.base import Connector
from core.planning.catalogue_text import hoist_definitions, schema_shape


class UnknownAction(KeyError):
    """A plan named an action no connector provides."""


class ConnectorRegistry:
    """Connectors by action name."""

    def __init__(self, connectors: Iterable[Connector]) -> None:
        self._by_action: dict[str, Connector] = {}
        for connector in connectors:
            if connector.action in self._by_action:
                raise ValueError(f"two connectors claim {connector.action!r}")
            self._by_action[connector.action] = connector

    def get(self, action: str) -> Connector:
        try:
            return self._by_action[action]
        except KeyError:
            raise UnknownAction(action) from None

    def __contains__(self, action: object) -> bool:
        return action in self._by_action

    def every(self) -> list[Connector]:
        """Every connector, internal ones included, by action name (for ``baton tools``)."""
        return [self._by_action[name] for name in sorted(self._by_action)]

    @property
    def actions(self) -> list[str]:
        """Actions the planner may use (internal ones, such as meeting follow-ups, are left out)."""
        return sorted(name for name, connector in self._by_action.items() if not connector.internal)

    def catalogue(self) -> list[dict[str, Any]]:
        """What the planner is told: each action's name, summary, flags and argument JSON schema (and, for an
        action from outside Baton, its ``source``)."""
        entries = []
        for connector in (self._by_action[name] for name in self.actions):
            entry = {
                "action": connector.action,
                "summary": connector.summary,
                "read_only": connector.read_only,
                "compensable": connector.compensable,
                "args_schema": connector.args_schema(),
            }
            if connector.source != "built-in":
                entry["source"] = connector.source
            entries.append(entry)
        return entries

    def plan_json_schema(self, actions: Iterable[str] | None = None) -> dict[str, Any]:
        """JSON schema of a plan whose steps may only use registered actions (all the planner may use, or those of
        ``actions``) with their own arguments' shape. A step's dependencies are defined once (``$defs``) and referred
        to by every action's variant (a description's ``{"type": "string"}`` is shorter than a reference, once the
        bounds a grammar engine cannot take are left out of what is sent)."""
        offered = set(self.actions if actions is None else actions)
        definitions: dict[str, Any] = {"steps": {"type": "array", "items": {"type": "integer", "minimum": 0}}}
        step_variants = [
            {
                "type": "object",
                "properties": {
                    "action": {"const": name},
                    "args": hoist_definitions(
                        schema_shape(self._by_action[name].args_schema()), prefix=f"{name}.", into=definitions
                    ),
                    "description": {"type": "string", "maxLength": 300},
                    "depends_on": {"$ref": "#/$defs/steps"},
                },
                "required": ["action", "args", "description", "depends_on"],
                "additionalProperties": False,
            }
            for name in self.actions
            if name in offered
        ]
        return {
            "type": "object",
            "$defs": definitions,
            "properties": {
                "title": {"type": "string", "maxLength": 150},
                "rationale": {"type": "string", "maxLength": 1000},
                "steps": {"type": "array", "maxItems": 10, "items": {"anyOf": step_variants}},
                "cannot_plan_reason": {"type": ["string", "null"]},
            },
            "required": ["title", "rationale", "steps", "cannot_plan_reason"],
            "additionalProperties": False,
        }
