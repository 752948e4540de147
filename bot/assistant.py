"""Slack's assistant threads (the AI app split view), through bolt's own ``Assistant`` middleware.

bolt routes the thread's events to these listeners; they run after the ack and only enqueue, like every other
listener (``bot.events`` recorded the event, the thread and any request before Slack got its 200):

- ``assistant_thread_started``: the greeting and the suggested prompts are sent by a job (``greet_assistant_thread``
  on the recorded event), never from here;
- ``assistant_thread_context_changed``: nothing more to do; the new channel context was stored with the event
  (this listener replaces bolt's default one, which would save the context through Web API calls);
- a person's message in the thread: the same request flow as any DM (:func:`bot.events.start_request`).

bolt's helpers (``say``, ``set_status``, ``set_suggested_prompts``) are not used here: they would call Slack from
the web process; the workers make those calls (``workers.assistant``).
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncAssistant
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import AppDeps
from bot.events import start_request


def register_assistant(app: AsyncApp, deps: AppDeps) -> None:
    """Add bolt's ``Assistant`` middleware with Baton's listeners (after ``bot.events``' recording middleware)."""
    assistant = AsyncAssistant()

    @assistant.thread_started
    async def on_thread_started(context: dict[str, Any]) -> None:
        if context.get("baton_event_pk"):
            await deps.enqueue("greet_assistant_thread", context["baton_event_pk"])

    @assistant.thread_context_changed
    async def on_context_changed() -> None:
        return None  # stored with the event (bot.assistant_intake)

    @assistant.user_message
    async def on_user_message(context: dict[str, Any], event: dict[str, Any], client: AsyncWebClient) -> None:
        await start_request(context, event, client, deps)

    app.assistant(assistant)
