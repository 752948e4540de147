"""Shape-level request validation for the fake OpenAI API.

The checks mirror what the real API rejects with a 400 before any model runs: missing fields, unknown
roles, malformed tools, ``tool_choice`` and ``response_format``. They stop at the shape; nothing here
judges content.
"""

from __future__ import annotations

import re
from typing import Any

_ROLES = frozenset({"system", "user", "assistant", "tool", "developer"})
_TOOL_CHOICE_MODES = frozenset({"none", "auto", "required"})
_RESPONSE_FORMATS = frozenset({"text", "json_object", "json_schema"})
_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


class InvalidRequest(Exception):
    """A request the real API would reject with ``400 invalid_request_error``."""

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code


def validate_chat(body: Any) -> None:
    """Raise :class:`InvalidRequest` unless ``body`` is a well-shaped chat completion request."""
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    if "stream" in body and not isinstance(body["stream"], bool):
        raise InvalidRequest("stream must be a boolean.", param="stream")
    if body.get("stream_options") is not None and not body.get("stream"):
        raise InvalidRequest("The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                             param="stream_options")
    _require_model(body)
    _validate_messages(body.get("messages"))
    names = _validate_tools(body.get("tools"))
    if "tool_choice" in body:
        _validate_tool_choice(body["tool_choice"], names)
    if body.get("response_format") is not None:
        _validate_response_format(body["response_format"], body["messages"])


def embedding_inputs(body: Any) -> list[str | list[int]]:
    """Return the inputs of an embeddings request as a list, raising :class:`InvalidRequest` if malformed."""
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    _require_model(body)
    dims = body.get("dimensions")
    if dims is not None and (isinstance(dims, bool) or not isinstance(dims, int) or dims < 1):
        raise InvalidRequest("'dimensions' must be a positive integer.", param="dimensions")
    if body.get("encoding_format", "float") not in ("float", "base64"):
        raise InvalidRequest("'encoding_format' must be 'float' or 'base64'.", param="encoding_format")
    raw = body.get("input")
    if isinstance(raw, str) or (isinstance(raw, list) and raw and all(_is_token(t) for t in raw)):
        inputs: list[Any] = [raw]
    elif isinstance(raw, list) and raw:
        inputs = raw
    else:
        raise InvalidRequest(
            "'input' must be a string, a list of strings or a list of token arrays.", param="input"
        )
    for item in inputs:
        if isinstance(item, str) and item:
            continue
        if isinstance(item, list) and item and all(_is_token(t) for t in item):
            continue
        raise InvalidRequest(
            "'input' items must be non-empty strings or non-empty token arrays.", param="input"
        )
    return inputs


def _is_token(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _require_model(body: dict[str, Any]) -> None:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise InvalidRequest("you must provide a model parameter", param="model")


def _validate_messages(messages: Any) -> None:
    if not isinstance(messages, list) or not messages:
        raise InvalidRequest("'messages' must be a non-empty array.", param="messages")
    for i, message in enumerate(messages):
        param = f"messages.[{i}]"
        if not isinstance(message, dict):
            raise InvalidRequest(f"{param} must be an object.", param=param)
        role = message.get("role")
        if role not in _ROLES:
            allowed = ", ".join(sorted(_ROLES))
            raise InvalidRequest(
                f"Invalid value for '{param}.role': {role!r}; expected one of {allowed}.",
                param=f"{param}.role",
                code="invalid_value",
            )
        content = message.get("content")
        if content is not None and not isinstance(content, str | list):
            raise InvalidRequest(
                f"'{param}.content' must be a string or an array of parts.", param=f"{param}.content"
            )
        if role == "assistant":
            if content is None and not message.get("tool_calls"):
                raise InvalidRequest(
                    f"'{param}.content' is required unless 'tool_calls' is given.", param=f"{param}.content"
                )
        elif content is None:
            raise InvalidRequest(
                f"Missing required parameter: '{param}.content'.",
                param=f"{param}.content",
                code="missing_required_parameter",
            )
        if role == "tool" and not isinstance(message.get("tool_call_id"), str):
            raise InvalidRequest(
                f"Missing required parameter: '{param}.tool_call_id'.",
                param=f"{param}.tool_call_id",
                code="missing_required_parameter",
            )


def _validate_tools(tools: Any) -> set[str]:
    if tools is None:
        return set()
    if not isinstance(tools, list):
        raise InvalidRequest("'tools' must be an array.", param="tools")
    names: set[str] = set()
    for i, tool in enumerate(tools):
        param = f"tools[{i}]"
        if not isinstance(tool, dict) or tool.get("type") != "function":
            raise InvalidRequest(
                f"'{param}.type' must be 'function' (the only tool type the fake supports).",
                param=f"{param}.type",
            )
        function = tool.get("function")
        if not isinstance(function, dict):
            raise InvalidRequest(
                f"Missing required parameter: '{param}.function'.", param=f"{param}.function"
            )
        name = function.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            raise InvalidRequest(
                f"Invalid '{param}.function.name': must match ^[a-zA-Z0-9_-]{{1,64}}$.",
                param=f"{param}.function.name",
            )
        if "parameters" in function and not isinstance(function["parameters"], dict):
            raise InvalidRequest(
                f"'{param}.function.parameters' must be a JSON Schema object.",
                param=f"{param}.function.parameters",
            )
        names.add(name)
    return names


def _validate_tool_choice(choice: Any, names: set[str]) -> None:
    if not names:
        raise InvalidRequest(
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
            param="tool_choice",
        )
    if isinstance(choice, str):
        if choice not in _TOOL_CHOICE_MODES:
            raise InvalidRequest(f"Invalid value for 'tool_choice': {choice!r}.", param="tool_choice")
        return
    function = choice.get("function") if isinstance(choice, dict) else None
    if not isinstance(choice, dict) or choice.get("type") != "function" or not isinstance(function, dict):
        raise InvalidRequest(
            "'tool_choice' must be none/auto/required or {'type': 'function', 'function': {'name': ...}}.",
            param="tool_choice",
        )
    if function.get("name") not in names:
        raise InvalidRequest(
            f"Invalid value for 'tool_choice': no function named {function.get('name')!r} in 'tools'.",
            param="tool_choice",
        )


def _validate_response_format(fmt: Any, messages: list[dict[str, Any]]) -> None:
    kind = fmt.get("type") if isinstance(fmt, dict) else None
    if kind not in _RESPONSE_FORMATS:
        raise InvalidRequest(
            f"Invalid value for 'response_format.type': {kind!r}.", param="response_format.type"
        )
    if kind == "json_object" and "json" not in str([m.get("content") for m in messages]).lower():
        raise InvalidRequest(
            "'messages' must contain the word 'json' in some form, to use 'response_format' "
            "of type 'json_object'.",
            param="messages",
        )
    if kind == "json_schema":
        spec = fmt.get("json_schema")
        if not isinstance(spec, dict):
            raise InvalidRequest(
                "Missing required parameter: 'response_format.json_schema'.",
                param="response_format.json_schema",
                code="missing_required_parameter",
            )
        if not isinstance(spec.get("name"), str) or not _NAME.match(spec["name"]):
            raise InvalidRequest(
                "Invalid 'response_format.json_schema.name': must match ^[a-zA-Z0-9_-]{1,64}$.",
                param="response_format.json_schema.name",
            )
        if not isinstance(spec.get("schema"), dict):
            raise InvalidRequest(
                "'response_format.json_schema.schema' must be a JSON Schema object.",
                param="response_format.json_schema.schema",
            )
