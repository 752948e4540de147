"""Server profiles for the fake OpenAI API: documented behaviours of OpenAI-compatible servers nobody here wrote.

A profile changes how the fake treats what a request *asks for*, not what it answers (answers stay scripted):

- ``openai`` (default): takes ``json_schema``, ``json_object`` and text; honours ``max_tokens`` and
  ``max_completion_tokens``; serves embeddings.
- ``llama-cpp-python`` (0.3.x, ``llama_cpp.server``): ``response_format.type`` must be ``text`` or ``json_object``
  (a JSON schema is answered with HTTP 500 and pydantic's "Input should be 'text' or 'json_object'");
  ``max_completion_tokens`` is accepted and ignored, ``max_tokens`` honoured; no embeddings unless started with
  an embedding model (404 here).
- ``grammar``: a grammar engine (llama.cpp's ``llama-server``): takes JSON schemas, but one with long
  ``maxLength``/``maxItems`` bounds fails to compile (HTTP 400 "number of repetitions exceeds sane defaults").
- ``reasoning``: OpenAI's reasoning models: ``max_tokens`` is rejected with HTTP 400 naming
  ``max_completion_tokens``.
- ``no-embeddings``: an OpenAI-like chat server with no ``/v1/embeddings`` (404).
- ``slow``: a CPU-bound local server that generates :data:`SLOW_PIECE_SECONDS` per piece of content. Streamed, it
  stops when the client hangs up (llama-cpp-python, vLLM and Ollama do); asked for a whole reply it keeps
  generating to the end (llama-cpp-python does), whoever is still waiting.
- ``no-stream-options``: rejects ``stream_options`` with HTTP 400 (older Azure OpenAI API versions).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from tests.fakes.openai_replies import ChatReply
from tests.fakes.openai_state import ErrorAnswer

#: llama-cpp-python's answer to ``response_format: {"type": "json_schema", ...}`` (its pydantic model allows two).
LLAMA_CPP_PYTHON_JSON_SCHEMA = (
    "1 validation error for CreateChatCompletionRequest\nresponse_format.type\n  Input should be 'text' or "
    "'json_object' [type=literal_error, input_value='json_schema', input_type=str]"
)
#: llama.cpp's grammar compiler on a schema with big repetition bounds.
GRAMMAR_TOO_BIG = (
    "JSON schema conversion failed: number of repetitions exceeds sane defaults, please reduce the number of "
    "repetitions; failed to parse grammar"
)
#: OpenAI's answer to ``max_tokens`` on a reasoning model.
REASONING_MAX_TOKENS = (
    "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead."
)
#: The longest ``maxLength``/``maxItems`` the ``grammar`` profile compiles (llama.cpp gives up on long bounds).
GRAMMAR_MAX_REPETITIONS = 100
#: Azure OpenAI's answer to ``stream_options`` before API version 2024-09-01-preview.
STREAM_OPTIONS_UNRECOGNIZED = "Unrecognized request argument supplied: stream_options"
#: The ``slow`` profile's pace: seconds per streamed piece (eight characters, about two tokens).
SLOW_PIECE_SECONDS = 0.05


@dataclass(frozen=True)
class ServerProfile:
    """What a server takes: see the module docstring for the named ones."""

    name: str
    json_schema: bool = True
    grammar_max_repetitions: int | None = None
    honours: frozenset[str] = frozenset({"max_tokens", "max_completion_tokens"})
    rejects: frozenset[str] = frozenset()
    embeddings: bool = True
    seconds_per_piece: float = 0.0
    stream_options: bool = True


OPENAI = ServerProfile("openai")
PROFILES = {
    profile.name: profile
    for profile in (
        OPENAI,
        ServerProfile("llama-cpp-python", json_schema=False, honours=frozenset({"max_tokens"}), embeddings=False),
        ServerProfile("grammar", grammar_max_repetitions=GRAMMAR_MAX_REPETITIONS),
        ServerProfile("reasoning", honours=frozenset({"max_completion_tokens"}), rejects=frozenset({"max_tokens"})),
        ServerProfile("no-embeddings", embeddings=False),
        ServerProfile("slow", seconds_per_piece=SLOW_PIECE_SECONDS),
        ServerProfile("no-stream-options", stream_options=False),
    )
}


def rejection(profile: ServerProfile, body: dict[str, Any]) -> ErrorAnswer | None:
    """The error ``profile``'s server answers ``body`` with, or None when it takes the request."""
    if "max_tokens" in body and "max_tokens" in profile.rejects:
        return ErrorAnswer(400, REASONING_MAX_TOKENS, code="unsupported_parameter")
    if "stream_options" in body and not profile.stream_options:
        return ErrorAnswer(400, STREAM_OPTIONS_UNRECOGNIZED)
    fmt = body.get("response_format")
    if not isinstance(fmt, dict) or fmt.get("type") != "json_schema":
        return None
    if not profile.json_schema:
        return ErrorAnswer(500, LLAMA_CPP_PYTHON_JSON_SCHEMA)
    bound = profile.grammar_max_repetitions
    if bound is not None and _largest_bound(fmt.get("json_schema", {}).get("schema")) > bound:
        return ErrorAnswer(400, GRAMMAR_TOO_BIG)
    return None


def bounded(profile: ServerProfile, body: dict[str, Any], reply: ChatReply) -> ChatReply:
    """``reply`` as ``profile``'s server sends it under ``body``'s output limit: cut at the limit (about four
    characters a token) with ``finish_reason: length`` when it honours the parameter sent, whole when it ignores it."""
    limits = [body[name] for name in sorted(profile.honours) if name in body]
    if not limits or reply.content is None or reply.tool_calls:
        return reply
    limit = min(int(value) for value in limits)
    if len(reply.content) <= limit * 4:
        return reply
    return replace(reply, content=reply.content[: limit * 4], finish_reason="length")


def _largest_bound(schema: Any) -> int:
    """The largest ``maxLength``/``maxItems`` anywhere in ``schema``."""
    if isinstance(schema, dict):
        own = [v for k, v in schema.items() if k in ("maxLength", "maxItems") and isinstance(v, int)]
        return max([*own, *(_largest_bound(v) for v in schema.values())], default=0)
    if isinstance(schema, list):
        return max((_largest_bound(v) for v in schema), default=0)
    return 0
