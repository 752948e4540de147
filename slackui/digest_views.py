"""Block Kit for digests (pure): a channel's daily digest and a person's by DM.

The message is a header, the introduction (a model's or the template's, labelled as such), then one
section per non-empty part of the ``core.digest.select.Digest``. Each list shows at most ``MAX_LINES``
entries and ends with "…and N more (<where to see them>)" when there are more: nothing is dropped
silently. User-written text (titles, memories) is escaped so it can neither ping a whole channel
nor inject a link; only the owners of due items are mentioned, so they are notified.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from core.digest.facts import MeetingFact, MemoryFact, PlanFact
from core.digest.select import Digest, DueItem, OwnerItems, template_intro
from slackui.limits import HEADER_TEXT, SECTION_TEXT, clip, clip_mrkdwn
from slackui.model_text import readable_refs
from slackui.plan_card import PLAN_STATUS, RISK_BADGE

#: Entries shown per list; more are counted in an "…and N more" line.
MAX_LINES = 10
#: Owners with their own section of due items; further owners share one overflow line.
MAX_OWNER_SECTIONS = 10
#: Characters of a title or memory shown (before escaping), and of the introduction.
TITLE_LIMIT = 200
INTRO_LIMIT = 2000
URL_LIMIT = 1000

MODEL_LABEL = "_Written by the model from the facts below._"
TEMPLATE_LABEL = "_Summary from a template (no model available)._"
NOTHING = "Nothing new since the last digest."
CHANNEL_PARTS = {
    "pending": ":hourglass_flowing_sand: *Waiting for approval*",
    "succeeded": ":white_check_mark: *Done since the last digest*",
    "failed": ":x: *Failed since the last digest*",
    "lapsed": ":no_entry_sign: *Expired or rejected*",
    "due": ":alarm_clock: *Action items due*",
    "meetings": ":spiral_note_pad: *Meeting notes posted*",
    "memories": ":brain: *Worth remembering*",
    "requested": ":outbox_tray: *Requested plans*",
}
PERSONAL_PARTS = {
    **CHANNEL_PARTS,
    "pending": ":hourglass_flowing_sand: *Waiting for your approval*",
    "due": ":alarm_clock: *Due for you*",
    "requested": ":outbox_tray: *You asked for*",
}
UNASSIGNED = "_Unassigned_"

_BROADCAST = re.compile(r"<!(channel|here|everyone)(?:\|[^>]*)?>")
_ESCAPED_USER = re.compile(r"&lt;@([UW][A-Z0-9]+)&gt;")
_SAFE_URL = re.compile(r"https?://[^\s<>|]+")


def escape(text: str) -> str:
    """User text made inert for mrkdwn: channel-wide mentions become plain words, and ``&``, ``<``,
    ``>`` are escaped so the text cannot form a link or a mention."""
    text = _BROADCAST.sub(lambda m: "@" + m.group(1), text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _title(text: str, link: str | None) -> str:
    shown = escape(clip(" ".join(readable_refs(text).split()), TITLE_LIMIT)) or "(untitled)"
    if link and len(link) <= URL_LIMIT and _SAFE_URL.fullmatch(link):
        return f"<{link}|{shown}>"
    return shown


def _when(at: datetime) -> str:
    return f"<!date^{int(at.timestamp())}^{{date_short_pretty}}|{at:%Y-%m-%d}>"


def _n(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _more(count: int, hint: str) -> str:
    return f"…and {count} more ({clip(hint, 200)})" if hint else f"…and {count} more"


def _section(text: str) -> dict[str, Any]:
    # verbatim: Slack does no automatic parsing of mentions or channel names in these texts.
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip_mrkdwn(text, SECTION_TEXT),
                                        "verbatim": True}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip_mrkdwn(text, SECTION_TEXT)}]}


def list_text(heading: str, lines: Sequence[str], *, more_hint: str, hidden: int = 0, cap: int = MAX_LINES) -> str:
    """``heading`` and up to ``cap`` of ``lines`` as a section text within Slack's 3,000 characters,
    ending with "…and N more (more_hint)" for the lines not shown plus ``hidden`` ones."""
    total = len(lines) + hidden
    shown: list[str] = []
    for line in lines[:cap]:
        left = total - len(shown) - 1
        candidate = "\n".join([heading, *shown, line] + ([_more(left, more_hint)] if left else []))
        if len(candidate) > SECTION_TEXT:
            break
        shown.append(line)
    left = total - len(shown)
    return "\n".join([heading, *shown] + ([_more(left, more_hint)] if left else []))


def _plan_line(plan: PlanFact, *, status: bool = True) -> str:
    parts = [_title(plan.title, plan.link), f"plan #{plan.id}"]
    if plan.risk != "low":
        parts.append(RISK_BADGE.get(plan.risk, escape(plan.risk)))
    if plan.status == "pending":
        parts.append(f"waiting since {_when(plan.at)}")
    else:
        parts += [PLAN_STATUS.get(plan.status, escape(plan.status))] if status else []
        parts.append(_when(plan.at))
    return "• " + " · ".join(parts)


def due_phrase(days_overdue: int) -> str:
    """"due today", "1 day overdue", "3 days overdue"."""
    return "due today" if days_overdue <= 0 else _n(days_overdue, "day overdue", "days overdue")


def _item_line(due: DueItem) -> str:
    return f"• {_title(due.item.title, due.item.link)} · {due_phrase(due.days_overdue)}"


def _meeting_line(meeting: MeetingFact) -> str:
    return (f"• {_title(meeting.title, meeting.link)} · {_n(meeting.action_items, 'action item', 'action items')}"
            f" · {_n(meeting.decisions, 'decision', 'decisions')}")


def _memory_line(memory: MemoryFact) -> str:
    return f"• *{escape(memory.kind.capitalize())}:* {_title(memory.text, memory.link)}"


def _owner(group: OwnerItems) -> str:
    return f"<@{group.owner_id}>" if group.owner_id else UNASSIGNED


def _overflow_owners(groups: Sequence[OwnerItems], more_hint: str) -> str:
    """One line for the owners without a section, mentioning each (so they are notified) while it fits."""
    count = sum(len(group.items) for group in groups)
    names: list[str] = []
    budget = SECTION_TEXT - 400  # room for the count, "and N others" and the hint
    for i, group in enumerate(groups):
        if sum(len(name) + 2 for name in names) + len(_owner(group)) > budget:
            names.append(_n(len(groups) - i, "other", "others"))
            break
        names.append(_owner(group))
    return f"…and {count} more for {_and(names)}" + (f" ({clip(more_hint, 200)})" if more_hint else "")


def _and(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _due_blocks(digest: Digest, heading: str, more_hint: str) -> list[dict[str, Any]]:
    count = len(digest.due_items)
    if digest.kind == "personal":
        lines = [_item_line(due) for due in digest.due_items]
        return [_section(list_text(f"{heading} ({count})", lines, more_hint=more_hint))]
    blocks = [_section(f"{heading} ({count})")]
    for group in digest.due[:MAX_OWNER_SECTIONS]:
        lines = [_item_line(due) for due in group.items]
        blocks.append(_section(list_text(f"{_owner(group)} ({len(group.items)})", lines, more_hint=more_hint)))
    if len(digest.due) > MAX_OWNER_SECTIONS:
        blocks.append(_section(_overflow_owners(digest.due[MAX_OWNER_SECTIONS:], more_hint)))
    return blocks


def _intro_text(intro: str) -> str:
    """The introduction made inert like user text, except that user mentions (``<@U…>``) stay."""
    text = _ESCAPED_USER.sub(r"<@\1>", escape(intro.strip()))
    return clip_mrkdwn(text, INTRO_LIMIT)


def cost_line(cost_usd: Decimal, llm_calls: int) -> str:
    """"$0.0123 over 5 model calls"."""
    return f"${cost_usd.quantize(Decimal('0.0001'))} over {_n(llm_calls, 'model call', 'model calls')}"


def digest_message(digest: Digest, *, title: str, intro: str, intro_by_model: bool,
                   more_hint: str) -> tuple[str, list[dict[str, Any]]]:
    """The digest message: (notification text, blocks). ``intro`` is the model's introduction
    (``intro_by_model``) or ``core.digest.select.template_intro``'s; ``more_hint`` says where the entries
    left out of a long list can be seen (e.g. "see Baton's Home tab")."""
    personal = digest.kind == "personal"
    heads = PERSONAL_PARTS if personal else CHANNEL_PARTS
    summary = template_intro(digest)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": clip(title, HEADER_TEXT) or "Digest",
                                    "emoji": True}},
        _section(_intro_text(intro) or escape(summary)),
        _context(MODEL_LABEL if intro_by_model and intro.strip() else TEMPLATE_LABEL),
    ]

    def part(key: str, lines: list[str], hidden: int = 0) -> None:
        if lines:
            heading = f"{heads[key]} ({len(lines) + hidden})"
            blocks.append(_section(list_text(heading, lines, more_hint=more_hint, hidden=hidden)))

    pending = [_plan_line(plan) for plan in digest.pending]
    requested = [_plan_line(plan) for plan in digest.requested]
    if personal:
        if digest.due:
            blocks += _due_blocks(digest, heads["due"], more_hint)
        part("pending", pending)
        part("requested", requested)
    else:
        part("pending", pending)
    part("succeeded", [_plan_line(plan, status=False) for plan in digest.succeeded])
    part("failed", [_plan_line(plan) for plan in digest.failed])
    part("lapsed", [_plan_line(plan) for plan in digest.lapsed])
    if not personal:
        if digest.due:
            blocks += _due_blocks(digest, heads["due"], more_hint)
        part("requested", requested)
    part("meetings", [_meeting_line(meeting) for meeting in digest.meetings])
    part("memories", [_memory_line(memory) for memory in digest.memories], hidden=digest.more_memories)
    if digest.llm_calls or digest.cost_usd:
        blocks.append(_context(f"Model cost since the last digest: {cost_line(digest.cost_usd, digest.llm_calls)}"))
    return clip(f"{title}: {summary}", 300), blocks
