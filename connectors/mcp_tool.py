"""``<server>.<tool>``: one tool of a configured MCP server, run as a guarded Baton action.

Arguments are checked with ``jsonschema`` against the tool's ``inputSchema`` (when planned and again before the
call). Risk, read-only and the idempotency class come from :func:`core.mcp_tools.tool_terms` (annotations with
the specification's defaults, then the operator's ``mcp.json``), never from the description.

Idempotency (see ``core/mcp_tools.py``):

- keyed: Baton's step key goes in the tool's key argument; an interrupted call is retried with the same key.
- idempotent: an interrupted call or an unavailable server is retried.
- at most once: an unavailable server (nothing sent) is retried; a call that was sent and then timed out or
  lost its connection raises :class:`connectors.base.OutcomeUnknown`, and nothing calls it again by itself.

The step records the tool definition's pin; the call lists the tools first in the same session and refuses to
run a tool whose definition changed since the plan was made (:class:`connectors.mcp_session.ToolChanged`).
A result with ``isError`` is a failure. Results are redacted (``core/redaction.py``) and clipped before they
are returned (and so stored in the effects ledger).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any, ClassVar

from jsonschema import validators
from jsonschema.exceptions import SchemaError
from pydantic import ConfigDict, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from connectors.base import Args, Connector, DefinitionChanged, OutcomeUnknown, PermanentError, RetryableError
from connectors.mcp_session import CallInterrupted, CallRefused, ServerUnavailable, ToolChanged, call_tool
from core import defaults
from core.mcp_config import Server
from core.mcp_tools import ToolDefinition, ToolTerms, argument_lines
from core.redaction import DEFAULT_REDACTOR
from core.types import RequestOrigin, Risk

#: Placeholder the key argument is validated with before Baton fills in the real step key.
_KEY_PLACEHOLDER = "baton-step-key"
#: How long one argument value may be in the preview before it is clipped (the review modal shows it whole).
_PREVIEW_VALUE_CHARS = 200


class ToolArgs(Args):
    """A tool's arguments as the model gave them; validated against the tool's JSON schema by ``parse``."""

    model_config = ConfigDict(extra="allow", frozen=True)


class McpTool(Connector):
    """One MCP tool; an instance per tool (the class attributes of a built-in are per instance here)."""

    action: ClassVar[str] = "mcp.tool"
    summary: ClassVar[str] = "A tool of an MCP server."
    args_model: ClassVar[type[Args]] = ToolArgs

    def __init__(self, definition: ToolDefinition, terms: ToolTerms, *, server: Server) -> None:
        self.definition, self.terms, self._server = definition, terms, server
        # Instance attributes shadow the ClassVars the registry and the executor read.
        self.action = definition.action  # type: ignore[misc]
        self.summary = definition.description  # type: ignore[misc]
        self.read_only = terms.read_only  # type: ignore[misc]
        self.auto_run = terms.auto_run
        self.idempotency = terms.idempotency  # type: ignore[misc]
        self.source = f"mcp:{definition.server}"  # type: ignore[misc]
        self.pin = definition.pin
        schema = dict(definition.input_schema) or {"type": "object"}
        try:
            validator_class = validators.validator_for(schema)
            validator_class.check_schema(schema)
        except SchemaError as err:
            raise ValueError(f"{definition.action} has an invalid inputSchema: {err.message}") from None
        self._validator = validator_class(schema)

    def args_schema(self) -> dict[str, Any]:
        """The tool's input schema, without the key argument Baton fills in itself."""
        schema = copy.deepcopy(dict(self.definition.input_schema)) or {"type": "object", "properties": {}}
        key = self.definition.key_argument
        if key is not None:
            schema.get("properties", {}).pop(key, None)
            if isinstance(schema.get("required"), list):
                schema["required"] = [name for name in schema["required"] if name != key]
        return schema

    def parse(self, raw: Mapping[str, Any]) -> Args:
        """Validate with the tool's JSON schema; problems raise ``pydantic.ValidationError`` like any connector."""
        values = dict(raw)
        key = self.definition.key_argument
        checked = values | {key: _KEY_PLACEHOLDER} if key is not None and key not in values else values
        errors = sorted(self._validator.iter_errors(checked), key=lambda e: list(e.absolute_path))
        if errors:
            details = [
                InitErrorDetails(
                    type=PydanticCustomError("json_schema", "{reason}", {"reason": error.message[:200]}),
                    loc=tuple(error.absolute_path),
                    input=None,
                )
                for error in errors[:10]
            ]
            raise ValidationError.from_exception_data(self.action, details)
        return ToolArgs.model_validate(values)

    def preview(self, args: Args, *, origin: RequestOrigin) -> str:
        values = args.model_dump(mode="json")
        lines = [
            f"Call the MCP tool `{self.definition.name}` on the server `{self.definition.server}`"
            + (":" if values else " with no arguments.")
        ]
        return "\n".join(lines + argument_lines(values, limit=_PREVIEW_VALUE_CHARS))

    def risk(self, args: Args, *, origin: RequestOrigin) -> Risk:
        return self.terms.risk

    def execute(self, args: Args, *, origin: RequestOrigin, key: str) -> dict[str, Any]:
        arguments = args.model_dump(mode="json")
        key_argument = self.definition.key_argument
        if key_argument is not None:
            arguments[key_argument] = key
        try:
            outcome = call_tool(
                self.definition.server,
                self._server,
                tool=self.definition.name,
                arguments=arguments,
                timeout=self.terms.timeout,
                expected_pin=self.pin,
            )
        except ServerUnavailable as err:
            raise RetryableError(f"the MCP server {self.definition.server} is unavailable: {err}") from err
        except ToolChanged as err:
            raise DefinitionChanged(str(err)) from err
        except CallRefused as err:
            raise PermanentError(str(err)) from err
        except CallInterrupted as err:
            if self.idempotency == "at_most_once":
                raise OutcomeUnknown(f"{self.action}: {err}") from err
            raise RetryableError(f"{self.action}: {err}") from err
        text = DEFAULT_REDACTOR.redact(outcome.text)
        result: dict[str, Any] = {
            "server": self.definition.server,
            "tool": self.definition.name,
            "text": _clip(text.text, defaults.MCP_RESULT_MAX_CHARS),
        }
        redacted = {finding.kind for finding in text.findings}
        if outcome.structured is not None:
            structured = DEFAULT_REDACTOR.redact(json.dumps(outcome.structured, ensure_ascii=False, default=str))
            result["structured"] = _clip(structured.text, defaults.MCP_RESULT_MAX_CHARS)
            redacted |= {finding.kind for finding in structured.findings}
        if redacted:
            result["redacted"] = sorted(redacted)
        if outcome.is_error:
            raise PermanentError(
                f"{self.action} reported an error: "
                f"{_clip(result['text'], defaults.MCP_RESULT_REPORT_CHARS) or '(no details)'}"
            )
        return result


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
