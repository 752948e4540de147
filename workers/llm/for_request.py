"""The model client for one request's work: its planning, or the notes of the meeting it uploaded."""

from __future__ import annotations

import hashlib
from typing import Any

from core.budgets import BUDGET_NOTICE
from memory.requests import RequestRecord
from workers.cards import reply_in_thread
from workers.job_context import WorkerContext
from workers.llm.deadline import Deadline
from workers.llm.factory import CallScope, llm_client


def llm_for(ctx: WorkerContext, record: RequestRecord, *, meeting_id: int | None = None,
            deadline: Deadline | None = None) -> Any:
    """The LLM client for this request (its planning, or with ``meeting_id`` the notes of its meeting), or None
    in degraded mode (no model configured). ``deadline`` bounds all its calls together (planning's).

    A budget that stops a planning call is told to the requester in the thread (the plan card shows only
    that rules planned it); a meeting's notes card shows the reason itself.
    """
    scope = CallScope(team_id=record.team_id, channel_id=record.channel_id, user_id=record.user_id,
                      request_id=record.id, meeting_id=meeting_id)

    def tell(reason: str) -> None:
        # Keyed by the reason: each budget that stops a call of this request is told once.
        digest = hashlib.sha256(reason.encode()).hexdigest()[:16]
        reply_in_thread(ctx, team_id=record.team_id, channel=record.channel_id, thread_ts=record.origin.thread_ts,
                        key=f"budget:req-{record.id}:{digest}",
                        text=BUDGET_NOTICE.format(reason=reason))

    return llm_client(ctx, scope, on_refusal=None if meeting_id is not None else tell, deadline=deadline)
