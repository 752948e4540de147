"""Block Kit for meetings (pure): the notes card with editable action items, an owner's DM, a
reminder and a due-date check-in. Every one is rendered from the current state of the items, so
marking an item done anywhere re-renders all of them the same way."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from core.meetings.stored import ItemRecord, MeetingRecord
from core.plan_records import PlanRecord
from slackui.limits import clip, mrkdwn, plain
from slackui.plan_card import cost_text
from slackui.replies import NO_MODEL_CONFIGURED

CREATE_FOLLOWUPS = "meeting_create_followups"
ITEM_SELECTED = "meeting_item_selected"
ITEM_OWNER = "meeting_item_owner"
ITEM_DUE = "meeting_item_due"
ITEM_DONE = "meeting_item_done"
ITEM_SNOOZE = "meeting_item_snooze"
ITEM_BLOCK_PREFIX = "meeting_item:"
#: Two blocks per item on the card; Slack allows 50 blocks per message.
MAX_CARD_ITEMS = 15
DEGRADED_LABEL = "Degraded mode (no language model)"
#: The label when a model is configured but did not write the notes (its reason follows: which model, what failed).
WITHOUT_MODEL_LABEL = "Written without the language model"


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": mrkdwn(text)}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [mrkdwn(text)]}


def clock(seconds: float | None) -> str:
    """``HH:MM:SS`` for a time in the meeting."""
    if seconds is None:
        return ""
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def meeting_title(meeting: MeetingRecord) -> str:
    return meeting.file_name or "pasted transcript"


def meeting_card_text(meeting: MeetingRecord, items: list[ItemRecord]) -> str:
    """Notification text of the card."""
    return f"Meeting notes for {meeting_title(meeting)}: {len(meeting.summary)} points, {len(items)} action items"


def _bullets(title: str, lines: list[str]) -> dict[str, Any]:
    body = "\n".join(f"• {line}" for line in lines) if lines else "_None found._"
    return _section(f"*{title}*\n{body}")


def _evidence(item: ItemRecord) -> str:
    if not item.evidence_quote:
        return ""
    where = f"turn {item.evidence_turn + 1}" if item.evidence_turn is not None else ""
    if item.evidence_at is not None:
        where = f"{clock(item.evidence_at)}, {where}" if where else clock(item.evidence_at)
    return f"\n> “{clip(item.evidence_quote, 300)}” ({where})" if where else f"\n> “{clip(item.evidence_quote, 300)}”"


def _said_owner(item: ItemRecord) -> str:
    if item.owner_name and not item.owner_id:
        return f" · said: {item.owner_name} (not matched to a Slack user)"
    return ""


def _usage_line(meeting: MeetingRecord) -> str:
    if meeting.mode == "llm":
        return (f"Written by the model · {meeting.llm_calls} calls over {meeting.chunks} parts · "
                f"{meeting.input_tokens:,} in / {meeting.output_tokens:,} out tokens · "
                f"cost {cost_text(meeting.cost_usd, known=meeting.cost_known)}")
    configured = meeting.degraded_reason not in (None, NO_MODEL_CONFIGURED)
    label = WITHOUT_MODEL_LABEL if configured else DEGRADED_LABEL
    reason = f" ({meeting.degraded_reason})" if meeting.degraded_reason else ""
    return (f":warning: *{label}*{reason}: the summary is sentences picked from the transcript and "
            "action items come from phrases like “I'll…”, “action item:”, “we need to … by …”.")


def _status_line(plan: PlanRecord | None, now: datetime) -> str:
    if plan is None:
        return "No action items to follow up."
    by = f" by <@{plan.decided_by}>" if plan.decided_by and plan.decided_by != "policy" else ""
    if plan.status == "pending" and plan.expires_at <= now:
        return ":hourglass: Expired: no follow-ups were created."
    return {
        "pending": (f"Set owners and due dates, untick anything that is not an action item, then *Create follow-ups*"
                    f" (tasks, a DM to each owner, reminders and check-ins). Expires <!date^"
                    f"{int(plan.expires_at.timestamp())}^{{date_short_pretty}} {{time}}|{plan.expires_at:%Y-%m-%d}>."),
        "approved": f":gear: Creating follow-ups (approved{by})…",
        "running": f":gear: Creating follow-ups (approved{by})…",
        "succeeded": (f":white_check_mark: Follow-ups created (approved{by}): tasks, a DM to each owner, a reminder "
                      "the working day before each due date and a check-in here on the day."),
        "failed": ":x: Creating follow-ups failed; what was done is being undone. See the report in this thread.",
        "compensated": ":x: Creating follow-ups failed and what was done was undone. See the report in this thread.",
        "rejected": f":no_entry_sign: No follow-ups (declined{by}).",
        "expired": ":hourglass: Expired: no follow-ups were created.",
    }.get(plan.status, plan.status)


def meeting_card(meeting: MeetingRecord, items: list[ItemRecord], plan: PlanRecord | None, *,
                 now: datetime) -> list[dict[str, Any]]:
    """The notes card: summary, decisions, open questions, and the action items (editable while pending)."""
    editable = plan is not None and plan.status == "pending" and plan.expires_at > now
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": plain(f"Meeting notes: {meeting_title(meeting)}", 150)},
        _context(f"Uploaded by <@{meeting.uploader_id}> · {meeting.meeting_date.isoformat()} · {meeting.turns} turns, "
                 f"{len(meeting.speakers)} speakers · meeting #{meeting.id}"),
        _context(_usage_line(meeting)),
        _bullets("Summary", meeting.summary),
        _bullets("Decisions", [d["text"] for d in meeting.decisions]),
    ]
    if meeting.open_questions:
        blocks.append(_bullets("Open questions", meeting.open_questions))
    blocks.append({"type": "divider"})
    blocks.append(_section(f"*Action items ({len(items)})*" if items else "*Action items*\n_None found._"))
    for item in items[:MAX_CARD_ITEMS]:
        blocks += _item_blocks(item, editable=editable)
    if len(items) > MAX_CARD_ITEMS:
        blocks.append(_context(f"{len(items) - MAX_CARD_ITEMS} more action items are not shown (Slack's message size "
                               "limit) and get no follow-ups from this card."))
    blocks.append({"type": "divider"})
    blocks.append(_section(_status_line(plan, now)))
    if editable and plan is not None:
        blocks.append({"type": "actions", "block_id": f"meeting_actions:{meeting.id}", "elements": [
            {"type": "button", "action_id": CREATE_FOLLOWUPS, "style": "primary", "value": str(meeting.id),
             "text": plain("Create follow-ups", 75)},
        ]})
    return blocks


def _item_blocks(item: ItemRecord, *, editable: bool) -> list[dict[str, Any]]:
    number = item.idx + 1
    if not editable:
        return [_section(f"{_item_mark(item)} *{number}. {item.task}*\n{_owner_due(item)}{_evidence(item)}")]
    option = {"text": plain("Follow up", 75), "value": str(item.idx)}
    selected: dict[str, Any] = {"type": "checkboxes", "action_id": ITEM_SELECTED, "options": [option]}
    if item.selected:
        selected["initial_options"] = [option]
    owner: dict[str, Any] = {"type": "users_select", "action_id": ITEM_OWNER, "placeholder": plain("Owner", 75)}
    if item.owner_id:
        owner["initial_user"] = item.owner_id
    due: dict[str, Any] = {"type": "datepicker", "action_id": ITEM_DUE, "placeholder": plain("Due date", 75)}
    if item.due_date:
        due["initial_date"] = item.due_date.isoformat()
    said = f" · said: “{item.due_text}”" if item.due_text else ""
    return [
        _section(f"*{number}. {item.task}*{_said_owner(item)}{said}{_evidence(item)}"),
        {"type": "actions", "block_id": f"{ITEM_BLOCK_PREFIX}{item.idx}", "elements": [selected, owner, due]},
    ]


def _item_mark(item: ItemRecord) -> str:
    if item.task_status == "done":
        return ":white_check_mark:"
    if item.task_status == "cancelled":
        return ":heavy_multiplication_x:"
    if item.task_id is None:
        return ":white_circle:" if item.selected else ":heavy_minus_sign:"
    return ":hourglass_flowing_sand:"


def _owner_due(item: ItemRecord) -> str:
    owner = f"<@{item.owner_id}>" if item.owner_id else "unassigned"
    due = f"due {item.due_date.isoformat()}" if item.due_date else "no due date"
    state = {"done": "done", "cancelled": "cancelled", "open": "open"}.get(item.task_status or "", "")
    if item.task_id is None and not item.selected:
        state = "no follow-up"
    return f"{owner} · {due}" + (f" · {state}" if state else "")


def _done_button(meeting_id: int, item: ItemRecord) -> dict[str, Any]:
    return {"type": "button", "action_id": ITEM_DONE, "style": "primary", "value": f"{meeting_id}:{item.idx}",
            "text": plain("Done", 75)}


def _snooze_button(meeting_id: int, item: ItemRecord) -> dict[str, Any]:
    return {"type": "button", "action_id": ITEM_SNOOZE, "value": f"{meeting_id}:{item.idx}",
            "text": plain("Snooze a day", 75)}


def _tracked_item(meeting: MeetingRecord, item: ItemRecord, *, snooze: bool) -> list[dict[str, Any]]:
    text = f"{_item_mark(item)} *{item.task}*\n{_owner_due(item)}"
    blocks: list[dict[str, Any]] = [_section(text)]
    if item.task_status == "open":
        buttons = [_done_button(meeting.id, item)] + ([_snooze_button(meeting.id, item)] if snooze else [])
        blocks.append({"type": "actions", "block_id": f"{ITEM_BLOCK_PREFIX}{item.idx}", "elements": buttons})
    return blocks


def _capped(blocks: list[dict[str, Any]], header: list[dict[str, Any]], link: str | None) -> list[dict[str, Any]]:
    if len(header) + len(blocks) <= 49:
        return header + blocks
    more = f"More items are in <{link}|the meeting notes>." if link else "More items are in the meeting notes."
    return header + blocks[: 48 - len(header)] + [_context(more)]


def owner_dm(meeting: MeetingRecord, items: list[ItemRecord], *, link: str | None) -> tuple[str, list[dict[str, Any]]]:
    """An owner's DM: their items from the meeting with a Done button each."""
    where = f"<{link}|{meeting_title(meeting)}>" if link else meeting_title(meeting)
    text = f"You have {len(items)} action items from the meeting {meeting_title(meeting)}"
    header = [_section(f"You have action items from the meeting {where} ({meeting.meeting_date.isoformat()}). "
                       "Mark each one *Done* here when it is; I'll remind you the working day before it is due.")]
    body = [block for item in items for block in _tracked_item(meeting, item, snooze=False)]
    return text, _capped(body, header, link)


def reminder(meeting: MeetingRecord, items: list[ItemRecord], due_on: date, *,
             link: str | None) -> tuple[str, list[dict[str, Any]]]:
    """A reminder to one owner of their items due on ``due_on``."""
    where = f"<{link}|{meeting_title(meeting)}>" if link else meeting_title(meeting)
    text = f"Reminder: {len(items)} action items due {due_on.isoformat()}"
    header = [_section(f":alarm_clock: Reminder: due *{due_on.isoformat()}*, from the meeting {where}.")]
    body = [block for item in items for block in _tracked_item(meeting, item, snooze=True)]
    return text, _capped(body, header, link)


def checkin(meeting: MeetingRecord, items: list[ItemRecord], day: date) -> tuple[str, list[dict[str, Any]]]:
    """The check-in in the meeting thread: what is done and what is not among the items due by ``day``."""
    done = [item for item in items if item.task_status == "done"]
    open_ = [item for item in items if item.task_status == "open"]
    text = f"Check-in {day.isoformat()}: {len(done)} done, {len(open_)} not done yet"
    header = [_section(f":clipboard: *Check-in {day.isoformat()}*: {len(done)} done, {len(open_)} not done yet.")]
    body = [block for item in open_ + done for block in _tracked_item(meeting, item, snooze=True)]
    return text, _capped(body, header, None)


def all_done(meeting: MeetingRecord, count: int) -> str:
    return f":tada: All {count} action items from {meeting_title(meeting)} are done."
