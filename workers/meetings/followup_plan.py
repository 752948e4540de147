"""The plan behind a meeting card's **Create follow-ups** button, built from the items as they stand.

One ``meeting.follow_up`` step per selected item (task, reminder, check-in), then one
``meeting.notify_owner`` step per owner, depending on that owner's item steps (the DM lists the
tasks they created). Built again from the card's edits in the transaction that approves it.
"""

from __future__ import annotations

from typing import Any

from connectors.meeting_followups import MeetingFollowUp, MeetingNotifyOwner
from connectors.registry import ConnectorRegistry
from core.meetings.stored import ItemRecord, MeetingRecord
from core.types import RequestOrigin, ReviewedPlan, ReviewedStep
from slackui.meeting_views import MAX_CARD_ITEMS, meeting_title
from workers.connector_wiring import registry_for
from workers.job_context import WorkerContext


def followup_plan(ctx: WorkerContext | None, meeting: MeetingRecord, items: list[ItemRecord], *, origin: RequestOrigin,
                  registry: ConnectorRegistry | None = None) -> ReviewedPlan:
    """The reviewed follow-up plan for the selected items (at most the ones the card shows)."""
    if registry is None:
        assert ctx is not None, "a job's context, or a registry (the web process passes preview_registry())"
        registry = registry_for(ctx)
    steps: list[ReviewedStep] = []
    by_owner: dict[str, list[int]] = {}
    for item in items[:MAX_CARD_ITEMS]:
        if not item.selected:
            continue
        args = {"meeting_id": meeting.id, "item": item.idx, "task": item.task[:200], "owner": item.owner_id,
                "due_date": item.due_date.isoformat() if item.due_date else None}
        owner = f"<@{item.owner_id}>" if item.owner_id else "nobody yet"
        description = f"Item {item.idx + 1}: “{item.task[:200]}” for {owner}"
        steps.append(_step(registry, len(steps), "meeting.follow_up", args, description, origin=origin))
        if item.owner_id:
            by_owner.setdefault(item.owner_id, []).append(len(steps) - 1)
    for owner, needs in by_owner.items():
        steps.append(_step(registry, len(steps), "meeting.notify_owner", {"meeting_id": meeting.id, "owner": owner},
                           f"DM <@{owner}> their items", origin=origin, depends_on=tuple(needs)))
    return ReviewedPlan(
        title=f"Follow-ups for {meeting_title(meeting)}"[:150],
        rationale=f"Action items from the meeting of {meeting.meeting_date.isoformat()}.",
        steps=tuple(steps),
        planner="llm" if meeting.mode == "llm" else "rules",
    )


class _PreviewOnly:
    """Stands in for stores and Slack where only previews and risk are computed (the web process)."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"a preview-only connector cannot {name}")


def preview_registry() -> ConnectorRegistry:
    """The meeting connectors, able to parse arguments and preview them, not to run."""

    stand_in: Any = _PreviewOnly()
    return ConnectorRegistry([MeetingFollowUp(store=stand_in), MeetingNotifyOwner(client=stand_in, notice=stand_in)])


def _step(registry: ConnectorRegistry, index: int, action: str, raw: dict[str, Any], description: str, *,
          origin: RequestOrigin, depends_on: tuple[int, ...] = ()) -> ReviewedStep:
    connector = registry.get(action)
    args = connector.parse(raw)
    return ReviewedStep(
        index=index, action=action, args=args.model_dump(mode="json"), description=description,
        depends_on=depends_on, preview=connector.preview(args, origin=origin),
        risk=connector.risk(args, origin=origin), read_only=connector.read_only, compensable=connector.compensable,
    )

