"""A model's answer as Baton reads it: the JSON object it carries, or why it carries none."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from core.json_stream import first_object
from core.pricing import TokenUsage


@dataclass(frozen=True)
class LLMReply:
    """A completion: ``data`` is the content parsed as a JSON object, or ``None`` if it was not one."""

    data: dict[str, Any] | None
    raw: str
    usage: TokenUsage
    latency_ms: int
    model: str
    finish_reason: str | None = None
    error: str | None = None  # why ``data`` is None
    cache_hit: bool = False

    @property
    def cost_usd(self) -> Decimal:
        return self.usage.cost_usd

    @property
    def error_for_people(self) -> str | None:
        """``error`` fit for a Slack message: a refusal's own words may quote the prompt, so only that it refused."""
        if self.error is not None and self.error.startswith(MODEL_REFUSED):
            return MODEL_REFUSED
        return self.error


def parse_json_object(text: str) -> dict[str, Any] | None:
    """``text`` decoded as a JSON object, else ``None``: a surrounding Markdown code fence is tolerated, and so are
    words before or after the object (then the first object that parses is taken)."""
    body = text.strip()
    if body.startswith("```"):
        body = body.removeprefix("```json").removeprefix("```").removesuffix("```").strip()
    try:
        value = json.loads(body)
    except ValueError:
        # An object with words around it (small models in plain-text mode): the same object a streamed reply is
        # stopped after (core.json_stream), so a reply reads alike streamed or whole.
        return first_object(text)
    return value if isinstance(value, dict) else None


#: How :attr:`LLMReply.error` starts when the model refused; the model's own words follow (not for people).
MODEL_REFUSED = "the model refused"


def why_not_json(raw: str, *, refusal: str | None, finish_reason: str | None, broken_off: bool = False) -> str:
    """Why a reply's content ``raw`` gave no JSON object (for :attr:`LLMReply.error`); ``broken_off``: the server
    ended its stream before the reply was whole."""
    if refusal:
        return f"{MODEL_REFUSED}: {refusal[:200]}"
    if broken_off:
        return "the model server ended the streamed reply before it was whole"
    if finish_reason == "length":
        return "the reply was cut off at the output token limit"
    if not raw.strip():
        return "the reply was empty"
    return "the reply was not a JSON object"
