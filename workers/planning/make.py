"""From a Slack request to a reviewed plan, or an honest refusal.

The model drafts (``prompts/plan_request.j2``, JSON per ``registry.plan_json_schema()``), offered the whole
catalogue of actions while it fits ``defaults.PLANNER_CATALOGUE_TOKENS`` and the actions relevant to the request
past that (:mod:`core.planning.tool_relevance`); the draft
is checked for shape and sanity (:mod:`core.planning.checks`) and every step by its connector (known
action, arguments that parse, preview and risk). Anything wrong gets exactly one repair round-trip
(``prompts/repair_plan.j2``, quoting the problems and the previous reply). With no model configured, a
model that does not answer (in time: the client's deadline bounds the whole conversation), or a model
whose repaired reply still cannot be used (not JSON, not the plan's shape, or a plan that fails the
checks again), the rules planner (:mod:`core.planning.rules`) takes over and the outcome is marked
``degraded``, with that reason in words for people (:mod:`workers.planning.invalid_reason`).

Nothing written for the model (the repair prompt's problems, the prompt's delimiters) is shown to a
person: model-written text that reaches a reply goes through :func:`slackui.model_text.for_people`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, tzinfo
from typing import Any

from pydantic import ValidationError

from connectors.base import ConnectorError
from connectors.registry import ConnectorRegistry
from core import defaults
from core.context_budget import CHARS_PER_TOKEN, clip_text
from core.planning.checks import PlanShapeError, check_plan, parse_plan_json, refusal_problem, validation_problems
from core.planning.prompt_context import PlanningContext
from core.planning.rules import plan_by_rules
from core.planning.tool_relevance import select_actions
from core.pricing import TokenUsage
from core.types import PlanDraft, RequestOrigin, ReviewedPlan, ReviewedStep
from prompts import render
from slackui.limits import clip
from slackui.model_text import for_people
from slackui.replies import NO_MODEL_CONFIGURED
from workers.llm.client import Conversation, LLMClient, LLMReply, LLMUnavailable, why_without_model
from workers.planning.invalid_reason import why_invalid

log = logging.getLogger(__name__)

#: The request text the model sees is cut here (a paste longer than this is rarely a request).
REQUEST_PROMPT_MAX_CHARS = 4_000
#: How much of a bad reply the repair prompt quotes back, in estimated tokens.
PREVIOUS_REPLY_MAX_TOKENS = 1_500
#: How many problems the repair prompt lists, and how long each may be.
MAX_PROBLEMS = 20
PROBLEM_MAX_CHARS = 300
SCHEMA_NAME = "baton_plan"

# User-facing texts of this module (the refusal reason is posted in the requester's thread).
EMPTY_REQUEST = (
    "Tell me what you need: for example “post the release notes to #eng”, “remind me to call Ana at 3pm” "
    "or “create a task for @sam to update the docs by friday”."
)
NO_MODEL = (
    "I can't plan this without the model right now ({why}). On my own I only understand simple requests, "
    "such as “post <text> to #channel”, “remind me to … at 3pm”, “create a task for @someone to … by "
    "friday” or “remember that …”."
)
WHY_NOT_CONFIGURED = NO_MODEL_CONFIGURED
WHY_UNREADABLE = "the language model's reply could not be read as a plan, twice ({reason})"
WHY_INVALID = "the language model's plan was not valid, twice ({reason})"
REQUEST_CLIPPED = "Your request is {length:,} characters long; I planned from its first {limit:,}."
DEGRADED_NOTE = "Planned by simple rules, without the language model ({why})."
REPAIRED_NOTE = "The first draft of this plan had problems and was corrected once."

# Told to the model (not the user): the request was cut; the reply was not one JSON object.
CLIPPED_FOR_MODEL = (
    "The request was longer than {limit:,} characters and is cut where marked. Plan from what is shown; if the "
    "missing part is needed, set cannot_plan_reason."
)

NOT_JSON_FOR_MODEL = "your reply must be one JSON object and nothing else ({error})"
#: Why a reply that is not a plan's shape could not be read (said to the user, not the model).
NOT_PLAN_SHAPE = "its JSON did not have a plan's fields"
#: Why a refusal that is no sentence (or echoes the prompt) was not posted (said to the user, not the model).
UNUSABLE_REFUSAL = "its reason for not planning was not a sentence I could pass on"


@dataclass(frozen=True)
class _Unreadable:
    """A reply that cannot become a plan: ``problems`` for the repair prompt, ``reason`` for people, and ``why``
    the clause (with ``{reason}``) the rules planner's card gives when the repaired reply is no better."""

    problems: list[str]
    reason: str
    why: str = WHY_UNREADABLE


@dataclass(frozen=True)
class PlanOutcome:
    """Either a reviewed ``plan`` or a ``refusal`` (a user-facing reason), never both."""

    plan: ReviewedPlan | None = None
    refusal: str | None = None
    #: True when the rules planner stood in for the model, and why (for the card).
    degraded: bool = False
    degraded_reason: str | None = None
    notes: tuple[str, ...] = ()
    llm_usage: TokenUsage = field(default_factory=TokenUsage)


def make_plan(
    *,
    request_text: str,
    context: PlanningContext,
    origin: RequestOrigin,
    registry: ConnectorRegistry,
    llm: LLMClient | None,
    now: datetime,
    tz: tzinfo,
    request_id: int | None = None,
    catalogue_tokens: int = defaults.PLANNER_CATALOGUE_TOKENS,
) -> PlanOutcome:
    """Plan ``request_text``; see the module docstring for the path it takes.

    ``now`` is timezone-aware; ``tz`` is the requester's time zone, in which dates in the request are read.
    ``request_id`` only labels the LLM call log. ``catalogue_tokens`` bounds the actions offered to the model.
    """
    text = request_text.strip()
    if not text:
        return PlanOutcome(refusal=EMPTY_REQUEST)
    if llm is None:
        return _by_rules(text, origin=origin, registry=registry, now=now, tz=tz, why=WHY_NOT_CONFIGURED)
    planning = _LLMPlanning(llm, context=context, origin=origin, registry=registry, request_id=request_id,
                            catalogue_tokens=catalogue_tokens)
    return planning.run(text, now=now, tz=tz)


class _LLMPlanning:
    """One request's conversation with the model: a draft, at most one repair, usage summed up."""

    def __init__(
        self,
        llm: LLMClient,
        *,
        context: PlanningContext,
        origin: RequestOrigin,
        registry: ConnectorRegistry,
        request_id: int | None,
        catalogue_tokens: int,
    ) -> None:
        self.llm = llm
        self.context = context
        self.origin = origin
        self.registry = registry
        self.request_id = request_id
        self.usage = TokenUsage()
        self.notes: list[str] = []
        self.catalogue_tokens = catalogue_tokens
        #: The actions offered to the model (set when the prompt is made; None: all of them).
        self.offered: list[str] | None = None

    def run(self, text: str, *, now: datetime, tz: tzinfo) -> PlanOutcome:
        prompt = render("plan_request.j2", **self._variables(text, now=now, tz=tz))
        try:
            reply = self._ask("plan", prompt)
            verdict = self._review(reply)
            if isinstance(verdict, _Unreadable):
                repair = render(
                    "repair_plan.j2",
                    problems=_limit_problems(verdict.problems),
                    previous_reply=clip_text(reply.raw, PREVIOUS_REPLY_MAX_TOKENS),
                )
                reply = self._ask("plan_repair", Conversation.from_prompts(prompt, repair))
                verdict = self._review(reply)
                if isinstance(verdict, ReviewedPlan):
                    self.notes.append(REPAIRED_NOTE)
        except LLMUnavailable as err:
            why = why_without_model(err, model=self.llm.model)
            log.warning("planning falls back to the rules planner: %s", why)
            return self._by_rules(text, now=now, tz=tz, why=why)
        if isinstance(verdict, _Unreadable):
            log.warning("the repaired plan from %s is still unusable, falling back to rules: %s", self.llm.model,
                        verdict.reason)
            return self._by_rules(text, now=now, tz=tz, why=verdict.why.format(reason=verdict.reason))
        notes = tuple(self.notes)
        if isinstance(verdict, ReviewedPlan):
            return PlanOutcome(plan=replace(verdict, notes=notes), notes=notes, llm_usage=self.usage)
        return PlanOutcome(refusal=verdict, notes=notes, llm_usage=self.usage)

    def _by_rules(self, text: str, *, now: datetime, tz: tzinfo, why: str) -> PlanOutcome:
        return _by_rules(text, origin=self.origin, registry=self.registry, now=now, tz=tz,
                         why=_user_safe(why), usage=self.usage, notes=tuple(self.notes))

    def _variables(self, text: str, *, now: datetime, tz: tzinfo) -> dict[str, Any]:
        model_notes = []
        if len(text) > REQUEST_PROMPT_MAX_CHARS:
            self.notes.append(REQUEST_CLIPPED.format(length=len(text), limit=REQUEST_PROMPT_MAX_CHARS))
            model_notes.append(CLIPPED_FOR_MODEL.format(limit=REQUEST_PROMPT_MAX_CHARS))
            text = clip_text(text, REQUEST_PROMPT_MAX_CHARS // CHARS_PER_TOKEN)
        context = self.context
        entries = select_actions(list(context.catalogue) or self.registry.catalogue(), request=text,
                                 thread=" ".join(message.text for message in context.thread),
                                 budget_tokens=self.catalogue_tokens)
        self.offered = [str(entry["action"]) for entry in entries]
        return {
            **_split_catalogue(entries),
            "requester_id": context.requester_id,
            "requester_name": context.requester_name,
            "channel_id": context.channel_id,
            "channel_name": context.channel_name,
            "channel_purpose": context.channel_purpose,
            "is_dm": self.origin.is_dm,
            "thread": list(context.thread),
            "memory": list(context.memory),
            "mentioned": list(context.mentioned),
            "request": text,
            "now": now.astimezone(tz).isoformat(timespec="seconds"),
            "timezone": str(tz),
            "notes": model_notes,
        }

    def _ask(self, purpose: str, prompt: Any) -> LLMReply:
        reply = self.llm.complete_json(
            purpose=purpose,
            prompt=prompt,
            schema_name=SCHEMA_NAME,
            schema=self.registry.plan_json_schema(self.offered),
            team_id=self.origin.team_id,
            request_id=self.request_id,
        )
        self.usage += reply.usage
        return reply

    def _review(self, reply: LLMReply) -> ReviewedPlan | str | _Unreadable:
        """A reviewed plan, the model's own refusal reason, or a reply that cannot become a plan (to repair)."""
        if reply.data is None:
            problem = NOT_JSON_FOR_MODEL.format(error=reply.error or "not JSON")
            return _Unreadable([problem], reason=reply.error_for_people or "not JSON")
        try:
            parsed = parse_plan_json(reply.data)
        except PlanShapeError as err:
            return _Unreadable(err.problems, reason=NOT_PLAN_SHAPE)
        if parsed.cannot_plan_reason and parsed.cannot_plan_reason.strip():
            unusable = refusal_problem(parsed.cannot_plan_reason)
            if unusable is not None:
                return _Unreadable([unusable], reason=UNUSABLE_REFUSAL)
            return _user_safe(parsed.cannot_plan_reason.strip())
        draft = parsed.to_draft("llm")
        reviewed = review_draft(draft, registry=self.registry, origin=self.origin)
        if isinstance(reviewed, list):
            reason = why_invalid(draft, reviewed, registry=self.registry, origin=self.origin)
            return _Unreadable(reviewed, reason=reason, why=WHY_INVALID)
        return reviewed


def _split_catalogue(entries: Sequence[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    """Baton's own actions (``catalogue``) apart from MCP tools (``tools``), whose text the prompt quotes as
    untrusted data."""
    return {
        "catalogue": [entry for entry in entries if "source" not in entry],
        "tools": [entry for entry in entries if "source" in entry],
    }


def review_draft(draft: PlanDraft, *, registry: ConnectorRegistry, origin: RequestOrigin) -> ReviewedPlan | list[str]:
    """Check ``draft`` and have each step's connector parse its arguments and compute preview and risk.

    Returns the reviewed plan, or every problem found (plan-level first, then per step).
    """
    problems = check_plan(draft)
    steps: list[ReviewedStep] = []
    for index, step in enumerate(draft.steps):
        where = f"steps[{index}]"
        if step.action not in registry.actions:
            problems.append(
                f"{where}.action {clip(step.action, 60)!r} is not an available action; use one of: "
                + ", ".join(registry.actions)
            )
            continue
        connector = registry.get(step.action)
        try:
            args = connector.parse(step.args)
        except ValidationError as err:
            problems.extend(f"{line} ({step.action})" for line in validation_problems(err, prefix=f"{where}.args"))
            continue
        try:
            preview = connector.preview(args, origin=origin)
            risk = connector.risk(args, origin=origin)
        except (ConnectorError, ValueError) as err:
            problems.append(f"{where} ({step.action}): {err}")
            continue
        steps.append(
            ReviewedStep(
                index=index,
                action=step.action,
                args=args.model_dump(mode="json"),
                description=step.description,
                depends_on=step.depends_on,
                preview=preview,
                risk=risk,
                read_only=connector.read_only,
                compensable=connector.compensable,
                pin=connector.pin,
                auto_run=connector.auto_run,
                at_most_once=connector.idempotency == "at_most_once",
            )
        )
    if problems:
        return problems
    return ReviewedPlan(title=draft.title, rationale=draft.rationale, steps=tuple(steps), planner=draft.planner)


def _by_rules(
    text: str,
    *,
    origin: RequestOrigin,
    registry: ConnectorRegistry,
    now: datetime,
    tz: tzinfo,
    why: str,
    usage: TokenUsage | None = None,
    notes: tuple[str, ...] = (),
) -> PlanOutcome:
    usage = usage or TokenUsage()
    draft = plan_by_rules(text, origin=origin, now=now, tz=tz)
    if draft is None:
        return PlanOutcome(refusal=NO_MODEL.format(why=why), degraded=True, notes=notes, llm_usage=usage)
    reviewed = review_draft(draft, registry=registry, origin=origin)
    if isinstance(reviewed, list):
        reason = f"{why}; my simple reading of it does not work: {_summary(reviewed)}"
        return PlanOutcome(refusal=NO_MODEL.format(why=reason), degraded=True, notes=notes, llm_usage=usage)
    notes = (*notes, DEGRADED_NOTE.format(why=why))
    return PlanOutcome(plan=replace(reviewed, notes=notes), degraded=True, degraded_reason=why, notes=notes,
                       llm_usage=usage)


def _limit_problems(problems: list[str]) -> list[str]:
    shown = [clip(problem, PROBLEM_MAX_CHARS) for problem in problems[:MAX_PROBLEMS]]
    if len(problems) > MAX_PROBLEMS:
        shown.append(f"… and {len(problems) - MAX_PROBLEMS} more problems")
    return shown


def _summary(problems: list[str]) -> str:
    first = clip(problems[0], PROBLEM_MAX_CHARS) if problems else "unknown problem"
    more = len(problems) - 1
    return first + (f" (and {more} more problem{'s' if more > 1 else ''})" if more > 0 else "")


def _user_safe(text: str) -> str:
    """Model-written text for a Slack reply: clipped, unable to ping a whole channel, no prompt delimiters."""
    return for_people(text, limit=500)


