"""Plain data for digests: what a digest is configured to be, and the facts it reports.

Facts are loaded from Postgres (``memory.digests``), selected and ordered in ``core.digest.select`` and
rendered by ``slackui.digest_views``; a model may only write the introduction from these facts, never add
to them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Literal

Schedule = Literal["daily", "weekdays"]
DigestKind = Literal["channel", "personal"]


@dataclass(frozen=True)
class DigestSetting:
    """One digest: a channel's (``target`` = channel id) or a person's by DM (``target`` = user id)."""

    team_id: str
    target: str
    kind: DigestKind
    schedule: Schedule
    local_time: time
    tz: str
    enabled: bool = True
    configured_by: str | None = None
    last_sent_at: datetime | None = None
    disabled_reason: str | None = None
    #: When it was last set up or changed: occurrences before that are not sent.
    configured_at: datetime | None = None


@dataclass(frozen=True)
class Occurrence:
    """A scheduled send: the local date it belongs to and the moment it was due."""

    local_date: date
    due_at: datetime


@dataclass(frozen=True)
class PlanFact:
    id: int
    title: str
    status: str  # pending, succeeded, failed, compensated, expired, rejected...
    channel_id: str
    requester_id: str
    link: str | None
    at: datetime  # created (pending) or last change (finished)
    risk: str = "low"
    decided_by: str | None = None


@dataclass(frozen=True)
class ItemFact:
    """An open action item (a task from a meeting, or any open task with an owner and due date)."""

    task_id: int
    title: str
    owner_id: str | None
    due_date: date
    link: str | None = None


@dataclass(frozen=True)
class MeetingFact:
    id: int
    title: str
    link: str | None
    action_items: int
    decisions: int
    at: datetime


@dataclass(frozen=True)
class MemoryFact:
    id: int
    text: str
    kind: str
    link: str | None
    at: datetime


@dataclass(frozen=True)
class DigestFacts:
    """Everything a digest may say, as loaded (selection and ordering happen in ``core.digest.select``)."""

    kind: DigestKind
    target: str
    since: datetime
    until: datetime
    as_of: date  # the local date the digest is for (items due by then are due)
    pending: tuple[PlanFact, ...] = field(default_factory=tuple)
    finished: tuple[PlanFact, ...] = field(default_factory=tuple)  # executed, failed or expired since
    items: tuple[ItemFact, ...] = field(default_factory=tuple)  # open, due today or earlier
    meetings: tuple[MeetingFact, ...] = field(default_factory=tuple)
    memories: tuple[MemoryFact, ...] = field(default_factory=tuple)
    requested: tuple[PlanFact, ...] = field(default_factory=tuple)  # personal: plans they asked for
    cost_usd: Decimal = Decimal(0)
    llm_calls: int = 0
