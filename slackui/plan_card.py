"""Block Kit builders (pure): the plan card and the approval modals.

Slack's limits shape these: ≤ 50 blocks a message, ≤ 3,000 characters a section, ≤ 150 a header,
≤ 75 a button label, ≤ 24 a modal title. Long previews are truncated with a pointer to the full
text (``/baton audit <id>``).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from core.budgets import format_usd
from core.mcp_tools import argument_lines
from core.plan_records import PlanRecord, StepRecord, StepWait
from slackui.limits import HEADER_TEXT, MODAL_BLOCKS, SECTION_TEXT, clip, mrkdwn, plain
from slackui.model_text import inert_mrkdwn, readable_refs
from slackui.plan_progress import plan_block, shows_plan_block
from slackui.step_question import settled_note

PREVIEW_LIMIT = 700

RISK_BADGE = {
    "low": ":large_green_circle: low risk",
    "medium": ":large_yellow_circle: medium risk",
    "high": ":red_circle: high risk",
}
#: A step whose tool is called at most once: if the call is interrupted, a person settles what happened.
AT_MOST_ONCE_BADGE = ":one: at most once (if interrupted, you decide whether to run it again)"
STEP_STATUS = {
    "pending": ":white_circle: waiting",
    "running": ":hourglass_flowing_sand: running",
    "succeeded": ":white_check_mark: done",
    "failed": ":x: failed",
    "skipped": ":fast_forward: skipped",
    "compensating": ":leftwards_arrow_with_hook: undoing",
    "compensated": ":leftwards_arrow_with_hook: undone",
    "compensation_failed": ":warning: could not undo",
    "outcome_unknown": ":grey_question: outcome unknown",
}
PLAN_STATUS = {
    "pending": "Waiting for approval",
    "approved": "Approved",
    "running": "Running",
    "succeeded": "Done",
    "failed": "Failed",
    "compensated": "Failed — completed steps were undone",
    "rejected": "Rejected",
    "expired": "Expired — nothing was run",
    "cancelled": "Cancelled — Baton was removed from this workspace",
}

APPROVE, REJECT, REVIEW = "plan_approve", "plan_reject", "plan_review"
REJECT_MODAL, REVIEW_MODAL = "plan_reject_modal", "plan_review_modal"


def _quote(text: str) -> str:
    return "\n".join("> " + line if line else ">" for line in text.splitlines() or [""])


#: Plan statuses after which nothing more is spent on the plan.
_FINISHED = frozenset({"succeeded", "failed", "compensated", "rejected", "expired", "cancelled"})
#: Today's connectors never call a model, so running a plan costs nothing: the estimate is an honest zero.
#: Who planned a plan an operator's alias or `/baton run` made (no model, not degraded mode).
ALIAS_PLANNED = "Planned by an alias or `/baton run`, without the model"
RUN_ESTIMATE = "est. to run $0.00 (no model calls in these steps)"


def cost_text(amount: Decimal, *, known: bool) -> str:
    """What model calls cost, for a card: never "$0.0000" for a model whose price nobody told Baton."""
    cost = format_usd(amount)
    if known:
        return cost
    floor = f"at least {cost}" if amount else "unknown"
    return f"{floor} (no known price for the model: see BATON_MODEL_PRICES)"


def _cost_line(plan: PlanRecord, *, model: str | None) -> str:
    """Who planned and what it cost: the planning cost and the estimate to run before the plan finishes, the
    total after (planning is all a plan spends on models: its steps make no model calls)."""
    cost = cost_text(Decimal(plan.cost_usd), known=plan.cost_known)
    if plan.planner == "alias" and not plan.cost_usd and plan.cost_known:
        return f"{ALIAS_PLANNED} · no model cost"
    if plan.planner == "rules":
        who = f"Planned by rules (degraded mode: {plan.degraded_reason})" if plan.degraded_reason else (
            "Planned by rules (degraded mode)")
        if not plan.cost_usd and plan.cost_known:
            return f"{who} · no model cost"
    else:
        who = f"Planned by {model or 'the model'} · {plan.tokens_in + plan.tokens_out:,} tokens"
    if plan.status in _FINISHED:
        return f"{who} · total cost {cost}"
    return f"{who} · planning cost {cost} · {RUN_ESTIMATE}"


def step_blocks(plan: PlanRecord, step: StepRecord) -> list[dict[str, Any]]:
    preview = clip(step.preview, PREVIEW_LIMIT, more=f"(full text: `/baton audit {plan.id}`)")
    header = f"*{step.idx + 1}. {inert_mrkdwn(step.description)}*"
    if step.depends_on:
        header += "  _(after " + ", ".join(str(d + 1) for d in step.depends_on) + ")_"
    context = [RISK_BADGE.get(step.risk, step.risk)]
    if step.at_most_once:
        context.append(AT_MOST_ONCE_BADGE)
    if step.parked is not None and step.status == "running":
        context.append(waiting_text(step.parked))
    elif plan.status != "pending" or not step.selected:
        context.append(STEP_STATUS.get(step.status, step.status) if step.selected else ":no_entry_sign: left out")
    if step.error and not (step.settled_as and step.status not in ("failed", "outcome_unknown")):
        # (an error a person has since settled is history: the audit keeps it)
        context.append(clip(f"error: {step.error}", 300))
    if step.settled_as:
        context.append(settled_note(step))
    return [
        {"type": "section", "text": mrkdwn(header + "\n" + _quote(preview))},
        {"type": "context", "elements": [mrkdwn(" · ".join(context))]},
    ]


#: A parked step on its card: what it waits for, when it is tried next (in the reader's time zone), which try.
WAITING = ":hourglass: waiting to retry: {reason}; next try at {at}, attempt {attempt}"


def waiting_text(wait: StepWait) -> str:
    """The status of a step an outage parked: the error, its next try and that try's number (its first run
    was attempt 1, each park adds one)."""
    at = f"<!date^{int(wait.retry_at.timestamp())}^{{time}}|{wait.retry_at:%H:%M} UTC>"
    return WAITING.format(reason=clip(wait.reason, 200), at=at, attempt=wait.parks + 1)


def plan_card(plan: PlanRecord, *, model: str | None = None, now: datetime | None = None,
              plan_blocks: bool = False) -> list[dict[str, Any]]:
    """The interactive plan message: steps with previews and risk, cost, and (while pending) buttons.

    With ``plan_blocks`` (``BATON_SLACK_PLAN_BLOCKS``) an approved plan's steps are one ``plan`` block of tasks
    (``slackui.plan_progress``) instead of a section and a context block each."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": plain(readable_refs(plan.title), HEADER_TEXT)},
        {
            "type": "section",
            "text": mrkdwn(
                f"{inert_mrkdwn(plan.rationale)}\n\nRequested by <@{plan.requester_id}> · plan #{plan.id}"
            ),
        },
    ]
    if shows_plan_block(plan, enabled=plan_blocks):
        blocks.append(plan_block(plan))
    else:
        for step in plan.steps:
            blocks += step_blocks(plan, step)
    blocks.append(
        {
            "type": "context",
            "elements": [mrkdwn(f"{RISK_BADGE.get(plan.risk, plan.risk)} overall · {_cost_line(plan, model=model)}")],
        }
    )
    blocks.append({"type": "divider"})
    blocks.append({"type": "section", "text": mrkdwn(status_line(plan))})
    if plan.status == "pending":
        value = str(plan.id)
        blocks.append(
            {
                "type": "actions",
                "block_id": f"plan_actions_{plan.id}",
                "elements": [
                    {
                        "type": "button",
                        "action_id": APPROVE,
                        "style": "primary",
                        "value": value,
                        "text": plain("Approve", 75),
                    },
                    {
                        "type": "button",
                        "action_id": REJECT,
                        "style": "danger",
                        "value": value,
                        "text": plain("Reject", 75),
                    },
                    {"type": "button", "action_id": REVIEW, "value": value, "text": plain("Review steps", 75)},
                ],
            }
        )
    return blocks[:50]


def status_line(plan: PlanRecord) -> str:
    status = PLAN_STATUS.get(plan.status, plan.status)
    unknown = [step for step in plan.steps if step.status == "outcome_unknown"]
    if plan.status == "running" and unknown:
        return (f"*{status}* · waiting for a person: the outcome of step {unknown[0].idx + 1} is unknown "
                "(see the thread)")
    if plan.status == "pending":
        epoch = int(plan.expires_at.timestamp())
        fallback = f"{plan.expires_at:%Y-%m-%d %H:%M} UTC"
        return f"*{status}* · expires <!date^{epoch}^{{date_short_pretty}} at {{time}}|{fallback}>"
    if plan.auto_approved:
        return f"*{status}* · ran without approval (all steps low risk, by policy)"
    if plan.decided_by:
        verb = "Rejected" if plan.status == "rejected" else "Approved"
        text = f"*{status}* · {verb} by <@{plan.decided_by}>"
        if plan.decision_reason:
            text += (
                f": {_quote(clip(plan.decision_reason, 500))}"
                if "\n" in plan.decision_reason
                else f": “{clip(plan.decision_reason, 500)}”"
            )
        return text
    return f"*{status}*"


def card_text(plan: PlanRecord) -> str:
    """Notification / fallback text of the card."""
    return clip(f"Plan #{plan.id}: {plan.title} — {PLAN_STATUS.get(plan.status, plan.status)}", 300)


def card_message(plan: PlanRecord, *, model: str, plan_blocks: bool = False) -> dict[str, Any]:
    """The card as a message's ``text`` and ``blocks``: what is posted and what every update sends."""
    return {"text": card_text(plan), "blocks": plan_card(plan, model=model, plan_blocks=plan_blocks)}


def reject_modal(plan: PlanRecord) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": REJECT_MODAL,
        "private_metadata": str(plan.id),
        "title": plain("Reject plan", 24),
        "submit": plain("Reject", 24),
        "close": plain("Cancel", 24),
        "blocks": [
            {
                "type": "section",
                "text": mrkdwn(f"Reject *{inert_mrkdwn(clip(plan.title, 200))}* (plan #{plan.id})?"),
            },
            {
                "type": "input",
                "block_id": "reason",
                "optional": True,
                "label": plain("Reason (optional)", 2000),
                "element": {"type": "plain_text_input", "action_id": "reason", "multiline": True, "max_length": 500},
            },
        ],
    }


def review_modal(plan: PlanRecord) -> dict[str, Any]:
    options = [
        {
            "text": plain(f"{step.idx + 1}. {step.description}", 75),
            "description": plain(RISK_BADGE.get(step.risk, step.risk).split(" ", 1)[1], 75),
            "value": str(step.idx),
        }
        for step in plan.steps
    ]
    return {
        "type": "modal",
        "callback_id": REVIEW_MODAL,
        "private_metadata": str(plan.id),
        "title": plain("Review steps", 24),
        "submit": plain("Approve selected", 24),
        "close": plain("Cancel", 24),
        "blocks": [
            {
                "type": "section",
                "text": mrkdwn(
                    f"Untick the steps you don't want, then approve *{inert_mrkdwn(clip(plan.title, 200))}*."
                ),
            },
            {
                "type": "input",
                "block_id": "steps",
                "label": plain("Steps to run", 2000),
                "element": {"type": "checkboxes", "action_id": "steps", "options": options, "initial_options": options},
            },
            *_full_arguments(plan),
        ],
    }


def _full_arguments(plan: PlanRecord) -> list[dict[str, Any]]:
    """Each MCP tool step's arguments in full (the card clips long values), a section per step."""
    blocks: list[dict[str, Any]] = []
    for step in plan.steps:
        if step.pin is None or not step.args:
            continue
        server, _, tool = step.action.partition(".")
        head = f"*{step.idx + 1}. {step.description}* — tool `{tool}` on the MCP server `{server}`"
        if step.at_most_once:
            head += f"\n{AT_MOST_ONCE_BADGE}"
        text = "\n".join([head, *argument_lines(step.args, limit=None)])
        # A value longer than a section goes on in the next one (arguments are bounded when planned).
        blocks += [{"type": "section", "text": mrkdwn(text[start : start + SECTION_TEXT])}
                   for start in range(0, len(text), SECTION_TEXT)]
    return blocks[: MODAL_BLOCKS - 2]
