"""Prompt templates, rendered with jinja2 and ``StrictUndefined``.

Templates ship as package data next to this module (``prompts/*.j2``). A template may split itself
into chat messages with ``{% block system %}`` and ``{% block user %}``; one without blocks is a
single user message. Put stable text (instructions, the action catalogue) in ``system`` and the parts
that change per request in ``user``, so a provider's prompt caching can reuse the common prefix.

Text written by Slack users goes through the ``untrusted`` filter and inside an
``<untrusted_…>`` … ``</untrusted_…>`` pair; the filter neutralises anything inside that looks like
one of those delimiters, so data cannot close its own quotation and pose as instructions.

Every rendering carries the SHA-256 of its template's source, which the LLM call log records so a
plan can be traced to the exact prompt wording that produced it.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from jinja2 import Environment, PackageLoader, StrictUndefined, Template

from core.planning.catalogue_text import compact_entry

Role = Literal["system", "user"]

# Anything that could open or close one of our delimiters: "<untrusted", "</untrusted", "< / UNTRUSTED"...
_DELIMITER_LIKE = re.compile(r"<(\s*/?\s*)(untrusted)", re.IGNORECASE)


@dataclass(frozen=True)
class RenderedPrompt:
    """A rendered template: ``text`` is every message joined; ``messages`` keeps them apart by role."""

    name: str
    text: str
    sha256: str
    messages: tuple[tuple[Role, str], ...]

    def chat_messages(self) -> list[dict[str, str]]:
        """The messages in the shape chat-completion APIs take."""
        return [{"role": role, "content": content} for role, content in self.messages]


def neutralise(text: str) -> str:
    """``text`` with every delimiter look-alike defused (``<untrusted_x>`` becomes ``‹untrusted_x>``)."""
    return _DELIMITER_LIKE.sub(lambda m: "‹" + m.group(1) + m.group(2), text)


def _to_json(value: Any) -> str:
    # Sorted keys and fixed separators: the same catalogue always renders to the same bytes (cacheable).
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("prompts", ""),
        undefined=StrictUndefined,
        autoescape=False,  # plain text for a model, not HTML
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["untrusted"] = lambda value: neutralise(str(value))
    env.filters["to_json"] = _to_json
    env.filters["compact_action"] = compact_entry
    return env


@cache
def template_sha256(name: str) -> str:
    """SHA-256 (hex) of the template's source text."""
    env = _environment()
    assert env.loader is not None
    source, _, _ = env.loader.get_source(env, name)
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


def render(name: str, **variables: Any) -> RenderedPrompt:
    """Render template ``name`` (e.g. ``"plan_request.j2"``); a missing variable raises
    ``jinja2.UndefinedError``, an unknown template ``jinja2.TemplateNotFound``."""
    template = _environment().get_template(name)
    messages = _render_messages(template, variables)
    text = "\n\n".join(content for _, content in messages)
    return RenderedPrompt(name=name, text=text, sha256=template_sha256(name), messages=messages)


def _render_messages(template: Template, variables: dict[str, Any]) -> tuple[tuple[Role, str], ...]:
    roles: tuple[Role, ...] = ("system", "user")
    if not any(role in template.blocks for role in roles):
        return (("user", template.render(**variables).strip()),)
    context = template.new_context(variables)
    rendered = []
    for role in roles:
        if role in template.blocks:
            content = "".join(template.blocks[role](context)).strip()
            if content:
                rendered.append((role, content))
    return tuple(rendered)
