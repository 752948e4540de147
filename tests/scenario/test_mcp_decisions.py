"""A person settles an MCP step whose outcome is unknown (It happened / Run it again / Skip), and re-plans a plan
whose tool changed since approval: signed clicks through the real endpoint, the test MCP server
(tests/fakes/mcp_server.py) counting every call, real Postgres and Redis."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import quote

import pytest

from core.mcp_config import McpConfig
from memory import effects, plans
from slackui import plan_card, step_question
from tests.scenario.loop_helpers import audit_kinds, card_text, click, ephemerals_to, eventually, posts_in
from tests.scenario.test_admin import answer
from tests.scenario.test_mcp_connector import calls, stdio_server
from tests.scenario.test_mcp_loop import ask, plan_json, tool_step
from tests.scenario.test_outbox import _busy, _run_scheduled

FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def mcp_bot(bot, fake_openai, tmp_path):
    bot.setting_changes = {
        "openai_api_key": fake_openai.api_key,
        "openai_base_url": fake_openai.base_url,
        "mcp_servers": McpConfig(servers={"fake": stdio_server(tmp_path)}),
    }
    return bot


def the_plan(db: Any, n: int = 0) -> dict[str, Any]:
    return db.execute("SELECT * FROM plans ORDER BY id").fetchall()[n]


def steps_of(db: Any, plan_id: int) -> list[dict[str, Any]]:
    return db.execute("SELECT * FROM plan_steps WHERE plan_id = %s ORDER BY idx", (plan_id,)).fetchall()


def interrupted(bot: Any, fake_openai: Any, db: Any, *, second: dict[str, Any]) -> tuple[dict[str, Any], dict]:
    """A two-step plan whose first step (an at-most-once ``append_line``) was interrupted: what a worker killed
    during the call leaves (tests/scenario/test_mcp_loop.py kills a real one), resumed into outcome unknown.
    Returns the plan and the thread message that asks."""
    fake_openai.queue_chat(
        plan_json(tool_step("fake.append_line", {"text": "deploy"}, "Log the deploy"), second, title="Deploy log")
    )
    ask(bot, "log the deploy, then announce it")
    plan = the_plan(db)
    click(bot, "U0BOB", plan, plan_card.APPROVE)
    assert eventually(lambda: the_plan(db)["status"] == "approved")
    now = bot.clock.now()
    assert plans.move_plan(db, plan["id"], event="start", frm="approved", now=now)
    assert plans.claim_step(db, plan["id"], 0, now=now, lease_until=now) == "claim"
    effects.claim(db, key=effects.step_key(plan["id"], 0), plan_id=plan["id"], step_idx=0, action="fake.append_line")
    bot.clock.advance(seconds=60)
    bot.run_jobs(wait_for=1)
    first = steps_of(db, plan["id"])[0]
    assert first["status"] == "outcome_unknown" and first["asked_ts"]
    assert the_plan(db)["status"] == "running"  # waiting for a person, not failed
    question = next(m for m in bot.slack.messages(plan["card_channel"]) if m.get("ts") == first["asked_ts"])
    return plan, question


def second_step(text: str, *, after_first: bool = False) -> dict[str, Any]:
    step = tool_step("fake.append_line", {"text": text}, f"Log {text}")
    step["depends_on"] = [0] if after_first else []
    return step


def press(bot: Any, user: str, plan: dict[str, Any], question: dict[str, Any], action_id: str) -> Any:
    return bot.slack.click(user, channel=plan["card_channel"], message_ts=question["ts"], action_id=action_id)


def test_the_question_shows_the_tool_and_arguments_and_nothing_runs_until_someone_decides(
    mcp_bot, fake_openai, db, tmp_path
):
    plan, question = interrupted(mcp_bot, fake_openai, db, second=second_step("announce"))
    text = json.dumps(question["blocks"])
    assert "Outcome unknown" in text and "append_line" in text and "`fake`" in text and "`text`: deploy" in text
    assert [e["text"]["text"] for e in question["blocks"][-1]["elements"]] == ["It happened", "Run it again", "Skip"]
    assert question["thread_ts"] == plan["thread_ts"] or question["thread_ts"] == plan["card_ts"]
    assert "waiting for a person" in card_text(mcp_bot, plan)
    assert "*Outcome unknown*: 1 step waiting for a person" in answer(mcp_bot, "status", user="U0BOB")
    mcp_bot.clock.advance(minutes=10)
    mcp_bot.run_jobs()  # the recovery pass leaves an asked plan to its people
    assert calls(tmp_path) == []
    assert the_plan(db)["status"] == "running"
    # Someone who may not approve this high-risk plan (its requester) is refused, privately; nothing changes.
    press(mcp_bot, "U0ALICE", plan, question, step_question.HAPPENED)
    assert eventually(lambda: any("You can't decide this" in t for t in ephemerals_to(mcp_bot, "U0ALICE")))
    assert steps_of(db, plan["id"])[0]["status"] == "outcome_unknown"
    assert "step.click_refused" in audit_kinds(db, plan["id"])


def test_it_happened_records_the_step_as_done_by_that_person_and_the_plan_continues(mcp_bot, fake_openai, db, tmp_path):
    plan, question = interrupted(mcp_bot, fake_openai, db, second=second_step("announce", after_first=True))
    assert press(mcp_bot, "U0BOB", plan, question, step_question.HAPPENED).status == 200
    mcp_bot.run_jobs(wait_for=1)
    assert calls(tmp_path) == ["append announce"]  # the first step is not called again; the second runs
    first = steps_of(db, plan["id"])[0]
    assert (first["status"], first["settled_as"], first["settled_by"]) == ("succeeded", "happened", "U0BOB")
    assert (
        db.execute("SELECT status FROM effects WHERE key = %s", (effects.step_key(plan["id"], 0),)).fetchone()["status"]
        == "done"
    )
    assert the_plan(db)["status"] == "succeeded"
    report = posts_in(mcp_bot, "C0GENERAL", containing="Done:")
    assert len(report) == 1 and "Log the deploy — confirmed by <@U0BOB>" in report[0]["text"]
    assert "confirmed by <@U0BOB>" in card_text(mcp_bot, plan)
    updated = next(m for m in mcp_bot.slack.messages(plan["card_channel"]) if m["ts"] == question["ts"])
    assert "<@U0BOB> confirmed it happened" in json.dumps(updated["blocks"])
    assert not any(b.get("type") == "actions" for b in updated["blocks"])
    assert "step.settled_happened" in audit_kinds(db, plan["id"])


def question_click_body(plan: dict[str, Any], question: dict[str, Any], *, user: str, action_id: str) -> str:
    """The signed-able body of one press of a thread message's button, as first posted (for a double click)."""
    button = next(e for e in question["blocks"][-1]["elements"] if e["action_id"] == action_id)
    payload = {
        "type": "block_actions",
        "team": {"id": "T0LOCAL", "domain": "local"},
        "user": {"id": user, "username": "bob", "name": "bob", "team_id": "T0LOCAL"},
        "api_app_id": "A0BATON",
        "container": {"type": "message", "message_ts": question["ts"], "channel_id": plan["card_channel"]},
        "channel": {"id": plan["card_channel"], "name": "general"},
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": question["blocks"][-1]["block_id"],
                "value": button["value"],
                "action_ts": "1700000000.000002",
                "text": {"type": "plain_text", "text": button["text"]["text"]},
            }
        ],
        "response_url": "http://127.0.0.1:9/hooks/none",
    }
    return "payload=" + quote(json.dumps(payload))


def test_run_it_again_calls_the_tool_once_more_under_a_fresh_key_even_when_double_clicked(
    mcp_bot, fake_openai, db, tmp_path
):
    plan, question = interrupted(mcp_bot, fake_openai, db, second=second_step("announce", after_first=True))
    body = question_click_body(plan, question, user="U0BOB", action_id=step_question.RERUN)
    assert mcp_bot.post_signed(body, content_type=FORM).status == 200
    assert mcp_bot.post_signed(body, content_type=FORM).status == 200  # double click / replayed request
    assert eventually(lambda: any("Already decided" in t for t in ephemerals_to(mcp_bot, "U0BOB")))
    mcp_bot.run_jobs(wait_for=1)
    mcp_bot.run_jobs()
    assert calls(tmp_path) == ["append deploy", "append announce"]  # once more, exactly once
    first = steps_of(db, plan["id"])[0]
    assert (first["status"], first["rerun"], first["settled_as"]) == ("succeeded", 1, "rerun")
    keys = [r["key"] for r in db.execute("SELECT key FROM effects WHERE step_idx = 0 ORDER BY key").fetchall()]
    assert keys == [effects.step_key(plan["id"], 0), effects.step_key(plan["id"], 0, 1)]
    assert the_plan(db)["status"] == "succeeded"
    report = posts_in(mcp_bot, "C0GENERAL", containing="Done:")
    assert len(report) == 1 and "run again at <@U0BOB>'s request" in report[0]["text"]
    # A press on the old question (round 0) after the decision changes nothing.
    assert mcp_bot.post_signed(body, content_type=FORM).status == 200
    mcp_bot.run_jobs()
    assert calls(tmp_path) == ["append deploy", "append announce"]


def test_skip_marks_the_step_skipped_and_the_plan_continues_without_it(mcp_bot, fake_openai, db, tmp_path):
    plan, question = interrupted(mcp_bot, fake_openai, db, second=second_step("announce"))
    press(mcp_bot, "U0BOB", plan, question, step_question.SKIP)
    mcp_bot.run_jobs(wait_for=1)
    assert calls(tmp_path) == ["append announce"]
    first = steps_of(db, plan["id"])[0]
    assert (first["status"], first["settled_by"]) == ("skipped", "U0BOB")
    assert the_plan(db)["status"] == "succeeded"
    report = posts_in(mcp_bot, "C0GENERAL", containing="Done:")
    assert len(report) == 1 and "skipped by <@U0BOB>" in report[0]["text"]
    assert "skipped by <@U0BOB>" in card_text(mcp_bot, plan)


def test_re_plan_after_a_tool_changed_makes_a_new_plan_with_the_current_definition(mcp_bot, fake_openai, db, tmp_path):
    fake_openai.queue_chat(plan_json(tool_step("fake.changing", {"value": "x"}, "Change x")))
    ask(mcp_bot, "change x")
    plan = the_plan(db)
    (tmp_path / "description.txt").write_text("Version two.")
    click(mcp_bot, "U0BOB", plan, plan_card.APPROVE)
    mcp_bot.run_jobs(wait_for=1)
    assert the_plan(db)["status"] == "failed" and calls(tmp_path) == []
    offer = posts_in(mcp_bot, "C0GENERAL", containing=":warning: Step 1 of plan")
    assert len(offer) == 1 and "Re-plan" in json.dumps(offer[0]["blocks"])
    old_pin = steps_of(db, plan["id"])[0]["pin"]
    fake_openai.queue_chat(plan_json(tool_step("fake.changing", {"value": "x"}, "Change x, again")))
    body_user = "U0BOB"
    mcp_bot.slack.click(
        body_user, channel=plan["card_channel"], message_ts=offer[0]["ts"], action_id=step_question.REPLAN
    )
    mcp_bot.run_jobs(wait_for=1)
    replanned = the_plan(db, 1)
    assert replanned["status"] == "pending" and replanned["card_ts"]
    assert replanned["thread_ts"] == the_plan(db)["thread_ts"]
    new_step = steps_of(db, replanned["id"])[0]
    assert new_step["pin"] != old_pin and len(new_step["pin"]) == 64
    # The model saw the tool as it is now.
    assert "Version two." in fake_openai.chat_requests[-1].body["messages"][0]["content"]
    assert "asked for a new plan" in json.dumps(
        next(m for m in mcp_bot.slack.messages(plan["card_channel"]) if m["ts"] == offer[0]["ts"])["blocks"]
    )
    # Another press (a replayed request) makes no third plan, and the presser is told.
    body = question_click_body(plan, offer[0], user=body_user, action_id=step_question.REPLAN)
    assert mcp_bot.post_signed(body, content_type=FORM).status == 200
    assert eventually(lambda: any("already asked for" in t for t in ephemerals_to(mcp_bot, body_user)))
    mcp_bot.run_jobs()
    assert db.execute("SELECT count(*) AS n FROM plans").fetchone()["n"] == 2


def test_the_question_whose_turn_in_the_channel_is_later_is_asked_at_its_turn_without_a_sleeping_worker(
    mcp_bot, fake_openai, db
):
    fake_openai.queue_chat(plan_json(tool_step("fake.append_line", {"text": "deploy"}, "Log the deploy"),
                                     title="Deploy log"))
    ask(mcp_bot, "log the deploy")
    plan = the_plan(db)
    click(mcp_bot, "U0BOB", plan, plan_card.APPROVE)
    assert eventually(lambda: the_plan(db)["status"] == "approved")
    now = mcp_bot.clock.now()
    assert plans.move_plan(db, plan["id"], event="start", frm="approved", now=now)
    assert plans.claim_step(db, plan["id"], 0, now=now, lease_until=now) == "claim"
    effects.claim(db, key=effects.step_key(plan["id"], 0), plan_id=plan["id"], step_idx=0, action="fake.append_line")
    mcp_bot.clock.advance(seconds=60)
    mcp_bot.post_interval = 2.0
    _busy(mcp_bot, the_plan(db)["card_channel"])
    start = time.monotonic()
    mcp_bot.run_jobs(wait_for=1)
    assert time.monotonic() - start < 1.5  # the question's turn is 2 s away: nobody slept for it
    assert steps_of(db, plan["id"])[0]["status"] == "outcome_unknown" and not steps_of(db, plan["id"])[0]["asked_ts"]

    _run_scheduled(mcp_bot, queue_name="actions")

    first = steps_of(db, plan["id"])[0]
    assert first["asked_ts"]
    asked = [m for m in mcp_bot.slack.messages(plan["card_channel"]) if (m.get("metadata") or {}).get(
        "event_payload", {}).get("key", "").startswith(f"step-question:{plan['id']}:")]
    assert [m["ts"] for m in asked] == [first["asked_ts"]]
