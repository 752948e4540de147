"""``tasks.create`` and ``tasks.complete``: Baton's own task list, behind a narrow :class:`TaskStore` port.

Exactly once: ``create`` hands the idempotency key to the store, which keeps it in a UNIQUE column, so a
second create under the same key returns the first task. ``complete`` is idempotent by nature (done
stays done) and reports whether this call changed anything, so undo only reopens a task this plan
closed. Its limit: if a worker is killed after completing a task but before the ledger records it, the
retry sees the task already done and its undo will leave it done (the conservative side).

Tasks belong to a workspace: a task id from another workspace is "no such task".
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, ClassVar, Protocol

from pydantic import Field

from connectors.base import Args, Connector, PermanentError
from connectors.slack_targets import USER_PATTERN
from core.types import RequestOrigin, Risk


class StoredTask(Protocol):
    """A task as the store returns it."""

    @property
    def id(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def owner_id(self) -> str | None: ...
    @property
    def due_date(self) -> date | None: ...
    @property
    def status(self) -> str: ...  # open | done | cancelled


class TaskChange(Protocol):
    """A status change: the task after it, and its status before (equal when nothing changed)."""

    @property
    def task(self) -> StoredTask: ...
    @property
    def previous_status(self) -> str: ...


class TaskStore(Protocol):
    """Where tasks live. Every method is scoped to a workspace; ``None`` means no such task there."""

    def create(self, *, team_id: str, title: str, owner_id: str | None, due_date: date | None,
               source_link: str | None, key: str) -> StoredTask:
        """Create a task, or return the one already created under ``key``."""
        ...

    def complete(self, *, team_id: str, task_id: int) -> TaskChange | None:
        """Mark an open task done (a done task stays done)."""
        ...

    def cancel(self, *, team_id: str, task_id: int) -> TaskChange | None:
        """Cancel a task (undo of create)."""
        ...

    def reopen(self, *, team_id: str, task_id: int) -> TaskChange | None:
        """Make a done task open again (undo of complete)."""
        ...


class CreateTaskArgs(Args):
    """Arguments of ``tasks.create``."""

    title: str = Field(min_length=1, max_length=200, description="What needs doing, one line.")
    owner: str | None = Field(default=None, pattern=USER_PATTERN,
                              description="User id (U…) of the person responsible; null for unassigned.")
    due_date: date | None = Field(default=None, description="Due date, YYYY-MM-DD; null for none.")


class CompleteTaskArgs(Args):
    """Arguments of ``tasks.complete``."""

    task_id: int = Field(gt=0, description="Id of the task to mark done.")


def task_summary(task: StoredTask) -> dict[str, Any]:
    """A task as a JSON-able result."""
    return {"task_id": task.id, "title": task.title, "owner_id": task.owner_id,
            "due_date": task.due_date.isoformat() if task.due_date else None, "status": task.status}


def _source(origin: RequestOrigin) -> str:
    """Where the request came from, as a Slack deep link (opens the conversation)."""
    return f"slack://channel?team={origin.team_id}&id={origin.channel_id}"


class CreateTask(Connector):
    """Add a task to Baton's task list."""

    action: ClassVar[str] = "tasks.create"
    summary: ClassVar[str] = "Create a task in Baton's task list, optionally with an owner and a due date."
    args_model: ClassVar[type[Args]] = CreateTaskArgs
    compensable: ClassVar[bool] = True

    def __init__(self, *, store: TaskStore) -> None:
        self._store = store

    def preview(self, args: CreateTaskArgs, *, origin: RequestOrigin) -> str:
        text = f"Create task “{args.title}”"
        text += f" for <@{args.owner}>" if args.owner else " (no owner)"
        if args.due_date:
            text += f", due {args.due_date.strftime('%a')} {args.due_date.isoformat()}"
        return text

    def risk(self, args: CreateTaskArgs, *, origin: RequestOrigin) -> Risk:
        return Risk.LOW if args.owner in (None, origin.user_id) else Risk.MEDIUM

    def execute(self, args: CreateTaskArgs, *, origin: RequestOrigin, key: str) -> dict[str, Any]:
        task = self._store.create(team_id=origin.team_id, title=args.title, owner_id=args.owner,
                                  due_date=args.due_date, source_link=_source(origin), key=key)
        return task_summary(task)

    def compensate(self, args: CreateTaskArgs, result: Mapping[str, Any], *, origin: RequestOrigin,
                   key: str) -> dict[str, Any]:
        change = self._store.cancel(team_id=origin.team_id, task_id=int(result["task_id"]))
        if change is None:
            return {"task_id": result["task_id"], "cancelled": False, "already_gone": True}
        return {**task_summary(change.task), "cancelled": change.previous_status != "cancelled"}


class CompleteTask(Connector):
    """Mark a task in Baton's task list done."""

    action: ClassVar[str] = "tasks.complete"
    summary: ClassVar[str] = "Mark a task in Baton's task list as done."
    args_model: ClassVar[type[Args]] = CompleteTaskArgs
    compensable: ClassVar[bool] = True

    def __init__(self, *, store: TaskStore) -> None:
        self._store = store

    def preview(self, args: CompleteTaskArgs, *, origin: RequestOrigin) -> str:
        return f"Mark task #{args.task_id} as done"

    def risk(self, args: CompleteTaskArgs, *, origin: RequestOrigin) -> Risk:
        return Risk.LOW

    def execute(self, args: CompleteTaskArgs, *, origin: RequestOrigin, key: str) -> dict[str, Any]:
        change = self._store.complete(team_id=origin.team_id, task_id=args.task_id)
        if change is None:
            raise PermanentError(f"no such task: #{args.task_id}")
        if change.task.status != "done":
            raise PermanentError(f"task #{args.task_id} is {change.task.status} and cannot be completed")
        return {**task_summary(change.task), "previous_status": change.previous_status}

    def compensate(self, args: CompleteTaskArgs, result: Mapping[str, Any], *, origin: RequestOrigin,
                   key: str) -> dict[str, Any]:
        if result.get("previous_status") != "open":  # it was done before this plan: leave it done
            return {"task_id": args.task_id, "reopened": False}
        change = self._store.reopen(team_id=origin.team_id, task_id=args.task_id)
        if change is None:
            return {"task_id": args.task_id, "reopened": False, "already_gone": True}
        return {**task_summary(change.task), "reopened": change.previous_status == "done"}
