"""Everything the planner is told about a request besides the request text itself.

The worker gathers it (names from Slack, thread messages from Postgres) and budgets it with
:func:`budget_thread`; the planner only renders it. Names, purposes, messages and memory snippets are
written by Slack users, so the prompt quotes them as untrusted data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.context_budget import clip_text, fit_newest_first

#: Default share of the prompt for thread messages, and the most one message may take of it.
THREAD_BUDGET_TOKENS = 3_000
MESSAGE_MAX_TOKENS = 600


@dataclass(frozen=True)
class ThreadMessage:
    """One earlier message of the thread (or channel) the request was made in."""

    author: str  # a display name, or a user id when the name is unknown
    text: str


@dataclass(frozen=True)
class MentionedName:
    """A person or channel the request mentions, with the name Slack knows it by.

    The request keeps the ids (``<@U…>``, ``<#C…>``) that connectors need; this tells the model who they are.
    """

    token: str  # ``<@U0BOB>`` or ``<#C0OPS>``
    name: str  # ``Bob Example`` or ``#ops``; the bare id when Slack would not say


@dataclass(frozen=True)
class PlanningContext:
    """Who asked, where, what was said before, what Baton remembers, and which actions exist."""

    requester_id: str
    requester_name: str
    channel_id: str
    channel_name: str = ""
    channel_purpose: str = ""
    #: Oldest first, already budgeted (see :func:`budget_thread`).
    thread: tuple[ThreadMessage, ...] = ()
    #: Long-term memory snippets relevant to the request; empty until long-term memory exists.
    memory: tuple[str, ...] = ()
    #: The people and channels the request mentions, in order of first mention.
    mentioned: tuple[MentionedName, ...] = ()
    #: ``ConnectorRegistry.catalogue()``: the actions the planner may use.
    catalogue: tuple[Mapping[str, Any], ...] = field(default_factory=tuple)


def budget_thread(
    messages: Sequence[ThreadMessage],
    *,
    budget_tokens: int = THREAD_BUDGET_TOKENS,
    message_max_tokens: int = MESSAGE_MAX_TOKENS,
) -> tuple[ThreadMessage, ...]:
    """The most recent messages that fit ``budget_tokens``, each clipped to ``message_max_tokens`` first.

    Clipping first means one pasted log does not push every other message out of the window.
    """
    clipped = [ThreadMessage(m.author, clip_text(m.text, message_max_tokens)) for m in messages]
    return tuple(fit_newest_first(clipped, text_of=lambda m: f"{m.author}: {m.text}", budget_tokens=budget_tokens))
