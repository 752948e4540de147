"""The set of connectors a deployment offers, and the catalogue and schema derived from it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from connectors.base import Connector


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

    @property
    def actions(self) -> list[str]:
        """Actions the planner may use (internal ones, such as meeting follow-ups, are left out)."""
        return sorted(name for name, connector in self._by_action.items() if not connector.internal)

    def catalogue(self) -> list[dict[str, Any]]:
        """What the planner is told: each action's name, summary, flags and argument JSON schema."""
        return [
            {
                "action": connector.action,
                "summary": connector.summary,
                "read_only": connector.read_only,
                "compensable": connector.compensable,
                "args_schema": connector.args_model.model_json_schema(),
            }
            for connector in (self._by_action[name] for name in self.actions)
        ]

    def plan_json_schema(self) -> dict[str, Any]:
        """JSON schema of a plan whose steps may only use registered actions with their own arguments."""
        step_variants = [
            {
                "type": "object",
                "properties": {
                    "action": {"type": "string", "const": connector.action},
                    "args": connector.args_model.model_json_schema(),
                    "description": {"type": "string", "maxLength": 300},
                    "depends_on": {"type": "array", "items": {"type": "integer", "minimum": 0}},
                },
                "required": ["action", "args", "description", "depends_on"],
                "additionalProperties": False,
            }
            for connector in (self._by_action[name] for name in self.actions)
        ]
        return {
            "type": "object",
            "properties": {
                "title": {"type": "string", "maxLength": 150},
                "rationale": {"type": "string", "maxLength": 1000},
                "steps": {"type": "array", "maxItems": 10, "items": {"anyOf": step_variants}},
                "cannot_plan_reason": {
                    "type": ["string", "null"],
                    "description": "Set (and leave steps empty) when the request cannot or should not be done.",
                },
            },
            "required": ["title", "rationale", "steps", "cannot_plan_reason"],
            "additionalProperties": False,
        }
