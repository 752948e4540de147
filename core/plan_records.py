"""Plans and their steps as stored (``memory.plans`` reads and writes them; ``slackui`` renders them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from core.types import RequestOrigin, Risk

#: How a person settled a step whose outcome was unknown: it happened, run it again, or skip it.
Settlement = Literal["happened", "rerun", "skipped"]


@dataclass(frozen=True)
class StepWait:
    """A step an outage parked (``memory.parking``), while it waits: its next try, how many times it was parked,
    since when, and the error that parked it last."""

    retry_at: datetime
    parks: int
    since: datetime
    reason: str


@dataclass(frozen=True)
class StepRecord:
    plan_id: int
    idx: int
    action: str
    args: dict[str, Any]
    description: str
    depends_on: list[int]
    preview: str
    risk: str
    read_only: bool
    compensable: bool
    selected: bool
    status: str
    attempts: int
    lease_until: datetime | None
    result: dict[str, Any] | None
    error: str | None
    #: The tool definition's pin recorded when planned (MCP tools), or None.
    pin: str | None = None
    #: Its connector is called at most once (the card's badge).
    at_most_once: bool = False
    #: Times a person asked to run it again after its outcome was unknown (its idempotency key's round).
    rerun: int = 0
    #: The thread message asking a person to settle it (its outcome is unknown), once posted.
    asked_ts: str | None = None
    #: Who settled its unknown outcome, and how: "happened", "rerun" or "skipped" (the last decision).
    settled_by: str | None = None
    settled_as: str | None = None
    #: Set while the step is parked and waiting for its next try (not once a runner has taken it up again).
    parked: StepWait | None = None


@dataclass(frozen=True)
class PlanRecord:
    id: int
    request_id: int
    team_id: str
    channel_id: str
    channel_type: str
    thread_ts: str | None
    requester_id: str
    title: str
    rationale: str
    planner: str
    risk: str
    status: str
    card_channel: str | None
    card_ts: str | None
    expires_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None
    auto_approved: bool
    tokens_in: int
    tokens_out: int
    cost_usd: Decimal
    created_at: datetime
    message_ts: str | None = None
    kind: str = "request"  # "request", or "meeting" (follow-ups of a meeting; its card is the meeting card)
    #: Why the rules planner stood in for the model (None: the model planned it, or no reason was kept).
    degraded_reason: str | None = None
    #: False when a model without a known price answered some of its calls (``cost_usd`` is then a floor).
    cost_known: bool = True
    steps: tuple[StepRecord, ...] = field(default_factory=tuple)

    @property
    def origin(self) -> RequestOrigin:
        return RequestOrigin(
            self.team_id, self.channel_id, self.requester_id, self.thread_ts, self.channel_type, self.message_ts
        )

    @property
    def risk_level(self) -> Risk:
        return Risk(self.risk)


@dataclass(frozen=True)
class Decision:
    """Outcome of an approve/reject attempt."""

    applied: bool
    status: str
    decided_by: str | None
    auto: bool = False
