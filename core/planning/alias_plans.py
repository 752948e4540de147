"""One-step plans from an operator's alias or a ``/baton run`` line, made without the model.

The draft still goes through the same review as any plan (the connector parses the arguments, computes the
preview and the risk), then the same policy, approval and execution. Here: which alias matches, the arguments
it makes, and the problems a person can act on (an action that is not available, an argument it does not
take), said in their words rather than the model's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.aliases import RunLine, coerce_args, match, match_as_written, render_args, unknown_keys
from core.mcp_config import AliasConfig
from core.types import PlanDraft, StepDraft

#: Plan rationales (shown on the card).
ALIAS_RATIONALE = "Matched the alias “{pattern}”: planned by that rule, without the language model."
RUN_RATIONALE = "Asked for directly with `/baton run`: planned without the language model."
#: Problems, told to the requester.
NOT_AVAILABLE = "`{action}` is not an action I can use here{hint}"
UNKNOWN_ARGUMENT = "`{action}` takes no argument `{key}`; it takes: {known}"
#: How many action names a "not available" answer suggests.
SUGGESTIONS = 8


@dataclass(frozen=True)
class AliasMatch:
    """The first alias whose pattern matches a request, what its fields captured (Slack references as ids), and
    the same as written (for the card's description)."""

    alias: AliasConfig
    fields: Mapping[str, str]
    written: Mapping[str, str]


def find_alias(aliases: Iterable[AliasConfig], text: str) -> AliasMatch | None:
    """The first alias (in file order) whose pattern matches ``text``, or None (the planner takes it)."""
    for alias in aliases:
        fields = match(alias.parsed, text)
        if fields is not None:
            return AliasMatch(alias, fields, match_as_written(alias.parsed, text) or fields)
    return None


def alias_draft(found: AliasMatch, *, schemas: Mapping[str, Mapping[str, Any]]) -> PlanDraft | list[str]:
    """The one-step draft ``found`` makes, or the problems; ``schemas`` are the available actions' argument
    schemas by name (a denied or unavailable action is not among them)."""
    alias = found.alias
    args = render_args(alias.args, found.fields)
    description = render_args(alias.description, found.written) if alias.description else _default(alias.action)
    return _draft(
        alias.action,
        args,
        schemas=schemas,
        title=description,
        description=description,
        rationale=ALIAS_RATIONALE.format(pattern=alias.pattern),
    )


def run_draft(line: RunLine, *, schemas: Mapping[str, Mapping[str, Any]]) -> PlanDraft | list[str]:
    """The one-step draft of a ``/baton run`` line, or the problems."""
    description = _default(line.action)
    return _draft(
        line.action, line.args, schemas=schemas, title=description, description=description, rationale=RUN_RATIONALE
    )


def _draft(
    action: str,
    args: Mapping[str, Any],
    *,
    schemas: Mapping[str, Mapping[str, Any]],
    title: str,
    description: str,
    rationale: str,
) -> PlanDraft | list[str]:
    schema = schemas.get(action)
    if schema is None:
        return [NOT_AVAILABLE.format(action=action, hint=_hint(action, sorted(schemas)))]
    unknown = unknown_keys(args, schema)
    if unknown:
        known = ", ".join(f"`{name}`" for name in schema.get("properties", {})) or "none"
        return [UNKNOWN_ARGUMENT.format(action=action, key=key, known=known) for key in unknown]
    step = StepDraft(action=action, args=coerce_args(args, schema), description=description[:300])
    return PlanDraft(title=title[:150], rationale=rationale, steps=(step,), planner="alias")


def _default(action: str) -> str:
    return f"Run {action}"


def _hint(action: str, available: Sequence[str]) -> str:
    """Actions of the same server (or family) first, as a suggestion."""
    prefix = action.split(".", 1)[0] + "."
    near = [name for name in available if name.startswith(prefix)] or list(available)
    if not near:
        return "."
    more = "…" if len(near) > SUGGESTIONS else ""
    return " (try " + ", ".join(f"`{name}`" for name in near[:SUGGESTIONS]) + more + ")."
