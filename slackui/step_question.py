"""Block Kit (pure) for the thread messages that ask a person about one step of a running plan.

- *Outcome unknown*: an at-most-once call was interrupted, so it may or may not have happened. The message
  shows the tool and its arguments and offers *It happened* / *Run it again* / *Skip*; once someone decides,
  it is replaced by what they decided and who they are.
- *Tool changed*: an MCP tool's definition differs from the one the plan was approved with, so the step did not
  run; *Re-plan* plans the original request again with the tools as they are now (a new card to approve).

Button values carry ``<plan>:<step>:<round>`` (the round is the step's ``rerun`` count), so a click on an older
question than the step's current one is refused as stale.
"""

from __future__ import annotations

from typing import Any

from core.mcp_tools import argument_lines
from core.plan_records import PlanRecord, Settlement, StepRecord
from slackui.limits import SECTION_TEXT, clip, mrkdwn, plain

HAPPENED, RERUN, SKIP = "step_happened", "step_rerun", "step_skip"
REPLAN = "plan_replan"
#: Button -> the decision it records.
DECISIONS: dict[str, Settlement] = {HAPPENED: "happened", RERUN: "rerun", SKIP: "skipped"}
#: How long one argument value may be in a list of arguments before it is clipped.
ARGUMENT_CHARS = 200

OUTCOME_UNKNOWN_TITLE = ":grey_question: *Outcome unknown*"
SETTLED = {
    "happened": ":white_check_mark: <@{user}> confirmed it happened; the plan continues.",
    "rerun": ":repeat: <@{user}> asked to run it again; running it once more.",
    "skipped": ":fast_forward: <@{user}> skipped it; the plan continues without it.",
}
#: After the step, on the card and in the report.
SETTLED_NOTE = {
    "happened": "confirmed by <@{user}> (its outcome was unknown)",
    "rerun": "run again at <@{user}>'s request (its first outcome was unknown)",
    "skipped": "skipped by <@{user}> (its outcome was unknown)",
}
REPLANNING = (
    ":arrows_counterclockwise: <@{user}> asked for a new plan with the tools as they are now; it follows below."
)


def decision_value(plan_id: int, idx: int, rerun: int) -> str:
    """A button's value naming the step and the round it asks about."""
    return f"{plan_id}:{idx}:{rerun}"


def parse_decision_value(value: Any) -> tuple[int, int, int] | None:
    """``(plan, step, round)`` from a button's value, or None if it is not one of ours."""
    parts = str(value or "").split(":")
    if len(parts) != 3 or not all(part.isdigit() for part in parts):
        return None
    return int(parts[0]), int(parts[1]), int(parts[2])


def _step_text(step: StepRecord) -> str:
    server, _, tool = step.action.partition(".")
    lines = [f"*{step.idx + 1}. {step.description}*", f"Tool `{tool}` on the MCP server `{server}`"]
    lines += argument_lines(step.args, limit=ARGUMENT_CHARS) or ["_no arguments_"]
    return "\n".join(lines)


def question_message(plan: PlanRecord, step: StepRecord) -> dict[str, Any]:
    """The message asking whether an interrupted at-most-once call happened."""
    why = f"\n_{clip(step.error, 500)}_" if step.error else ""
    intro = (
        f"{OUTCOME_UNKNOWN_TITLE} in plan #{plan.id}: this call was interrupted, so it may or may not have "
        f"happened. I won't repeat it by myself; check, then tell me what to do.{why}"
    )
    value = decision_value(plan.id, step.idx, step.rerun)
    buttons = [
        {"type": "button", "action_id": HAPPENED, "style": "primary", "value": value, "text": plain("It happened", 75)},
        {"type": "button", "action_id": RERUN, "value": value, "text": plain("Run it again", 75)},
        {"type": "button", "action_id": SKIP, "value": value, "text": plain("Skip", 75)},
    ]
    return {
        "text": clip(
            f"Outcome unknown: step {step.idx + 1} of plan #{plan.id} ({step.action}). "
            "It happened / Run it again / Skip?",
            300,
        ),
        "blocks": [
            {"type": "section", "text": mrkdwn(intro)},
            {"type": "section", "text": mrkdwn(_step_text(step), SECTION_TEXT)},
            {"type": "actions", "block_id": f"step_decision_{plan.id}_{step.idx}", "elements": buttons},
        ],
    }


def settled_message(plan: PlanRecord, step: StepRecord, *, decision: str, user: str) -> dict[str, Any]:
    """The question once decided: what was decided and by whom, no buttons."""
    outcome = SETTLED.get(decision, decision).format(user=user)
    return {
        "text": clip(f"Outcome unknown: step {step.idx + 1} of plan #{plan.id} ({step.action}). {outcome}", 300),
        "blocks": [
            {"type": "section", "text": mrkdwn(f"{OUTCOME_UNKNOWN_TITLE} in plan #{plan.id}\n{_step_text(step)}")},
            {"type": "context", "elements": [mrkdwn(outcome)]},
        ],
    }


def settled_note(step: StepRecord) -> str:
    """How a person settled ``step``'s unknown outcome, for the card and the report ('' when nobody did)."""
    if not step.settled_as or not step.settled_by:
        return ""
    return SETTLED_NOTE.get(step.settled_as, step.settled_as).format(user=step.settled_by)


def tool_changed_message(plan: PlanRecord, step: StepRecord, *, reason: str) -> dict[str, Any]:
    """The refusal of a step whose tool changed since approval, with a button to plan the request again."""
    text = f":warning: Step {step.idx + 1} of plan #{plan.id} did not run: {reason}"
    return {
        "text": clip(text, 300),
        "blocks": [
            {"type": "section", "text": mrkdwn(text)},
            {
                "type": "actions",
                "block_id": f"plan_replan_{plan.id}",
                "elements": [
                    {
                        "type": "button",
                        "action_id": REPLAN,
                        "style": "primary",
                        "value": decision_value(plan.id, step.idx, step.rerun),
                        "text": plain("Re-plan", 75),
                    }
                ],
            },
        ],
    }


def replanned_message(plan: PlanRecord, step: StepRecord, *, reason: str, user: str) -> dict[str, Any]:
    """The tool-changed message once someone asked for a new plan."""
    text = f":warning: Step {step.idx + 1} of plan #{plan.id} did not run: {reason}"
    return {
        "text": clip(text, 300),
        "blocks": [
            {"type": "section", "text": mrkdwn(text)},
            {"type": "context", "elements": [mrkdwn(REPLANNING.format(user=user))]},
        ],
    }
