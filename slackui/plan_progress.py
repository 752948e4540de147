"""A plan's steps as Slack's ``plan`` block: one ``task_card`` per step, pending -> in_progress -> complete/error.

Used by the plan card once a plan has left approval (``slackui.plan_card``) when ``BATON_SLACK_PLAN_BLOCKS`` is on;
while a plan waits for a decision its card keeps the section blocks, whose previews and risk badges are what an
approver reads. No ``block_id``: Slack asks for a new one on every update of a message, and makes one when none is
given. Titles are plain text, clipped like a header.
"""

from __future__ import annotations

from typing import Any, Literal

from core.plan_records import PlanRecord, StepRecord
from slackui.limits import HEADER_TEXT, clip

TaskStatus = Literal["pending", "in_progress", "complete", "error"]

#: Baton's step statuses as Slack's four task statuses.
TASK_STATUS: dict[str, TaskStatus] = {
    "pending": "pending",
    "skipped": "pending",
    "running": "in_progress",
    "compensating": "in_progress",
    "succeeded": "complete",
    "compensated": "complete",
    "failed": "error",
    "compensation_failed": "error",
    "outcome_unknown": "error",
}
#: What a task's details say besides its preview, for statuses the four task statuses do not tell apart.
STATUS_NOTE = {
    "skipped": "skipped",
    "compensating": "undoing",
    "compensated": "done, then undone",
    "compensation_failed": "could not undo",
    "outcome_unknown": "outcome unknown: not retried, check by hand",
}
PLAN_TITLE = {
    "approved": "Starting",
    "running": "Running",
    "succeeded": "Done",
    "failed": "Failed",
    "compensated": "Failed, completed steps undone",
    "rejected": "Rejected",
    "expired": "Expired",
}
#: Characters of a task's details (Slack documents no number; the card's previews are clipped to 700 too).
DETAILS_LIMIT = 700


def _rich_text(text: str) -> dict[str, Any]:
    return {
        "type": "rich_text",
        "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}],
    }


def task_card(plan: PlanRecord, step: StepRecord) -> dict[str, Any]:
    """One step as a ``task_card``; a step left out at review shows as pending, saying so."""
    status = TASK_STATUS.get(step.status, "pending") if step.selected else "pending"
    notes = [] if step.selected else ["left out at review"]
    if step.selected and step.status in STATUS_NOTE:
        notes.append(STATUS_NOTE[step.status])
    details = " · ".join([*notes, clip(step.preview, DETAILS_LIMIT, more=f"(full text: /baton audit {plan.id})")])
    card: dict[str, Any] = {
        "type": "task_card",
        "task_id": f"step-{step.idx + 1}",
        "title": clip(f"{step.idx + 1}. {step.description}", HEADER_TEXT),
        "status": status,
        "details": _rich_text(details),
    }
    if step.error:
        card["output"] = _rich_text(clip(f"error: {step.error}", 300))
    return card


def plan_block(plan: PlanRecord) -> dict[str, Any]:
    """The ``plan`` block of a plan that has left approval."""
    lead = PLAN_TITLE.get(plan.status, plan.status.capitalize())
    return {
        "type": "plan",
        "title": clip(f"{lead}: {plan.title}", HEADER_TEXT),
        "tasks": [task_card(plan, step) for step in plan.steps],
    }


def shows_plan_block(plan: PlanRecord, *, enabled: bool) -> bool:
    """Whether the card shows :func:`plan_block`: the setting is on and the plan was approved (it is or was
    running); a pending, rejected or expired plan keeps its previews, since nothing of it ran."""
    return enabled and plan.status in ("approved", "running", "succeeded", "failed", "compensated")
