"""Reply building for the fake OpenAI API: chat completions, embeddings, error bodies, token estimates.

Everything here is pure: the server in :mod:`tests.fakes.openai_api` decides *what* to answer and these
functions shape it like the real API does.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import struct
import time
from dataclasses import dataclass
from typing import Any

_WORD = re.compile(r"\w+")

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    403: "permission_error",
    404: "invalid_request_error",
    409: "invalid_request_error",
    422: "invalid_request_error",
    429: "requests",
}
_ERROR_CODES = {429: "rate_limit_exceeded"}
_ERROR_MESSAGES = {
    400: "Bad request.",
    401: "Incorrect API key provided.",
    403: "You are not allowed to sample from this model.",
    404: "The model does not exist or you do not have access to it.",
    429: "Rate limit reached for requests.",
    500: "The server had an error while processing your request. Sorry about that!",
    503: "The engine is currently overloaded, please try again later.",
}


@dataclass(frozen=True)
class ChatReply:
    """A scripted assistant answer; ``content`` is already a string (or ``None``)."""

    content: str | None
    tool_calls: tuple[tuple[str, str], ...] = ()  # (name, arguments as JSON text)
    usage: dict[str, Any] | None = None
    finish_reason: str | None = None
    model: str | None = None
    refusal: str | None = None
    #: When streamed: the connection drops after this many content chunks (a server dying mid-answer).
    cut_after: int | None = None
    #: When streamed: the stream ends cleanly (``[DONE]``) after this many content chunks, with no finish reason
    #: (llama-cpp-python ends a running stream so when another request arrives, its ``interrupt_requests``).
    interrupted_after: int | None = None
    #: When streamed: seconds of SSE keep-alive comments (``: keepalive``) before the first piece, as a proxy sends
    #: them while the model thinks (OpenRouter does); a client reads no chunk from them.
    keepalive_for: float | None = None


def error_body(
    status: int, message: str | None = None, *, code: str | None = None, param: str | None = None
) -> dict[str, Any]:
    """Return OpenAI's error envelope ``{"error": {message, type, param, code}}`` for ``status``."""
    kind = _ERROR_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    text = message or _ERROR_MESSAGES.get(status, f"HTTP {status} from the fake OpenAI API.")
    return {
        "error": {"message": text, "type": kind, "param": param, "code": code or _ERROR_CODES.get(status)}
    }


def estimate_tokens(chars: int) -> int:
    """Approximate a token count the way the usual rule of thumb does: four characters per token."""
    return math.ceil(chars / 4)


def message_chars(messages: list[dict[str, Any]]) -> int:
    """Count the characters of text in request messages: string content, text parts and tool calls."""
    total = 0
    for message in messages:
        content = message.get("content")
        if isinstance(content, str):
            total += len(content)
        elif isinstance(content, list):
            total += sum(len(p.get("text", "")) for p in content if isinstance(p, dict))
        for call in message.get("tool_calls") or ():
            function = call.get("function", {}) if isinstance(call, dict) else {}
            total += len(str(function.get("name", ""))) + len(str(function.get("arguments", "")))
    return total


def build_completion(
    reply: ChatReply, *, request: dict[str, Any], completion_id: str, call_ids: list[str]
) -> dict[str, Any]:
    """Return a ``chat.completion`` object answering ``request`` with ``reply``.

    ``call_ids`` supplies one id per tool call, in order.
    """
    message: dict[str, Any] = {
        "role": "assistant",
        "content": reply.content,
        "refusal": reply.refusal,
        "annotations": [],
    }
    if reply.tool_calls:
        message["tool_calls"] = [
            {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
            for call_id, (name, arguments) in zip(call_ids, reply.tool_calls, strict=True)
        ]
    finish_reason = reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop")
    reply_chars = len(reply.content or "") + len(reply.refusal or "")
    reply_chars += sum(len(name) + len(arguments) for name, arguments in reply.tool_calls)
    usage = reply.usage or _usage(
        estimate_tokens(message_chars(request["messages"])), estimate_tokens(reply_chars)
    )
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": reply.model or request["model"],
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason}],
        "usage": usage,
        "service_tier": "default",
        "system_fingerprint": "fp_fake",
    }


def _usage(prompt_tokens: int, completion_tokens: int) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def embed(item: str | list[int], dim: int) -> tuple[float, ...]:
    """Return a deterministic unit vector for ``item``: a signed, hashed bag of its lower-cased words.

    Identical texts give identical vectors and texts sharing words point the same way. Token arrays are
    embedded as words ``tok<id>``. Values are rounded to float32 so the float and base64 forms agree.
    """
    words = [f"tok{t}" for t in item] if isinstance(item, list) else _WORD.findall(item.lower()) or [item]
    vector = [0.0] * dim
    for word in words:
        digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
        bucket = int.from_bytes(digest[:7], "little") % dim
        vector[bucket] += 1.0 if digest[7] & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vector))
    if norm == 0.0:  # every word cancelled out in a tiny dimension; any fixed unit vector will do
        vector, norm = [1.0] + [0.0] * (dim - 1), 1.0
    return struct.unpack(f"<{dim}f", struct.pack(f"<{dim}f", *(v / norm for v in vector)))


def build_embeddings(
    inputs: list[str | list[int]], *, model: str, dim: int, encoding_format: str
) -> dict[str, Any]:
    """Return a ``list`` of ``embedding`` objects, base64-encoding little-endian float32 when asked."""
    data = []
    for index, item in enumerate(inputs):
        vector = embed(item, dim)
        encoded: Any = list(vector)
        if encoding_format == "base64":
            encoded = base64.b64encode(struct.pack(f"<{dim}f", *vector)).decode("ascii")
        data.append({"object": "embedding", "index": index, "embedding": encoded})
    tokens = sum(len(item) if isinstance(item, list) else estimate_tokens(len(item)) for item in inputs)
    return {
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def to_content(content: str | dict[str, Any] | list[Any] | None) -> str | None:
    """Return scripted content as the API sends it: strings as is, dicts and lists as JSON text."""
    if content is None or isinstance(content, str):
        return content
    return json.dumps(content)


def to_arguments(arguments: dict[str, Any] | str) -> str:
    """Return tool-call arguments as JSON text; a string is sent as is (it may be deliberately broken)."""
    return arguments if isinstance(arguments, str) else json.dumps(arguments)
