"""Why a model's plan that parsed but failed Baton's checks was not used, in words for the requester.

The problems :func:`workers.planning.make.review_draft` lists are written for the model (they say what to use
instead and how to fix it) and go only into the repair prompt. When the repaired plan still fails, the card
of the rules planner that stands in says why in one short clause built here from the draft itself: the
actions Baton does not have, the action whose details did not check out (and which fields), or the plan's
first broken rule, without the advice meant for the model.
"""

from __future__ import annotations

from pydantic import ValidationError

from connectors.base import ConnectorError
from connectors.registry import ConnectorRegistry
from core.types import PlanDraft, RequestOrigin
from slackui.limits import clip

#: At most this many names (actions, fields) in the reason.
MAX_NAMES = 3
NAME_MAX_CHARS = 40

UNKNOWN_ACTIONS = "it chose an action I do not have ({names})"
BAD_ARGS = "the details it gave for {action} were not valid ({fields})"
REFUSED_BY_ACTION = "{action} could not use the details it gave"
BROKEN_RULE = "it broke a rule for plans: {problem}"


def why_invalid(draft: PlanDraft, problems: list[str], *, registry: ConnectorRegistry, origin: RequestOrigin) -> str:
    """One clause naming the first kind of thing wrong with ``draft`` (``problems`` are its review's findings)."""
    unknown = [step.action for step in draft.steps if step.action not in registry.actions]
    if unknown:
        return UNKNOWN_ACTIONS.format(names=_names(unknown))
    for step in draft.steps:
        connector = registry.get(step.action)
        try:
            args = connector.parse(step.args)
        except ValidationError as err:
            fields = [".".join(str(part) for part in error["loc"]) or "arguments" for error in err.errors()]
            return BAD_ARGS.format(action=step.action, fields=_names(fields))
        try:
            connector.preview(args, origin=origin)
            connector.risk(args, origin=origin)
        except (ConnectorError, ValueError):
            return REFUSED_BY_ACTION.format(action=step.action)
    first = problems[0] if problems else "unknown problem"
    # The plan-level checks append their advice to the model after " (" or "; ": the rule itself comes first.
    for cut in (" (", "; "):
        first = first.split(cut, 1)[0]
    return BROKEN_RULE.format(problem=clip(first, 200))


def _names(names: list[str]) -> str:
    unique = list(dict.fromkeys(clip(name, NAME_MAX_CHARS) for name in names))
    shown = ", ".join(unique[:MAX_NAMES])
    return shown + (f" and {len(unique) - MAX_NAMES} more" if len(unique) > MAX_NAMES else "")
