"""What Baton shows in a Slack assistant thread: the greeting, the suggested prompts and the status lines.

Pure functions of counts and ids the greeting job gathered; Slack's limits on them are here too.
"""

from __future__ import annotations

from typing import Any

from core.assistant import Status
from slackui.limits import clip

#: Slack shows at most four suggested prompts in an assistant thread (``assistant.threads.setSuggestedPrompts``).
MAX_PROMPTS = 4
#: Characters Baton allows a prompt's title (Slack documents no number; a chip holds a few words).
PROMPT_TITLE = 75
PROMPTS_TITLE = "Try asking"
#: The status line under Baton's name while it works (Slack clears it when Baton replies, or when it is "").
STATUS_TEXT: dict[Status, str] = {
    "planning": "is planning…",
    "waiting_for_approval": "is waiting for approval",
    "": "",
}
#: Shown by Slack in turn while the status is up (``loading_messages``).
PLANNING_LOADING = ("Reading the thread…", "Checking what I remember…", "Drafting a plan…")


def greeting(*, user_id: str, open_items: int, approvals: int) -> str:
    """The first message of a new assistant thread, naming what waits for the person."""
    waiting = []
    if open_items:
        waiting.append(f"{open_items} open action item{'s' if open_items != 1 else ''}")
    if approvals:
        waiting.append(f"{approvals} plan{'s' if approvals != 1 else ''} waiting for your approval")
    lead = f"Hi <@{user_id}>! Ask me for work and I'll make a plan you approve before anything runs."
    return lead + (f" You have {' and '.join(waiting)}." if waiting else "")


def suggested_prompts(*, open_items: int, approvals: int, context_channel_id: str) -> list[dict[str, str]]:
    """Up to :data:`MAX_PROMPTS` prompts that fit the person: their open items and waiting approvals first, then
    the channel they are looking at, then what anyone can ask."""
    prompts: list[dict[str, str]] = []
    if open_items:
        prompts.append({"title": f"My open action items ({open_items})", "message": "What are my open action items?"})
    if approvals:
        prompts.append(
            {"title": f"Approvals waiting for me ({approvals})", "message": "Which plans are waiting for my approval?"}
        )
    if context_channel_id:
        prompts.append(
            {
                "title": "Summarize this channel's day",
                "message": f"Summarize today's conversation in <#{context_channel_id}>",
            }
        )
    prompts.append({"title": "Remember something", "message": "Remember that "})
    prompts.append({"title": "What did we decide?", "message": "What did we decide about "})
    return [{"title": clip(p["title"], PROMPT_TITLE), "message": p["message"]} for p in prompts[:MAX_PROMPTS]]


def status_call(status: Status) -> dict[str, Any]:
    """The arguments of ``assistant.threads.setStatus`` besides the thread for ``status`` (``""`` clears)."""
    args: dict[str, Any] = {"status": STATUS_TEXT[status]}
    if status == "planning":
        args["loading_messages"] = list(PLANNING_LOADING)
    return args
