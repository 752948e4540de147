"""Slack's assistant threads (the AI app split view), as Baton records them.

A thread is opened by the person (``assistant_thread_started``); while it is open the channel they look at
may change (``assistant_thread_context_changed``). Messages in it are ordinary requests; the thread shows
a status while Baton works on one (:data:`Status`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

STARTED = "assistant_thread_started"
CONTEXT_CHANGED = "assistant_thread_context_changed"
#: The assistant-thread events Baton records (the manifest subscribes to both).
EVENTS = frozenset({STARTED, CONTEXT_CHANGED})

#: What the thread shows under Baton's name while it works: planning, then waiting for a decision; ``""`` clears.
Status = Literal["planning", "waiting_for_approval", ""]


@dataclass(frozen=True)
class AssistantThread:
    """One assistant thread: the person's DM with Baton, the thread, and the channel they are looking at."""

    team_id: str
    channel_id: str
    thread_ts: str
    user_id: str
    #: The channel open beside the thread ('' when Slack gave none: opened from Baton's own DM).
    context_channel_id: str = ""
    context_team_id: str = ""
    greeted: bool = False


@dataclass(frozen=True)
class AssistantThreadEvent:
    """What Baton reads of an ``assistant_thread_started`` / ``_context_changed`` event (``bot.assistant``)."""

    channel_id: str
    thread_ts: str
    user_id: str
    context_channel_id: str = ""
    context_team_id: str = ""
    context_enterprise_id: str = ""


class _Context(BaseModel):
    # Slack adds fields to its payloads freely (as bot.inbound's shapes allow); the ones read are typed strictly.
    model_config = ConfigDict(extra="allow", strict=True)

    channel_id: str = ""
    team_id: str = ""
    enterprise_id: str = ""


class _Thread(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)

    user_id: str
    channel_id: str
    thread_ts: str
    context: _Context = _Context()


def read_thread_event(event: dict[str, Any]) -> AssistantThreadEvent | None:
    """The thread an assistant event names, or None when its ``assistant_thread`` is not one."""
    try:
        thread = _Thread.model_validate(event.get("assistant_thread"))
    except ValidationError:
        return None
    context = thread.context
    return AssistantThreadEvent(
        channel_id=thread.channel_id,
        thread_ts=thread.thread_ts,
        user_id=thread.user_id,
        context_channel_id=context.channel_id,
        context_team_id=context.team_id,
        context_enterprise_id=context.enterprise_id,
    )
