"""Meetings, their action items and the messages that show them, as stored (``memory.meeting_store``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class MeetingRecord:
    id: int
    team_id: str
    request_id: int
    channel_id: str
    thread_ts: str | None
    uploader_id: str
    file_id: str | None
    file_name: str | None
    status: str
    meeting_date: date
    tz: str
    transcript_format: str | None
    turns: int
    words: int
    speakers: list[str]
    notes: dict[str, Any] | None
    mode: str | None
    degraded_reason: str | None
    chunks: int
    llm_calls: int
    input_tokens: int
    output_tokens: int
    cost_usd: Decimal
    card_channel: str | None
    card_ts: str | None
    plan_id: int | None
    all_done_at: datetime | None
    created_at: datetime
    updated_at: datetime
    #: False when a call made for these notes had no known price (its cost counted as 0).
    cost_known: bool = True

    @property
    def summary(self) -> list[str]:
        return list((self.notes or {}).get("summary", []))

    @property
    def decisions(self) -> list[dict[str, Any]]:
        return list((self.notes or {}).get("decisions", []))

    @property
    def open_questions(self) -> list[str]:
        return list((self.notes or {}).get("open_questions", []))


@dataclass(frozen=True)
class ItemRecord:
    meeting_id: int
    idx: int
    task: str
    owner_name: str | None
    owner_id: str | None
    due_date: date | None
    due_text: str | None
    evidence_quote: str | None
    evidence_turn: int | None
    evidence_at: float | None
    selected: bool
    task_id: int | None
    #: The task's status when follow-ups were created (open / done / cancelled), else None.
    task_status: str | None = None


@dataclass(frozen=True)
class ItemEdit:
    """What a person set on the card before creating follow-ups."""

    idx: int
    owner_id: str | None
    due_date: date | None
    selected: bool


@dataclass(frozen=True)
class MessageRef:
    channel_id: str
    ts: str
    kind: str
    owner_id: str
    due_on: date | None
