"""``app_uninstalled`` and ``tokens_revoked``: recorded before the ack by ``bot.events``'s middleware (which leaves
them for the job to settle), then handed to ``retire_workspace`` (``workers.uninstall``) by event id.

Bolt authorizes neither (the tokens are already dead) and Baton registers no token-revocation listeners of
bolt's: the job deletes the tokens, in the same transaction as cancelling the workspace's plans.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.deps import AppDeps
from memory.workspace_purge import REMOVAL_EVENTS


def register_uninstall(app: AsyncApp, deps: AppDeps) -> None:
    """The two listeners; registered before ``bot.events``'s catch-all."""

    async def retire(context: dict[str, Any]) -> None:
        if context.get("baton_event_pk"):
            await deps.enqueue("retire_workspace", context["baton_event_pk"])

    for event_type in REMOVAL_EVENTS:
        app.event(event_type)(retire)
