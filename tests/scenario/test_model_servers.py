"""The model client against servers that differ from OpenAI (the fake's profiles): what Baton learns about each,
once per model and shared through Redis, and the configuration error when a pinned form is rejected."""

from __future__ import annotations

import pytest

from core import defaults
from core.model_capabilities import Capabilities
from prompts import render
from tests.fakes.openai_profiles import GRAMMAR_MAX_REPETITIONS
from tests.fakes.openai_state import ErrorAnswer
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
        "output limit via max_tokens)"
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


def test_a_server_ignoring_max_completion_tokens_is_noticed_and_gets_max_tokens(fake_openai, redis_conn):
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
    assert ignored.finish_reason == "stop" and ignored.data == long_answer
    assert bounded.finish_reason == "length" and bounded.data is None
    assert bounded.error == "the reply was cut off at the output token limit"


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
