"""Which modal each person has open in the browser workspace.

``views.open`` names no person: Slack knows whose client the ``trigger_id`` came from. The browser
workspace learns it the same way: every trigger issued while a person acts (a click, a command, a
submission) is theirs, and a view opened with it goes on top of that person's stack. ``response_action``
``update``/``push``/``clear`` and closing the modal change the stack as Slack's client does.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ModalStacks:
    """Per person: the open views, innermost last; fed by ``views.open`` notices and the person's actions."""

    _owners: dict[str, str] = field(default_factory=dict)  # trigger_id -> user id
    _opened: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (trigger_id, view) not yet placed
    _stacks: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def claim(self, user_id: str, trigger_ids: set[str]) -> None:
        """The triggers issued for ``user_id``'s action."""
        with self._lock:
            for trigger_id in trigger_ids:
                self._owners[trigger_id] = user_id

    def on_post(self, event: dict[str, Any]) -> None:
        """A :meth:`~localslack.LocalSlack.on_post` callback: remembers each ``views.open``."""
        if event.get("method") == "views.open" and isinstance(event.get("view"), dict):
            with self._lock:
                self._opened.append((str(event.get("trigger_id")), copy.deepcopy(event["view"])))

    def top(self, user_id: str, *, current: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
        """The modal ``user_id`` sees now (``current``: the workspace's views by id, after updates)."""
        with self._lock:
            waiting = []
            for trigger_id, view in self._opened:
                owner = self._owners.get(trigger_id)
                if owner is None:
                    waiting.append((trigger_id, view))
                else:
                    self._stacks.setdefault(owner, []).append(view)
            self._opened = waiting
            stack = self._stacks.get(user_id) or []
            if not stack:
                return None
            view = stack[-1]
            # views.update replaces the stored view; a response_action update is local to this stack.
            return current.get(view["id"], view) if not view.get("_local") else view

    def respond(self, user_id: str, view_id: str, answer: dict[str, Any]) -> dict[str, Any] | None:
        """Apply a ``view_submission``'s answer; returns ``errors`` to show, if any."""
        action = answer.get("response_action")
        with self._lock:
            stack = self._stacks.setdefault(user_id, [])
            if action == "errors":
                errors = answer.get("errors")
                return errors if isinstance(errors, dict) else {}
            if action == "clear":
                stack.clear()
            elif action in ("update", "push") and isinstance(answer.get("view"), dict):
                view = dict(copy.deepcopy(answer["view"]), id=view_id, _local=True)
                if action == "update" and stack:
                    stack[-1] = view
                else:
                    stack.append(view)
            else:
                self._drop(stack, view_id)
        return None

    def close(self, user_id: str, view_id: str) -> None:
        """The person closed (cancelled) the modal on top."""
        with self._lock:
            self._drop(self._stacks.setdefault(user_id, []), view_id)

    def clear(self) -> None:
        """Forget everything (the workspace was reset)."""
        with self._lock:
            self._owners.clear()
            self._opened.clear()
            self._stacks.clear()

    @staticmethod
    def _drop(stack: list[dict[str, Any]], view_id: str) -> None:
        if stack and stack[-1].get("id") == view_id:
            stack.pop()
