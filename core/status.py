"""What an operator's status answer is made of: queue depths, backlogs and spend (``/baton status``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class Backlog:
    """How many things wait, and since when the oldest does (None when nothing waits)."""

    count: int
    oldest: datetime | None


@dataclass(frozen=True)
class ModelSpend:
    """Model calls in a window: the USD they cost and how many of them had no known price (counted as 0)."""

    cost_usd: Decimal
    calls: int
    unknown_cost: int


@dataclass(frozen=True)
class PendingPlan:
    """A plan waiting for a decision, with the message its card is (the meeting card for follow-ups)."""

    id: int
    channel_id: str
    title: str
    risk: str
    requester_id: str
    kind: str
    created_at: datetime
    expires_at: datetime
    card_channel: str | None
    card_ts: str | None


@dataclass(frozen=True)
class QueueDepth:
    """One queue: jobs waiting, running, scheduled (retries waiting their turn) and failed."""

    name: str
    queued: int
    running: int
    scheduled: int
    failed: int


@dataclass(frozen=True)
class QueueReport:
    """Every queue's depth, or why Redis could not be asked (``error``; ``depths`` is then empty)."""

    depths: tuple[QueueDepth, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class ModelFailure:
    """The newest failed model call: when, on which model, for what, and the reason recorded for it."""

    at: datetime
    model: str
    purpose: str
    error: str


@dataclass(frozen=True)
class ModelHealth:
    """The configured chat model (None: none, degraded mode) and how its server answered lately."""

    model: str | None
    last_ok: datetime | None = None
    last_failure: ModelFailure | None = None


# -- status ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StatusFacts:
    """Everything ``status`` shows, gathered at ``now``."""

    now: datetime
    queues: QueueReport
    approvals: Backlog
    stuck: Backlog
    workspace_spend: ModelSpend
    channel_id: str | None = None
    channel_spend: ModelSpend | None = None
    model: ModelHealth | None = None
    #: MCP servers whose last listing failed, with why (their tools are absent).
    mcp_unavailable: tuple[tuple[str, str], ...] = ()
    #: Steps whose outcome is unknown, waiting for a person to settle them in their plan's thread.
    unsettled_steps: int = 0
