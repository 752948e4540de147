"""The one small protocol every side effect goes through.

Exceptions::

    ConnectorError
     ├── RetryableError   transient: timeout, 429 (with retry_after), 5xx; the executor retries with backoff
     ├── PermanentError   will not succeed by retrying: bad channel, forbidden URL, 4xx; the plan stops
     │    │               and completed compensable steps are undone
     │    └── DefinitionChanged  the action is no longer what was approved (an MCP tool's definition changed)
     └── OutcomeUnknown   an at-most-once call was sent and then interrupted (timeout, disconnect): it may or
                          may not have happened; the step stops as "outcome unknown" for a person to settle

A connector declares its argument schema (a pydantic model with ``extra="forbid"``), whether it
only reads, whether it can be undone, and computes a dry-run preview and a risk level from the
arguments. ``execute`` receives a deterministic idempotency key (plan id + step) and must not repeat
an effect already done under that key: it looks the key up, or hands it to the far side
(``Idempotency-Key`` header). ``execute`` and ``compensate`` return a JSON-able summary that is
stored in the effects ledger and shown in the audit trail.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from core.types import RequestOrigin, Risk


class ConnectorError(Exception):
    """Base of connector failures; ``str(err)`` is a short reason fit for a Slack report."""


class RetryableError(ConnectorError):
    """A transient failure; trying again later may succeed."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(ConnectorError):
    """A failure that retrying will not fix."""


class DefinitionChanged(PermanentError):
    """The action's definition differs from the one pinned when the plan was made; it was not run."""


class OutcomeUnknown(ConnectorError):
    """An at-most-once call may have happened: nothing may call it again without a person deciding."""


class Args(BaseModel):
    """Base for connector argument models: unknown fields are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Connector(ABC):
    """One action Baton can take, e.g. ``slack.post_message``."""

    action: ClassVar[str]
    summary: ClassVar[str]
    args_model: ClassVar[type[Args]]
    read_only: ClassVar[bool] = False
    #: Used by Baton's own flows (e.g. meeting follow-ups), never offered to the planner.
    internal: ClassVar[bool] = False
    compensable: ClassVar[bool] = False
    #: keyed (the key reaches the far side or is looked up there), idempotent (safe to repeat) or at_most_once
    #: (called once; an interrupted call is "outcome unknown", never retried by itself).
    idempotency: ClassVar[str] = "keyed"
    #: Where the action comes from, for ``baton tools`` ("built-in", or "mcp:<server>").
    source: ClassVar[str] = "built-in"
    #: A hash of what was offered to the planner, recorded in the plan and checked before the step runs
    #: (MCP tools: the tool's definition); None for connectors whose code is their definition.
    pin: str | None = None
    #: Whether a low-risk step may run without a click, when the operator said so (MCP tools' ``policy``);
    #: None: the built-in rule (read-only, or one of ``core.policy.AUTO_RUN_ACTIONS``).
    auto_run: bool | None = None

    def args_schema(self) -> dict[str, Any]:
        """The JSON schema of the arguments, as the planner sees it."""
        return self.args_model.model_json_schema()

    def parse(self, raw: Mapping[str, Any]) -> Args:
        """Validate raw arguments (from an LLM or a rule); raises ``pydantic.ValidationError``."""
        return self.args_model.model_validate(dict(raw))

    @abstractmethod
    def preview(self, args: Any, *, origin: RequestOrigin) -> str:
        """Exactly what will happen, for the plan card (mrkdwn, may be long: the card truncates)."""

    @abstractmethod
    def risk(self, args: Any, *, origin: RequestOrigin) -> Risk:
        """Risk of this step with these arguments, asked from where the request came."""

    @abstractmethod
    def execute(self, args: Any, *, origin: RequestOrigin, key: str) -> dict[str, Any]:
        """Do the effect once per ``key``; return a JSON-able result summary."""

    def compensate(self, args: Any, result: Mapping[str, Any], *, origin: RequestOrigin, key: str) -> dict[str, Any]:
        """Undo a completed effect (only called when ``compensable``)."""
        raise PermanentError(f"{self.action} cannot be undone")
