"""Shape and sanity checks on a drafted plan, before any connector looks at its arguments.

Two layers: :func:`parse_plan_json` turns the planner's JSON into a :class:`PlanJSON` (pydantic,
unknown fields rejected) or raises :class:`PlanShapeError`; :func:`check_plan` then lists what is
wrong with a well-shaped draft (too many steps, bad dependencies, over-long texts, huge arguments)
as human-readable problems, which are fed back to the model for one repair.

Exceptions::

    PlanShapeError (ValueError)   the JSON is not a plan at all: missing or mistyped fields
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.types import PlanDraft, Planner, StepDraft

MAX_STEPS = 10
MAX_TITLE_CHARS = 150
MAX_RATIONALE_CHARS = 1000
MAX_DESCRIPTION_CHARS = 300
#: Per step, the size of the arguments as compact JSON: a guard against pasting whole files into a plan.
MAX_ARGS_BYTES = 8 * 1024


class PlanShapeError(ValueError):
    """The planner's reply is not shaped like a plan; ``problems`` lists each wrong field."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("the reply is not a valid plan: " + "; ".join(problems))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StepJSON(_Strict):
    """One step as the planner writes it."""

    action: str
    args: dict[str, Any]
    description: str
    depends_on: list[int] = Field(default_factory=list)


class PlanJSON(_Strict):
    """A plan as the planner writes it (see ``ConnectorRegistry.plan_json_schema``)."""

    title: str
    rationale: str
    steps: list[StepJSON] = Field(default_factory=list)
    cannot_plan_reason: str | None = None

    def to_draft(self, planner: Planner) -> PlanDraft:
        """The draft this JSON describes (texts stripped of surrounding whitespace)."""
        return PlanDraft(
            title=self.title.strip(),
            rationale=self.rationale.strip(),
            steps=tuple(
                StepDraft(
                    action=step.action.strip(),
                    args=step.args,
                    description=step.description.strip(),
                    depends_on=tuple(step.depends_on),
                )
                for step in self.steps
            ),
            planner=planner,
        )


def parse_plan_json(data: Any) -> PlanJSON:
    """Validate the planner's decoded JSON; raises :class:`PlanShapeError` naming each bad field."""
    if not isinstance(data, Mapping):
        raise PlanShapeError([f"expected a JSON object, got {_json_type(data)}"])
    try:
        return PlanJSON.model_validate(dict(data))
    except ValidationError as err:
        raise PlanShapeError(validation_problems(err)) from None


def plan_draft_from_json(data: Any, planner: Planner) -> PlanDraft:
    """Shortcut for ``parse_plan_json(data).to_draft(planner)``."""
    return parse_plan_json(data).to_draft(planner)


def validation_problems(err: ValidationError, *, prefix: str = "") -> list[str]:
    """One line per pydantic error, ``location: message``, without echoing the offending values."""
    problems = []
    for error in err.errors(include_url=False, include_input=False):
        location = _location(error["loc"])
        where = f"{prefix}.{location}" if prefix and location else prefix or location or "(top level)"
        problems.append(f"{where}: {error['msg']}")
    return problems


def check_plan(draft: PlanDraft, *, refused: bool = False) -> list[str]:
    """Everything wrong with ``draft``, one human-readable line each; empty when it is fine.

    ``refused`` is true when the planner declined the request, in which case no steps is correct.
    Step numbers are 0-based, as in ``depends_on``.
    """
    problems: list[str] = []
    if not draft.title:
        problems.append("title is empty")
    elif len(draft.title) > MAX_TITLE_CHARS:
        problems.append(f"title is {len(draft.title)} characters; the limit is {MAX_TITLE_CHARS}")
    if len(draft.rationale) > MAX_RATIONALE_CHARS:
        problems.append(f"rationale is {len(draft.rationale)} characters; the limit is {MAX_RATIONALE_CHARS}")
    if not draft.steps and not refused:
        problems.append("the plan has no steps (set cannot_plan_reason if the request cannot be done)")
    if len(draft.steps) > MAX_STEPS:
        problems.append(f"the plan has {len(draft.steps)} steps; the limit is {MAX_STEPS}")
    for index, step in enumerate(draft.steps):
        problems.extend(_check_step(index, step))
    return problems


def _check_step(index: int, step: StepDraft) -> list[str]:
    where = f"steps[{index}]"
    problems: list[str] = []
    if not step.description:
        problems.append(f"{where}.description is empty")
    elif len(step.description) > MAX_DESCRIPTION_CHARS:
        problems.append(
            f"{where}.description is {len(step.description)} characters; the limit is {MAX_DESCRIPTION_CHARS}"
        )
    for dependency in step.depends_on:
        if dependency == index:
            problems.append(f"{where}.depends_on lists the step itself")
        elif dependency > index:
            problems.append(f"{where}.depends_on refers to step {dependency}, which comes later")
        elif dependency < 0:
            problems.append(f"{where}.depends_on has a negative step number ({dependency})")
    if len(set(step.depends_on)) != len(step.depends_on):
        problems.append(f"{where}.depends_on lists a step twice")
    size = args_size_bytes(step.args)
    if size > MAX_ARGS_BYTES:
        problems.append(
            f"{where}.args are {size} bytes of JSON; the limit is {MAX_ARGS_BYTES} (huge argument values "
            "are not allowed: summarise, or link to the content instead)"
        )
    return problems


def args_size_bytes(args: Mapping[str, Any]) -> int:
    """Size of ``args`` as compact UTF-8 JSON (values JSON cannot express are counted by their text)."""
    text = json.dumps(args, separators=(",", ":"), ensure_ascii=False, default=str)
    return len(text.encode("utf-8"))


#: A refusal needs at least this many words to be an explanation a person can act on ("Just looking." is one).
REFUSAL_MIN_WORDS = 2
#: What small models put in a field they have nothing for.
_PLACEHOLDERS = frozenset({"null", "none", "n/a", "na", "string", "cannot_plan_reason", "reason", "undefined", "tbd"})
_WORD = re.compile(r"[^\W\d_]{2,}")
#: Baton's prompt delimiters (as written, or defused as ``‹untrusted_…>``): never part of a reason.
_DELIMITER = re.compile(r"[<‹]\s*/?\s*untrusted[a-z0-9_]*\s*>", re.IGNORECASE)


def refusal_problem(reason: str) -> str | None:
    """Why a model's ``cannot_plan_reason`` is not a refusal to show a person (then it is repaired like any invalid
    reply), or None when it reads as one: a placeholder, fewer than :data:`REFUSAL_MIN_WORDS` words, code or markup,
    or an echo of the prompt's delimiters."""
    text = reason.strip()
    if _DELIMITER.search(text):
        return ("cannot_plan_reason repeats the prompt's untrusted-text delimiters: write the reason in your own "
                "words for the requester")
    if text.lower().strip(" .") in _PLACEHOLDERS or len(_WORD.findall(text)) < REFUSAL_MIN_WORDS:
        return (f"cannot_plan_reason {text[:60]!r} is not a sentence: write one or two sentences telling the "
                "requester what is missing, or plan the request and leave it null")
    if text[:1] in "{[<" or text.startswith("```"):
        return "cannot_plan_reason looks like code or markup: write plain sentences for the requester"
    return None


def _location(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    return type(value).__name__
