"""What a model server accepts, and how to ask it (pure): the structured-output form, the output-limit parameter,
the schema a grammar engine can take, and what a rejection says about the server.

OpenAI-compatible servers differ where Baton cares most:

- **structured output**: OpenAI, vLLM, Ollama and llama.cpp's ``llama-server`` take
  ``response_format: {"type": "json_schema", ...}``; ``llama-cpp-python`` answers HTTP 500 "Input should be
  'text' or 'json_object'"; some servers take only plain text;
- **output limit**: OpenAI's reasoning models reject ``max_tokens`` and want ``max_completion_tokens``;
  ``llama-cpp-python`` accepts ``max_completion_tokens`` but ignores it and honours ``max_tokens``;
- **grammar engines** (llama.cpp, vLLM's guided decoding) compile the schema into a grammar, and long
  ``maxLength``/``maxItems`` bounds blow it up ("exceeds sane defaults", "failed to parse grammar").

- **streaming**: every server streams, but some reject ``stream_options`` (older Azure API versions), and
  ``llama-cpp-python`` ends a stream early when another request arrives (its ``interrupt_requests``).

So Baton sends :func:`grammar_schema` (structure only; its own pydantic validation enforces the limits after the
reply), starts from the strongest form (:data:`STRONGEST`), and reads each rejection with :func:`read_rejection`:
a message naming what the server does not take is not a transient failure but a fact about the server, which the
worker layer remembers per model (``workers/llm/capabilities.py``). Baton streams structured replies so it can
stop early (:mod:`workers.llm.streaming`), and a server that rejects or breaks off streams is asked without from
then on.
Operators can pin each choice (``BATON_LLM_STRUCTURED``, ``BATON_LLM_LIMIT_PARAM``, ``BATON_LLM_STREAM``); a pinned
choice the server rejects is a configuration error whose reason says what to set.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

Structured = Literal["json_schema", "json_object", "text"]
LimitParam = Literal["max_tokens", "max_completion_tokens"]

#: Structured-output forms, strongest first; each step down is what a server that rejects the one before takes.
STRUCTURED_FORMS: tuple[Structured, ...] = ("json_schema", "json_object", "text")
LIMIT_PARAMS: tuple[LimitParam, ...] = ("max_tokens", "max_completion_tokens")

#: JSON Schema keywords a grammar engine turns into repetition bounds or regexes (or cannot parse at all); they
#: are left out of what is sent, and enforced by Baton's validation of the reply instead.
GRAMMAR_UNSAFE_KEYWORDS = frozenset(
    {
        "maxLength",
        "minLength",
        "maxItems",
        "minItems",
        "pattern",
        "format",
        "maximum",
        "minimum",
        "exclusiveMaximum",
        "exclusiveMinimum",
        "multipleOf",
        "uniqueItems",
        "maxProperties",
        "minProperties",
    }
)

#: How the structured form is pinned, by setting; the reason of a rejection says which value to set.
STRUCTURED_SETTING = "BATON_LLM_STRUCTURED"
LIMIT_SETTING = "BATON_LLM_LIMIT_PARAM"
STREAM_SETTING = "BATON_LLM_STREAM"
#: What a :class:`Rejection` of streaming names as rejected.
STREAM = "stream"


@dataclass(frozen=True)
class Capabilities:
    """How to ask one model on one server: the structured-output form, the output-limit parameter, and whether
    replies are streamed.

    ``learned`` is False for the starting guess (nothing seen yet), True once a server's answer decided it."""

    structured: Structured = "json_schema"
    limit_param: LimitParam = "max_tokens"
    learned: bool = False
    stream: bool = True

    def describe(self) -> str:
        """One line for logs and ``baton doctor``: ``structured output json_object, output limit via max_tokens,
        streamed``."""
        streamed = "streamed" if self.stream else "not streamed"
        return f"structured output {self.structured}, output limit via {self.limit_param}, {streamed}"

    def to_json(self) -> str:
        return json.dumps({"structured": self.structured, "limit_param": self.limit_param, "stream": self.stream})

    @classmethod
    def from_json(cls, text: str | bytes) -> Capabilities | None:
        """Read :meth:`to_json`'s output; None when it is not one (a stale or foreign cache entry)."""
        try:
            data = json.loads(text)
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        structured, limit, stream = data.get("structured"), data.get("limit_param"), data.get("stream", True)
        if structured not in STRUCTURED_FORMS or limit not in LIMIT_PARAMS or not isinstance(stream, bool):
            return None
        return cls(structured=structured, limit_param=limit, stream=stream, learned=True)


#: What Baton tries first when nothing is pinned or learned: structured outputs with a schema, the output limit
#: every server but OpenAI's reasoning models honours (those say so, and Baton switches), and streaming.
STRONGEST = Capabilities()


@dataclass(frozen=True)
class Rejection:
    """What a server's error message says it does not take: ``structured`` (the form it rejected), ``limit_param``
    (the parameter it rejected) or :data:`STREAM`, and the form or parameter to use instead."""

    rejected: str
    instead: Capabilities | None
    setting: str
    value: str | None

    def reason(self, *, model: str, pinned: bool) -> str:
        """A short reason for a Slack card and the log: which model, what it rejected, what to set."""
        if self.rejected in LIMIT_PARAMS:
            what = f"the model server rejected {self.rejected}"
        elif self.rejected == STREAM:
            what = "the model server rejected or broke off a streamed reply"
        else:
            what = f"the model server rejected structured output ({self.rejected})"
        if self.value is None:
            return f"{what} for {model}, and Baton has no weaker form to try; check the server's configuration"
        advice = f"set {self.setting}={self.value}"
        if pinned:
            advice += " (it is pinned to on)" if self.rejected == STREAM else f" (it is pinned to {self.rejected})"
        return f"{what} for {model}; {advice}"


_JSON_SCHEMA_REJECTED = re.compile(
    r"input should be 'text' or 'json_object'|json_schema|response_format\.json_schema|structured output"
    r"|failed to parse grammar|exceeds sane defaults|grammar|guided[_ ]?json|unsupported schema",
    re.IGNORECASE,
)
_RESPONSE_FORMAT_REJECTED = re.compile(r"response_format|json_object|json mode", re.IGNORECASE)
#: ``stream`` or ``stream_options`` named as the parameter refused: "Unrecognized request argument supplied:
#: stream_options" (Azure), "stream is not supported", pydantic's "['body', 'stream_options'] ... Extra inputs".
#: Not the word anywhere: "unexpected end of stream" is a broken connection, not a refusal.
_STREAM_REJECTED = re.compile(
    r"(?:unrecognized|unknown|unsupported|extra|invalid)\W+(?:\w+\W+){0,3}['\"`]?stream(?:_options)?\b"
    r"|\bstream(?:ing|_options)?['\"`]?\s+(?:is\s+|are\s+)?(?:not supported|unsupported|not permitted|not allowed)"
    r"|['\"`]stream(?:_options)?['\"`]\]?,?\s*['\"]msg['\"]:\s*['\"](?:extra|unexpected)",
    re.IGNORECASE,
)
_PARAM_REJECTED = re.compile(
    r"unsupported|not supported|unrecognized|unknown|unexpected|extra (?:inputs|fields)|not permitted|invalid",
    re.IGNORECASE,
)


def read_rejection(message: str, *, sent: Capabilities, status: int | None = None) -> Rejection | None:
    """What ``message`` (a server's error for a request sent as ``sent``, with HTTP ``status``) says the server does
    not take, or None when it names nothing Baton sent (then the error is an ordinary one: transient or not by its
    status).

    Limit parameters are read first: "Unsupported parameter: 'max_tokens' ... Use 'max_completion_tokens'"
    names both, and names the one rejected first. Streaming is read last, and only from a 4xx answer: a 5xx
    mentioning a stream is a server in trouble, worth the SDK's retries."""
    text = " ".join(message.split())
    limit = _rejected_limit(text, sent=sent.limit_param)
    if limit is not None:
        other: LimitParam = "max_completion_tokens" if limit == "max_tokens" else "max_tokens"
        return Rejection(limit, replace(sent, limit_param=other, learned=True), LIMIT_SETTING, other)
    if sent.structured == "json_schema" and _JSON_SCHEMA_REJECTED.search(text):
        return _step_down(sent)
    if (sent.structured != "text" and _RESPONSE_FORMAT_REJECTED.search(text)
            and (_PARAM_REJECTED.search(text) or "should be" in text.lower())):
        return _step_down(sent)
    if sent.stream and (status is None or 400 <= status < 500) and _STREAM_REJECTED.search(text):
        return broken_stream(sent)
    return None


def _rejected_limit(text: str, *, sent: LimitParam) -> LimitParam | None:
    """The limit parameter ``text`` rejects, if it is the one Baton sent (a message may mention the other as advice)."""
    at = text.find(sent)
    if at < 0 or not _PARAM_REJECTED.search(text):
        return None
    other = "max_completion_tokens" if sent == "max_tokens" else "max_tokens"
    other_at = text.find(other)
    # The advice ("use 'max_completion_tokens' instead") follows the rejected name, which therefore comes first.
    if other_at >= 0 and other_at < at:
        return None
    return sent


def broken_stream(sent: Capabilities) -> Rejection:
    """The server rejected ``stream``/``stream_options`` or ended a stream before the reply: ask without streaming."""
    return Rejection(STREAM, replace(sent, stream=False, learned=True), STREAM_SETTING, "off")


def _step_down(sent: Capabilities) -> Rejection:
    at = STRUCTURED_FORMS.index(sent.structured)
    weaker = STRUCTURED_FORMS[at + 1] if at + 1 < len(STRUCTURED_FORMS) else None
    if weaker is None:
        return Rejection(sent.structured, None, STRUCTURED_SETTING, None)
    return Rejection(sent.structured, replace(sent, structured=weaker, learned=True), STRUCTURED_SETTING, weaker)


def grammar_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """``schema`` without :data:`GRAMMAR_UNSAFE_KEYWORDS`, at any depth (property names are kept even when one is
    called like a keyword: only keyword positions are cleaned)."""
    return _clean(schema, in_properties=False)  # type: ignore[no-any-return]


def _clean(value: Any, *, in_properties: bool) -> Any:
    if isinstance(value, Mapping):
        cleaned: dict[str, Any] = {}
        for key, item in value.items():
            if not in_properties and key in GRAMMAR_UNSAFE_KEYWORDS:
                continue
            # Under "properties" (or "$defs") the keys are names, and each value is a schema again.
            cleaned[key] = _clean(
                item, in_properties=not in_properties and key in ("properties", "$defs", "definitions")
            )
        return cleaned
    if isinstance(value, list):
        return [_clean(item, in_properties=False) for item in value]
    return value


def request_options(
    caps: Capabilities, *, schema_name: str, schema: Mapping[str, Any], max_output_tokens: int
) -> dict[str, Any]:
    """The chat-completion arguments that ask for ``schema`` in the form ``caps`` says the server takes, with the
    output limit in the parameter it honours."""
    options: dict[str, Any] = {caps.limit_param: max_output_tokens}
    if caps.structured == "json_schema":
        options["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": schema_name, "schema": grammar_schema(schema), "strict": False},
        }
    elif caps.structured == "json_object":
        options["response_format"] = {"type": "json_object"}
    return options


#: Appended as a system message when the server does not take the schema itself (``json_object`` or ``text``):
#: the model must still see the shape (and OpenAI's JSON mode insists the word JSON appears in the messages).
SCHEMA_INSTRUCTION = "Reply with one JSON object, and nothing else, that matches this JSON Schema:\n{schema}"


def schema_instruction(caps: Capabilities, schema: Mapping[str, Any]) -> str | None:
    """The system message that carries ``schema`` when ``caps`` does not send it as structured output, else None."""
    if caps.structured == "json_schema":
        return None
    return SCHEMA_INSTRUCTION.format(schema=json.dumps(grammar_schema(schema), separators=(",", ":")))


def ignored_limit(*, limit: int, completion_tokens: int | None) -> bool:
    """Whether a reply of ``completion_tokens`` shows the server ignored an output limit of ``limit`` (a few tokens
    over are tolerated: some servers count the end-of-turn token)."""
    return completion_tokens is not None and completion_tokens > limit + 8


def output_limit(purpose: str, limits: Mapping[str, int], *, default: int) -> int:
    """The output-token limit of a call made for ``purpose`` (a repair shares its purpose's unless it has its own)."""
    if purpose in limits:
        return limits[purpose]
    return limits.get(purpose.removesuffix("_repair"), default)
