"""``meeting.follow_up`` and ``meeting.notify_owner``: the steps of an approved meeting follow-up plan.

They are internal (never offered to the planner): Baton builds them from the action items on a meeting
card when someone clicks **Create follow-ups**, and they run through the same decision, effects
ledger and compensation as any plan.

``meeting.follow_up`` creates the item's task and schedules its reminder and due-date check-in, all
behind the narrow :class:`FollowupStore` port; the task is created under the step's idempotency key
(UNIQUE in Postgres) and schedules are UNIQUE per (meeting, kind, owner, day), so a retry repeats
nothing. Undo cancels the task.

``meeting.notify_owner`` DMs an owner their items with **Done** buttons. Like ``slack.post_message``, the
DM carries its key in message metadata and is looked up before posting, so it is sent once. Undo
deletes it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date
from typing import Any, ClassVar, Protocol

from pydantic import Field
from slack_sdk import WebClient

from connectors.base import Args, Connector
from connectors.slack_errors import call_slack, undo_unless_gone
from connectors.slack_once import post_once
from connectors.slack_targets import USER_PATTERN, conversation_id
from core.types import RequestOrigin, Risk

logger = logging.getLogger(__name__)


class FollowupStore(Protocol):
    """Where a meeting item's task and timed follow-ups are kept."""

    def create_follow_up(self, *, team_id: str, meeting_id: int, item: int, title: str, owner_id: str | None,
                         due_date: date | None, key: str) -> dict[str, Any]:
        """Create the task (once per ``key``) and schedule the reminder and check-in; a JSON-able summary."""
        ...

    def undo_follow_up(self, *, team_id: str, meeting_id: int, item: int, task_id: int) -> dict[str, Any]:
        """Cancel the task created for the item."""
        ...


class OwnerNotice(Protocol):
    """Renders an owner's DM from the current state of their items, and remembers where it was posted."""

    def render(self, *, meeting_id: int, owner_id: str) -> tuple[str, list[dict[str, Any]]]:
        """(fallback text, blocks) of the DM."""
        ...

    def posted(self, *, meeting_id: int, owner_id: str, channel: str, ts: str) -> None:
        """Record the DM so later changes (done, snooze) update it."""
        ...


class FollowUpArgs(Args):
    """Arguments of ``meeting.follow_up``."""

    meeting_id: int = Field(ge=1)
    item: int = Field(ge=0, description="Index of the action item in the meeting.")
    task: str = Field(min_length=1, max_length=200)
    owner: str | None = Field(default=None, pattern=USER_PATTERN)
    due_date: date | None = None


class NotifyOwnerArgs(Args):
    """Arguments of ``meeting.notify_owner``."""

    meeting_id: int = Field(ge=1)
    owner: str = Field(pattern=USER_PATTERN)


class MeetingFollowUp(Connector):
    """Create an action item's task and schedule its reminder and due-date check-in."""

    action: ClassVar[str] = "meeting.follow_up"
    summary: ClassVar[str] = "Create a meeting action item's task, reminder and check-in."
    args_model: ClassVar[type[Args]] = FollowUpArgs
    compensable: ClassVar[bool] = True
    internal: ClassVar[bool] = True

    def __init__(self, *, store: FollowupStore) -> None:
        self._store = store

    def preview(self, args: FollowUpArgs, *, origin: RequestOrigin) -> str:
        owner = f"<@{args.owner}>" if args.owner else "nobody yet (unassigned)"
        if args.due_date is None:
            return f"Task “{args.task}” for {owner}, no due date (no reminder or check-in)"
        return (
            f"Task “{args.task}” for {owner}, due {args.due_date.isoformat()}: a reminder the working day before"
            " and a check-in in this thread on the day"
        )

    def risk(self, args: FollowUpArgs, *, origin: RequestOrigin) -> Risk:
        return Risk.MEDIUM if args.owner else Risk.LOW  # assigning work to a person is worth a look

    def execute(self, args: FollowUpArgs, *, origin: RequestOrigin, key: str) -> dict[str, Any]:
        return self._store.create_follow_up(
            team_id=origin.team_id, meeting_id=args.meeting_id, item=args.item, title=args.task,
            owner_id=args.owner, due_date=args.due_date, key=key,
        )

    def compensate(self, args: FollowUpArgs, result: Mapping[str, Any], *, origin: RequestOrigin,
                   key: str) -> dict[str, Any]:
        return self._store.undo_follow_up(
            team_id=origin.team_id, meeting_id=args.meeting_id, item=args.item, task_id=int(result["task_id"])
        )


class MeetingNotifyOwner(Connector):
    """DM an owner their action items from a meeting, with Done buttons."""

    action: ClassVar[str] = "meeting.notify_owner"
    summary: ClassVar[str] = "Send an owner their meeting action items by DM."
    args_model: ClassVar[type[Args]] = NotifyOwnerArgs
    compensable: ClassVar[bool] = True
    internal: ClassVar[bool] = True

    def __init__(self, *, client: WebClient, notice: OwnerNotice) -> None:
        self._client = client
        self._notice = notice

    def preview(self, args: NotifyOwnerArgs, *, origin: RequestOrigin) -> str:
        return f"DM <@{args.owner}> their action items with a Done button each"

    def risk(self, args: NotifyOwnerArgs, *, origin: RequestOrigin) -> Risk:
        return Risk.MEDIUM  # a direct message to one person

    def execute(self, args: NotifyOwnerArgs, *, origin: RequestOrigin, key: str) -> dict[str, Any]:
        doing = f"sending <@{args.owner}> their action items"
        channel = conversation_id(self._client, args.owner)

        def render() -> dict[str, Any]:
            text, blocks = self._notice.render(meeting_id=args.meeting_id, owner_id=args.owner)
            return {"text": text, "blocks": blocks}

        posted = call_slack(
            doing, lambda: post_once(self._client, channel=channel, key=key, doing=doing, render=render)
        )
        self._notice.posted(meeting_id=args.meeting_id, owner_id=args.owner, channel=posted.channel, ts=posted.ts)
        return {"channel": posted.channel, "ts": posted.ts, **({"reused": True} if posted.reused else {})}

    def compensate(self, args: NotifyOwnerArgs, result: Mapping[str, Any], *, origin: RequestOrigin,
                   key: str) -> dict[str, Any]:
        channel, ts = str(result["channel"]), str(result["ts"])
        deleted = undo_unless_gone(
            f"deleting the DM to <@{args.owner}>",
            lambda: self._client.chat_delete(channel=channel, ts=ts),
            gone="message_not_found",
        )
        return {"deleted": deleted, "channel": channel, "ts": ts}
