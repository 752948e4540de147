"""Plain data shared by every layer: where a request came from, drafted and reviewed plans, risk."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal


class Risk(StrEnum):
    """How much harm a step could do if it were wrong. Ordered: LOW < MEDIUM < HIGH."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return {"low": 0, "medium": 1, "high": 2}[self.value]

    @staticmethod
    def highest(risks: list[Risk] | tuple[Risk, ...]) -> Risk:
        return max(risks, key=lambda risk: risk.rank, default=Risk.LOW)


Source = Literal["mention", "dm", "command", "shortcut"]
Planner = Literal["llm", "rules", "alias"]


@dataclass(frozen=True)
class RequestOrigin:
    """Where a request was made and where Baton answers it (the same thread)."""

    team_id: str
    channel_id: str
    user_id: str
    thread_ts: str | None = None
    channel_type: str = "channel"  # "channel", "group", "im"
    #: The message the request was made in (memories sourced from it go when it is deleted).
    message_ts: str | None = None

    @property
    def is_dm(self) -> bool:
        return self.channel_type == "im"


@dataclass(frozen=True)
class StepDraft:
    """One step as a planner proposed it: not yet checked against a connector."""

    action: str
    args: Mapping[str, Any]
    description: str
    depends_on: tuple[int, ...] = ()


@dataclass(frozen=True)
class PlanDraft:
    """A plan as a planner proposed it."""

    title: str
    rationale: str
    steps: tuple[StepDraft, ...]
    planner: Planner


@dataclass(frozen=True)
class ReviewedStep:
    """A step after its connector validated the arguments and computed preview and risk."""

    index: int
    action: str
    args: Mapping[str, Any]
    description: str
    depends_on: tuple[int, ...]
    preview: str
    risk: Risk
    read_only: bool = False
    compensable: bool = False
    #: The connector's pin when planned (an MCP tool's definition hash), checked again before it runs.
    pin: str | None = None
    #: The operator's word on running without a click when low risk (an MCP tool's ``policy``); None: the
    #: built-in rule (read-only steps and the auto-run actions).
    auto_run: bool | None = None
    #: The connector is called at most once (an interrupted call is left to a person): the card says so.
    at_most_once: bool = False


@dataclass(frozen=True)
class ReviewedPlan:
    title: str
    rationale: str
    steps: tuple[ReviewedStep, ...]
    planner: Planner
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def risk(self) -> Risk:
        return Risk.highest([step.risk for step in self.steps])
