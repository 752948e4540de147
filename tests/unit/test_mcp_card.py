"""The plan card and review modal for MCP steps: server and tool, arguments as a list (long values clipped on
the card, in full in the review modal), the "at most once" badge; and the outcome-unknown question."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from core.mcp_tools import argument_lines
from core.plan_records import PlanRecord, StepRecord
from slackui import plan_card, step_question

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
LONG = "line of the release notes " * 40


def step(idx: int, *, at_most_once: bool, status: str = "pending", **changes: object) -> StepRecord:
    args = {"repo_path": "/srv/repo", "message": LONG, "files": ["a.txt", "b.txt"]}
    preview = "Call the MCP tool `git_commit` on the server `git`:\n" + "\n".join(argument_lines(args, limit=200))
    values: dict[str, object] = dict(
        plan_id=7,
        idx=idx,
        action="git.git_commit",
        args=args,
        description="Commit the notes",
        depends_on=[],
        preview=preview,
        risk="medium",
        read_only=False,
        compensable=False,
        selected=True,
        status=status,
        attempts=0,
        lease_until=None,
        result=None,
        error=None,
        pin="a" * 64,
        at_most_once=at_most_once,
    )
    values.update(changes)
    return StepRecord(**values)  # type: ignore[arg-type]


def plan(*steps: StepRecord, status: str = "pending") -> PlanRecord:
    return PlanRecord(
        id=7,
        request_id=1,
        team_id="T0",
        channel_id="C0",
        channel_type="channel",
        thread_ts="1.0",
        requester_id="U0ALICE",
        title="Commit",
        rationale="Asked.",
        planner="llm",
        risk="medium",
        status=status,
        card_channel="C0",
        card_ts="2.0",
        expires_at=NOW + timedelta(hours=1),
        decided_by=None,
        decided_at=None,
        decision_reason=None,
        auto_approved=False,
        tokens_in=0,
        tokens_out=0,
        cost_usd=Decimal(0),
        created_at=NOW,
        steps=steps,
    )


def test_the_card_shows_server_tool_a_clipped_argument_list_and_the_badge_only_where_it_applies():
    card = json.dumps(
        plan_card.plan_card(plan(step(0, at_most_once=True), step(1, at_most_once=False))), ensure_ascii=False
    )
    assert "`git_commit` on the server `git`" in card and "• `repo_path`: /srv/repo" in card
    assert '• `files`: [\\"a.txt\\", \\"b.txt\\"]' in card
    assert LONG not in card and LONG[:150] in card
    assert card.count("at most once") == 1


def test_the_review_modal_has_every_argument_in_full():
    modal = json.dumps(plan_card.review_modal(plan(step(0, at_most_once=True))), ensure_ascii=False)
    assert json.dumps(LONG)[1:-1] in modal and "at most once" in modal


def test_the_question_and_the_settled_message():
    unknown = step(0, at_most_once=True, status="outcome_unknown", error="the worker stopped during the call")
    asked = step_question.question_message(plan(unknown, status="running"), unknown)
    buttons = asked["blocks"][-1]["elements"]
    assert [b["action_id"] for b in buttons] == [step_question.HAPPENED, step_question.RERUN, step_question.SKIP]
    assert {b["value"] for b in buttons} == {"7:0:0"}
    assert step_question.parse_decision_value("7:0:0") == (7, 0, 0)
    assert step_question.parse_decision_value("7") is None and step_question.parse_decision_value("a:b:c") is None
    assert "waiting for a person" in plan_card.status_line(plan(unknown, status="running"))
    done = step(0, at_most_once=True, status="succeeded", settled_as="happened", settled_by="U0BOB")
    assert step_question.settled_note(done) == "confirmed by <@U0BOB> (its outcome was unknown)"
    settled = step_question.settled_message(plan(done, status="running"), done, decision="happened", user="U0BOB")
    assert not any(b["type"] == "actions" for b in settled["blocks"])
