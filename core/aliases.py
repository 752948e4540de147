"""Chat aliases and ``/baton run``: requests planned by a fixed rule, never by the model.

An operator's alias maps a pattern to one action and its arguments::

    {"pattern": "create branch {name} in {repo}", "action": "git.git_create_branch",
     "args": {"repo_path": "/srv/git/{repo}", "branch_name": "{name}"}}

A pattern is words and fields. A literal word matches the same word in the request, whatever its case; a
field ``{name}`` takes one word, or a whole ``"quoted phrase"`` (straight or Slack's curly quotes); the last
field may be greedy, ``{text...}``, and takes the rest of the request as written. The first part is always a
literal word, so an alias never swallows every request. A Slack reference a field captures (``<#C123|ops>``,
``<@U123>``) becomes its bare id, so ``{channel}`` can be a ``slack.post_message`` channel.

``args`` values are JSON; in a string, ``{field}`` is replaced by the captured text, and a string that is
exactly one field is the captured value itself (turned into the action's type later, see :func:`coerce`).

``/baton run <action> key=value ...`` takes the same quoting (``text="two words"``).

Pure: the caller passes the request text and the action's argument schema.

Exceptions::

    AliasError (ValueError)    a pattern or an alias definition that cannot be used (config time)
    RunSyntaxError (ValueError)  a ``/baton run`` line that cannot be read
"""

from __future__ import annotations

import contextlib
import html
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: Opening quote -> the closing quotes it accepts (Slack turns typed quotes into curly ones on some clients).
_QUOTES = {'"': '"”', "“": '”"', "”": '”"'}
_FIELD = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)(\.\.\.)?\}$")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_SLACK_REFERENCE = re.compile(r"^<([#@])([CGDUW][A-Z0-9]+)(?:\|[^>]*)?>$")
_LEADING_MENTIONS = re.compile(r"^(?:<@[UW][A-Z0-9]+(?:\|[^>]*)?>[\s,:]*)+")
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


class AliasError(ValueError):
    """An alias that cannot be used; ``str(err)`` says what is wrong with it (the caller names the file)."""


class RunSyntaxError(ValueError):
    """A ``/baton run`` line that cannot be read; ``str(err)`` is fit for the user."""


@dataclass(frozen=True)
class Token:
    """One word of a request: its text (quotes removed), whether any of it was quoted, where it starts."""

    text: str
    quoted: bool
    start: int


def tokenize(text: str) -> list[Token]:
    """Split on whitespace; a double-quoted part (``"…"`` or ``“…”``) keeps its spaces and may sit inside a
    word (``text="a b"``); a backslash before a quote inside quotes keeps the quote. An unclosed quote
    raises :class:`RunSyntaxError`."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        start, parts, quoted = i, [], False
        while i < n and not text[i].isspace():
            char = text[i]
            if char in _QUOTES:
                closers, i = _QUOTES[char], i + 1
                while i < n and text[i] not in closers:
                    if text[i] == "\\" and i + 1 < n and text[i + 1] in '"“”\\':
                        i += 1
                    parts.append(text[i])
                    i += 1
                if i >= n:
                    raise RunSyntaxError(f"a quote opened at character {start + 1} is never closed")
                quoted, i = True, i + 1
            else:
                parts.append(char)
                i += 1
        tokens.append(Token("".join(parts), quoted, start))
    return tokens


@dataclass(frozen=True)
class Part:
    """A word of a pattern: literal text, or a field (``greedy``: the rest of the request)."""

    text: str
    field: bool = False
    greedy: bool = False


@dataclass(frozen=True)
class Pattern:
    """A parsed alias pattern."""

    source: str
    parts: tuple[Part, ...]

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(part.text for part in self.parts if part.field)


def parse_pattern(source: str) -> Pattern:
    """Read a pattern such as ``create branch {name} in {repo}``; raises :class:`AliasError`."""
    words = source.split()
    if not words:
        raise AliasError("the pattern is empty")
    parts: list[Part] = []
    for position, word in enumerate(words):
        match = _FIELD.match(word)
        if match:
            name, greedy = match.group(1), bool(match.group(2))
            if name in (part.text for part in parts if part.field):
                raise AliasError(f"the pattern uses {{{name}}} twice")
            if greedy and position != len(words) - 1:
                raise AliasError(f"{{{name}...}} takes the rest of the request, so it must come last")
            parts.append(Part(name, field=True, greedy=greedy))
        elif "{" in word or "}" in word:
            raise AliasError(f"{word!r} is neither a word nor a whole field like {{name}}")
        elif any(char in _QUOTES for char in word):
            raise AliasError(f"{word!r}: a pattern's words cannot contain quotes")
        else:
            parts.append(Part(word.casefold()))
    if parts[0].field:
        raise AliasError("a pattern must start with a word, not a field (it would match every request)")
    return Pattern(source=" ".join(words), parts=tuple(parts))


def request_words(text: str) -> str:
    """The request as an alias reads it: without the leading ``@Baton`` mention(s) and outer spaces."""
    return _LEADING_MENTIONS.sub("", text.strip()).strip()


def match(pattern: Pattern, text: str) -> dict[str, str] | None:
    """The captured fields when ``text`` (a request, leading mentions removed) matches ``pattern``, else None.

    Text whose quotes do not close matches nothing (it falls through to the planner)."""
    raw = match_as_written(pattern, text)
    return None if raw is None else {name: _value(value) for name, value in raw.items()}


def match_as_written(pattern: Pattern, text: str) -> dict[str, str] | None:
    """Like :func:`match`, but each field as the person wrote it (quotes removed, references and escapes kept):
    what a card shows, where ``<@U123>`` is a name rather than an id."""
    text = request_words(text)
    try:
        tokens = tokenize(text)
    except RunSyntaxError:
        return None
    captured: dict[str, str] = {}
    for index, part in enumerate(pattern.parts):
        if index >= len(tokens):
            return None
        token = tokens[index]
        if part.greedy:
            single = index == len(tokens) - 1 and token.quoted
            captured[part.text] = token.text if single else text[token.start :].strip()
            return captured
        if part.field:
            captured[part.text] = token.text
        elif token.quoted or token.text.casefold() != part.text:
            return None
    return captured if len(tokens) == len(pattern.parts) else None


def _value(text: str) -> str:
    """A captured value: a Slack reference becomes its id; Slack's HTML escapes are undone."""
    reference = _SLACK_REFERENCE.match(text)
    if reference:
        return reference.group(2)
    return html.unescape(text) if "&" in text else text


def template_fields(template: Any) -> set[str]:
    """Every ``{field}`` an argument template uses (at any depth)."""
    if isinstance(template, str):
        return set(_PLACEHOLDER.findall(template))
    if isinstance(template, Mapping):
        return set().union(*(template_fields(value) for value in template.values()))
    if isinstance(template, list):
        return set().union(*(template_fields(value) for value in template))
    return set()


def render_args(template: Any, fields: Mapping[str, str]) -> Any:
    """``template`` with each ``{field}`` replaced (a string that is one whole field becomes the value itself)."""
    if isinstance(template, str):
        whole = _PLACEHOLDER.fullmatch(template)
        if whole and whole.group(1) in fields:
            return fields[whole.group(1)]
        return _PLACEHOLDER.sub(lambda m: fields.get(m.group(1), m.group(0)), template)
    if isinstance(template, Mapping):
        return {key: render_args(value, fields) for key, value in template.items()}
    if isinstance(template, list):
        return [render_args(value, fields) for value in template]
    return template


def check_alias(pattern: Pattern, args: Mapping[str, Any], description: str | None) -> None:
    """Raise :class:`AliasError` when ``args`` or ``description`` use a field the pattern lacks, or the pattern
    captures a field nothing uses."""
    used = template_fields(dict(args)) | template_fields(description or "")
    unknown = sorted(used - set(pattern.fields))
    if unknown:
        raise AliasError(f"{{{unknown[0]}}} is used but the pattern has no such field")
    unused = [name for name in pattern.fields if name not in used]
    if unused:
        raise AliasError(f"the pattern captures {{{unused[0]}}} but no argument uses it")


def coerce(value: Any, schema: Mapping[str, Any] | None) -> Any:
    """A typed-in string turned into what the argument's JSON schema asks for: a number, a boolean, a list or an
    object is read as JSON (a list also as comma-separated words); anything else stays as typed."""
    if not isinstance(value, str) or not isinstance(schema, Mapping):
        return value
    wanted = schema.get("type")
    types = set(wanted) if isinstance(wanted, list) else {wanted} if isinstance(wanted, str) else set()
    if not types or "string" in types:
        return value
    if "array" in types and not value.lstrip().startswith("["):
        return [item.strip() for item in value.split(",") if item.strip()]
    with contextlib.suppress(ValueError):
        return json.loads(value)
    if "boolean" in types and value.lower() in ("yes", "no", "on", "off"):
        return value.lower() in ("yes", "on")
    return value


def coerce_args(args: Mapping[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
    """Each argument coerced by its property's schema (see :func:`coerce`)."""
    properties = schema.get("properties")
    props: Mapping[str, Any] = properties if isinstance(properties, Mapping) else {}
    return {key: coerce(value, props.get(key)) for key, value in args.items()}


def unknown_keys(args: Mapping[str, Any], schema: Mapping[str, Any]) -> list[str]:
    """Argument names the schema does not list (none when the schema lists no properties, or allows extras)."""
    properties = schema.get("properties")
    extras_allowed = schema.get("additionalProperties") not in (None, False)
    if not isinstance(properties, Mapping) or not properties or extras_allowed:
        return []
    return [key for key in args if key not in properties]


@dataclass(frozen=True)
class RunLine:
    """``/baton run <action> key=value ...`` read: the action and its arguments as typed (strings)."""

    action: str
    args: dict[str, str]


def parse_run(text: str) -> RunLine:
    """Read the part after ``run``; raises :class:`RunSyntaxError` with a sentence for the user."""
    tokens = tokenize(request_words(text))
    if not tokens or tokens[0].quoted:
        raise RunSyntaxError("say which action to run: `/baton run <action> key=value …`")
    action, args = tokens[0].text, {}
    for token in tokens[1:]:
        key, equals, value = token.text.partition("=")
        if not equals or not _KEY.match(key):
            raise RunSyntaxError(f'`{token.text}` is not `key=value` (quote a value with spaces: key="a b")')
        if key in args:
            raise RunSyntaxError(f"`{key}` is given twice")
        args[key] = _value(value)
    return RunLine(action, args)
