"""Answers streamed as the model writes them: a question in an assistant thread that memory can answer gets the
model's answer through chat.startStream / appendStream / stopStream (slack_sdk's ChatStream), once."""

from __future__ import annotations

import pytest

from slackui import replies
from workers.job_context import install
from workers.planning.request import plan_request

ANSWER = (
    "Deploys freeze on **Thursdays** now; it was Fridays until the change on the 2nd. "
    "The freeze starts at noon and lasts until Monday morning, so plan releases for Tuesday or Wednesday. "
    "Hotfixes still go out during the freeze with an approval from the on-call lead, as the team agreed. "
)  # longer than two of the stream's buffers: it is started, appended to, then stopped


@pytest.fixture
def llm_bot(bot, fake_openai, db):
    bot.setting_changes = {"openai_api_key": fake_openai.api_key, "openai_base_url": fake_openai.base_url}
    db.execute(
        "INSERT INTO memories (team_id, scope, text) VALUES ('T0LOCAL', 'workspace', 'deploys freeze on Thursdays')"
    )
    return bot


def ask_in_thread(bot, text):
    dm, ts, _ = bot.slack.open_assistant_thread("U0ALICE", looking_at="C0GENERAL")
    bot.run_jobs(wait_for=1)  # the greeting
    bot.slack.post_as_user("U0ALICE", dm, text, thread_ts=ts)
    bot.run_jobs(wait_for=1)
    return dm, ts


def stream_calls(bot):
    return [c for c in bot.slack.calls if c.method in ("chat.startStream", "chat.appendStream", "chat.stopStream")]


def test_a_question_in_an_assistant_thread_is_answered_as_the_model_streams(llm_bot, fake_openai, db):
    fake_openai.queue_chat(ANSWER, usage={"prompt_tokens": 120, "completion_tokens": 20, "total_tokens": 140})
    dm, ts = ask_in_thread(llm_bot, "when do deploys freeze?")

    request = fake_openai.chat_requests[0].body
    assert request["stream"] is True and request["stream_options"] == {"include_usage": True}
    assert "deploys freeze on Thursdays" in request["messages"][-1]["content"]
    methods = [c.method for c in stream_calls(llm_bot)]
    assert methods[0] == "chat.startStream" and methods[-1] == "chat.stopStream"
    assert methods.count("chat.appendStream") >= 1  # it grew in Slack while the model wrote
    answers = [m for m in llm_bot.slack.messages(dm) if m.get("thread_ts") == ts and ANSWER in (m.get("text") or "")]
    assert len(answers) == 1 and answers[0]["text"] == ANSWER
    request_row = db.execute("SELECT id, status FROM requests").fetchone()
    assert request_row["status"] == "answered"
    assert answers[0]["metadata"]["event_payload"]["key"] == f"answer:{request_row['id']}"
    assert db.execute("SELECT count(*) AS n FROM plans").fetchone()["n"] == 0
    call = db.execute("SELECT purpose, ok, input_tokens, output_tokens FROM llm_calls").fetchone()
    assert (call["purpose"], call["ok"], call["input_tokens"], call["output_tokens"]) == ("answer", True, 120, 20)

    # A re-run of the job after the answer landed (the worker died before it settled the request) streams nothing.
    db.execute("UPDATE requests SET status = 'received' WHERE id = %s", (request_row["id"],))
    install(llm_bot.context(**llm_bot.setting_changes))
    assert plan_request(request_row["id"]) == "answered"
    assert [c.method for c in stream_calls(llm_bot)] == methods
    assert len(fake_openai.chat_requests) == 1


def test_a_question_memory_cannot_answer_is_planned_as_before(llm_bot, fake_openai, db):
    fake_openai.queue_chat({"title": "t", "rationale": "r", "steps": [], "cannot_plan_reason": "nothing to do"})
    ask_in_thread(llm_bot, "who won the football yesterday?")
    assert stream_calls(llm_bot) == []
    assert fake_openai.chat_requests[0].body["response_format"]["type"] == "json_schema"  # the planner's call


def test_outside_an_assistant_thread_questions_are_planned_as_before(llm_bot, fake_openai, db):
    fake_openai.queue_chat({"title": "t", "rationale": "r", "steps": [], "cannot_plan_reason": "nothing to do"})
    llm_bot.slack.post_as_user("U0ALICE", "C0GENERAL", "<@U0BATON> when do deploys freeze?")
    llm_bot.run_jobs(wait_for=1)
    assert stream_calls(llm_bot) == []


def test_an_answer_the_model_breaks_off_says_so_and_is_still_answered_once(llm_bot, fake_openai, db):
    fake_openai.queue_chat(ANSWER, cut_after=20)  # 160 characters arrive, then the connection drops
    dm, ts = ask_in_thread(llm_bot, "when do deploys freeze?")
    answers = [
        m for m in llm_bot.slack.messages(dm) if m.get("thread_ts") == ts and "Thursdays" in (m.get("text") or "")
    ]
    assert len(answers) == 1
    assert answers[0]["text"].startswith(ANSWER[:160]) and ANSWER not in answers[0]["text"]
    assert answers[0]["text"].endswith(replies.ANSWER_CUT_SHORT)
    assert db.execute("SELECT status FROM requests").fetchone()["status"] == "answered"
    call = db.execute("SELECT purpose, ok, error FROM llm_calls").fetchone()
    assert call["purpose"] == "answer" and not call["ok"] and call["error"]
    assert [c.method for c in stream_calls(llm_bot)][-1] == "chat.stopStream"
