"""Requests keep their meaning: the people and channels a request mentions reach the planner (only Baton's
own mention is dropped, and the model is told who they are), and the rules planner sends the message, not
the words that introduced it."""

from __future__ import annotations

import json

import pytest

from tests.scenario.loop_helpers import ask_baton_shortcut_body, plan_row


@pytest.fixture
def llm_bot(bot, fake_openai):
    bot.setting_changes = {"openai_api_key": fake_openai.api_key, "openai_base_url": fake_openai.base_url}
    return bot


def ask(bot, text, *, channel="C0GENERAL"):
    delivery = bot.slack.post_as_user("U0ALICE", channel, text)
    assert all(r.status == 200 for r in delivery.responses)
    bot.run_jobs(wait_for=1)
    return delivery


def steps(db):
    return db.execute("SELECT action, args FROM plan_steps ORDER BY plan_id, idx").fetchall()


def request_text(db):
    return db.execute("SELECT text FROM requests").fetchone()["text"]


def test_a_task_for_a_mentioned_person_is_owned_by_them(bot, db):
    ask(bot, "<@U0BATON> create a task for <@U0BOB> to write the report")
    assert request_text(db) == "create a task for <@U0BOB> to write the report"
    assert plan_row(db)["planner"] == "rules"
    assert steps(db) == [
        {"action": "tasks.create", "args": {"title": "Write the report", "owner": "U0BOB", "due_date": None}}
    ]


def test_a_message_to_a_mentioned_person_is_a_direct_message_to_them(bot, db):
    ask(bot, "<@U0BATON> send lunch is here to <@U0BOB>")
    [step] = steps(db)
    assert step["action"] == "slack.post_message"
    assert (step["args"]["channel"], step["args"]["text"]) == ("U0BOB", "lunch is here")


def test_the_model_sees_the_mentioned_people_and_channels_by_name_and_id(llm_bot, fake_openai, db):
    fake_openai.queue_chat({"title": "Nothing", "rationale": "-", "steps": [], "cannot_plan_reason": "Just looking."})
    ask(llm_bot, "<@U0BATON> ask <@U0BOB> to post the numbers in <#C0OPS>")
    assert request_text(db) == "ask <@U0BOB> to post the numbers in <#C0OPS>"
    prompt = json.dumps(fake_openai.chat_requests[0].body["messages"])
    assert "ask <@U0BOB> to post the numbers in <#C0OPS>" in prompt
    assert "<@U0BOB>: Bob Example" in prompt
    assert "<#C0OPS>: #ops" in prompt
    assert "U0BATON" not in prompt.split("The request to plan")[1]


def test_the_ask_baton_shortcut_keeps_the_people_the_message_mentions(llm_bot, fake_openai, db):
    fake_openai.queue_chat({"title": "Nothing", "rationale": "-", "steps": [], "cannot_plan_reason": "Just looking."})
    text = "<@U0BOB> can you take the on-call handover from <@U0ALICE>?"
    delivery = llm_bot.slack.post_as_user("U0BOB", "C0GENERAL", text)
    body = ask_baton_shortcut_body(
        user="U0ALICE", channel="C0GENERAL", author="U0BOB", ts=delivery.ts, text=text, trigger="1.T0LOCAL.mention"
    )
    assert llm_bot.post_signed(body, content_type="application/x-www-form-urlencoded").status == 200
    llm_bot.run_jobs(wait_for=1)
    assert request_text(db) == text


def test_the_rules_planner_posts_the_message_without_its_lead_in(bot, db):
    ask(bot, "<@U0BATON> post a message to <#C0OPS|ops> saying hi")
    [step] = steps(db)
    assert (step["action"], step["args"]["channel"], step["args"]["text"]) == ("slack.post_message", "C0OPS", "hi")
