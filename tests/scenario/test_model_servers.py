"""The model client against servers that differ from OpenAI (the fake's profiles): what Baton learns about each,
once per model and shared through Redis, and the configuration error when a pinned form is rejected."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest

from core import defaults
from core.model_capabilities import Capabilities
from core.status import ModelHealth
from prompts import render
from slackui.admin_views import render_status
from tests.fakes.openai_profiles import GRAMMAR_MAX_REPETITIONS, PROFILES
from tests.fakes.openai_state import ErrorAnswer
from tests.scenario.loop_helpers import card_text
from tests.scenario.meeting_helpers import MONDAY, meeting_row, set_clock, tick, upload
from tests.scenario.test_digests import configure, digest_posts
from workers.admin_status import gather_status
from workers.llm.capabilities import ModelCapabilities, RedisCapabilityStore
from workers.llm.client import LLMCallRecord, LLMClient, LLMUnavailable

SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "string", "maxLength": 4000}},
    "required": ["answer"],
    "additionalProperties": False,
}


def client(fake_openai, redis_conn, calls: list[LLMCallRecord], **pins: str) -> LLMClient:
    """A client as a worker builds it: capabilities in Redis (what one process learns, the next one knows)."""
    store = RedisCapabilityStore(redis_conn, ttl_seconds=defaults.LLM_CAPABILITIES_TTL_SECONDS)
    return LLMClient(
        api_key=fake_openai.api_key,
        base_url=fake_openai.base_url,
        model="gemma-3-270m",
        timeout=2.0,
        max_retries=2,
        recorder=calls.append,
        capabilities=ModelCapabilities(base_url=fake_openai.base_url, store=store, **pins),
    )


def ask(llm: LLMClient, purpose: str = "digest"):
    prompt = render("repair_plan.j2", problems=["p"], previous_reply="r")
    return llm.complete_json(purpose=purpose, prompt=prompt, schema_name="answer", schema=SCHEMA, team_id="T1")


def sent(fake_openai) -> list[tuple[str | None, str]]:
    """(response_format type, limit parameter) of each chat request, in order."""
    return [
        (
            (r.body.get("response_format") or {}).get("type"),
            "max_completion_tokens" if "max_completion_tokens" in r.body else "max_tokens",
        )
        for r in fake_openai.chat_requests
    ]


def test_llama_cpp_python_rejects_the_schema_once_and_every_process_then_asks_for_json_object(fake_openai, redis_conn):
    fake_openai.profile = "llama-cpp-python"
    fake_openai.queue_chat({"answer": "first"})
    fake_openai.queue_chat({"answer": "second"})
    calls: list[LLMCallRecord] = []

    first = ask(client(fake_openai, redis_conn, calls))
    second = ask(client(fake_openai, redis_conn, calls))  # another process: a fresh client, the same Redis

    assert (first.data, second.data) == ({"answer": "first"}, {"answer": "second"})
    # The 500 naming json_schema is not retried (the SDK would try 3 times): one request, then the weaker form.
    assert sent(fake_openai) == [
        ("json_schema", "max_tokens"),
        ("json_object", "max_tokens"),
        ("json_object", "max_tokens"),
    ]
    body = fake_openai.chat_requests[1].body
    assert body["max_tokens"] == defaults.DIGEST_INTRO_OUTPUT_TOKENS
    assert '"answer"' in body["messages"][-1]["content"]  # the schema is shown to the model instead
    assert [c.ok for c in calls] == [False, True, True]
    assert calls[0].error == (
        "the model server rejected structured output (json_schema) for gemma-3-270m; set "
        "BATON_LLM_STRUCTURED=json_object (Baton now sends structured output json_object, "
        "output limit via max_tokens, streamed)"
    )


def test_a_pinned_form_the_server_rejects_is_a_configuration_error_without_retries(fake_openai, redis_conn):
    fake_openai.profile = "llama-cpp-python"
    calls: list[LLMCallRecord] = []

    with pytest.raises(LLMUnavailable) as raised:
        ask(client(fake_openai, redis_conn, calls, structured="json_schema"))

    assert raised.value.config_error and raised.value.status == 500
    assert raised.value.reason == (
        "the model server rejected structured output (json_schema) for gemma-3-270m; set "
        "BATON_LLM_STRUCTURED=json_object (it is pinned to json_schema)"
    )
    assert len(fake_openai.chat_requests) == 1 and [c.error for c in calls] == [raised.value.reason]


def test_a_reasoning_model_gets_max_completion_tokens_after_it_names_it(fake_openai, redis_conn):
    fake_openai.profile = "reasoning"
    fake_openai.queue_chat({"answer": "ok"})

    assert ask(client(fake_openai, redis_conn, [])).data == {"answer": "ok"}
    assert sent(fake_openai) == [("json_schema", "max_tokens"), ("json_schema", "max_completion_tokens")]


def test_a_server_ignoring_max_completion_tokens_is_stopped_at_the_limit_and_gets_max_tokens(fake_openai, redis_conn):
    # What was learned elsewhere (or a stale entry) says max_completion_tokens; this server ignores it.
    store = RedisCapabilityStore(redis_conn, ttl_seconds=60)
    ModelCapabilities(base_url=fake_openai.base_url, store=store).learn(
        "gemma-3-270m", Capabilities(limit_param="max_completion_tokens")
    )
    fake_openai.profile = "llama-cpp-python"
    long_answer = {"answer": "word " * 2000}  # ~2,500 tokens against a limit of 300
    fake_openai.queue_chat({"answer": "-"})
    fake_openai.queue_chat(long_answer)
    fake_openai.queue_chat(long_answer)
    llm = client(fake_openai, redis_conn, [])

    ask(llm)  # learns json_object (the schema is rejected) keeping max_completion_tokens
    ignored = ask(llm)
    bounded = ask(llm)

    assert sent(fake_openai)[1:] == [
        ("json_object", "max_completion_tokens"),
        ("json_object", "max_completion_tokens"),
        ("json_object", "max_tokens"),
    ]
    # Streamed, the reply that ignored the limit was stopped there (a piece is at least a token), not read whole.
    limit = defaults.DIGEST_INTRO_OUTPUT_TOKENS
    assert ignored.finish_reason == "length" and ignored.data is None
    assert limit < ignored.usage.output_tokens <= limit + 9 and len(ignored.raw) < len(json.dumps(long_answer)) / 3
    assert bounded.finish_reason == "length" and bounded.data is None
    assert bounded.error == ignored.error == "the reply was cut off at the output token limit"


def test_a_grammar_engine_takes_baton_schemas_because_their_bounds_are_not_sent(fake_openai, redis_conn):
    fake_openai.profile = "grammar"
    fake_openai.queue_chat({"answer": "ok"})
    assert SCHEMA["properties"]["answer"]["maxLength"] > GRAMMAR_MAX_REPETITIONS  # would not compile if sent

    assert ask(client(fake_openai, redis_conn, [])).data == {"answer": "ok"}
    assert sent(fake_openai) == [("json_schema", "max_tokens")]


def test_a_server_that_takes_no_structured_output_at_all_gets_plain_text(fake_openai, redis_conn):
    def plain_only(body):
        if body.get("response_format") is not None:
            return ErrorAnswer(400, "response_format is not supported by this server")
        return None

    fake_openai.respond_with(plain_only)
    fake_openai.queue_chat('```json\n{"answer": "ok"}\n```')

    assert ask(client(fake_openai, redis_conn, [])).data == {"answer": "ok"}
    assert sent(fake_openai) == [("json_schema", "max_tokens"), ("json_object", "max_tokens"), (None, "max_tokens")]


# -- the planning, meeting and digest paths on each server profile ----------------------------------------------
PLAN = {
    "title": "Release",
    "rationale": "Because you asked.",
    "cannot_plan_reason": None,
    "steps": [
        {
            "action": "slack.post_message",
            "args": {"channel": "C0OPS", "text": "Release 1.2 is out", "in_thread": False},
            "description": "Post the news",
            "depends_on": [],
        }
    ],
}
NOTES = {
    "summary": ["The team planned the billing page launch."],
    "decisions": [{"text": "Ship the beta to all customers next month", "evidence_turn": 2}],
    "open_questions": [],
    "action_items": [
        {"task": "Send the launch checklist", "owner_name": "Alice", "due_text": "by Friday", "evidence_turn": 3}
    ],
}
INTRO = {"intro": "A busy Monday: the release went out and the launch has its checklist."}


def scripted_model(body: dict) -> dict:
    """Answers each purpose by the schema it was asked for, whichever way the server was sent it."""
    sent_text = json.dumps(body)
    if "cannot_plan_reason" in sent_text:
        return PLAN
    if "evidence_turn" in sent_text:
        return NOTES
    return INTRO


@pytest.mark.parametrize("profile", ["openai", "llama-cpp-python", "grammar", "reasoning", "slow", "no-stream-options"])
def test_planning_meeting_notes_and_the_digest_are_written_by_the_model_on_every_server(profile, bot, db, fake_openai):
    fake_openai.profile = profile
    fake_openai.respond_with(scripted_model)
    bot.setting_changes = {
        "openai_api_key": fake_openai.api_key,
        "openai_base_url": fake_openai.base_url,
        "embedding_provider": "none",
    }
    set_clock(bot, MONDAY - timedelta(hours=3))
    configure(bot)
    set_clock(bot, MONDAY)

    bot.slack.post_as_user("U0ALICE", "C0GENERAL", "<@U0BATON> post Release 1.2 is out to <#C0OPS|ops>")
    bot.run_jobs(wait_for=1)
    upload(bot)
    set_clock(bot, MONDAY + timedelta(days=1, hours=-1, minutes=-59))
    tick(bot)

    [plan] = db.execute("SELECT * FROM plans WHERE kind = 'request'").fetchall()
    assert plan["planner"] == "llm" and "Planned by" in card_text(bot, plan)
    assert meeting_row(db)["mode"] == "llm"
    assert "the launch has its checklist" in json.dumps(digest_posts(bot)[0]["blocks"])
    answered = {row["purpose"] for row in db.execute("SELECT purpose FROM llm_calls WHERE ok")}
    assert {"plan", "meeting_notes", "digest"} <= answered
    # What Baton learned: each rejection was seen once (never retried, never repeated by a later call) and every
    # request carried an output limit in a parameter the server honours.
    forms = sent(fake_openai)
    honoured = PROFILES[profile].honours
    rejected = [f for f in forms if f[0] == "json_schema"] if profile == "llama-cpp-python" else []
    assert len(rejected) <= 1
    assert all(limit in honoured for _, limit in forms[1:]) and len(forms) >= 3
    assert all(r.body.get(limit) for r, (_, limit) in zip(fake_openai.chat_requests, forms, strict=True))
    failed = [row["error"] for row in db.execute("SELECT error FROM llm_calls WHERE NOT ok ORDER BY id")]
    rejections = {"openai": 0, "grammar": 0, "slow": 0, "llama-cpp-python": 1, "reasoning": 1, "no-stream-options": 1}
    assert len(failed) == rejections[profile], failed
    # Streamed wherever the server streams (a rejection of stream_options is learned once, like any other).
    streamed = [bool(r.body.get("stream")) for r in fake_openai.chat_requests]
    first, then = (True, False) if profile == "no-stream-options" else (True, True)
    assert streamed == [first] + [then] * (len(streamed) - 1)


def test_a_rejected_pinned_form_reaches_the_card_log_and_status_with_what_to_set(bot, db, fake_openai, caplog):
    fake_openai.profile = "llama-cpp-python"
    bot.setting_changes = {
        "openai_api_key": fake_openai.api_key,
        "openai_base_url": fake_openai.base_url,
        "llm_structured": "json_schema",
        "chat_model": "gemma-3-270m",
    }

    bot.slack.post_as_user("U0ALICE", "C0GENERAL", "<@U0BATON> post Release 1.2 is out to <#C0OPS|ops>")
    bot.run_jobs(wait_for=1)

    why = (
        "the model server rejected structured output (json_schema) for gemma-3-270m; set "
        "BATON_LLM_STRUCTURED=json_object (it is pinned to json_schema)"
    )
    [plan] = db.execute("SELECT * FROM plans").fetchall()
    assert plan["planner"] == "rules" and plan["degraded_reason"] == why
    card = card_text(bot, plan)
    assert f"Planned by rules (degraded mode: {why})" in card and "no language model" not in card
    assert len(fake_openai.chat_requests) == 1  # a configuration error is neither retried nor sent to a fallback
    assert f"planning falls back to the rules planner: {why}" in caplog.text

    # /baton status (the web process's settings name the model; here it is the same gathering and rendering)
    facts = gather_status(
        db, team_id="T0LOCAL", channel_id=None, now=bot.clock.now(), redis_url=None, chat_model="gemma-3-270m"
    )
    status = render_status(facts)
    assert "*Model*: `gemma-3-270m`, no answer in the last 24 h" in status
    assert "last call failed" in status and "(plan on `gemma-3-270m`): " + why in status
    unconfigured = render_status(replace(facts, model=ModelHealth(None)))
    assert "*Model*: none configured: degraded mode" in unconfigured


def test_a_pinned_choice_is_not_kept_as_learned(fake_openai, redis_conn):
    fake_openai.profile = "reasoning"
    fake_openai.queue_chat({"answer": "ok"})
    ask(client(fake_openai, redis_conn, [], structured="json_object"))  # learns the limit, with the form pinned

    unpinned = client(fake_openai, redis_conn, []).capabilities.for_model("gemma-3-270m")
    assert (unpinned.structured, unpinned.limit_param) == ("json_schema", "max_completion_tokens")
