"""The LLM client on its own, against the fake OpenAI server."""

from __future__ import annotations

from decimal import Decimal

import pytest
from openai import OpenAI

from prompts import render
from workers.llm import Conversation, LLMCallRecord, LLMClient, LLMUnavailable, parse_json_object

SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}}


def ask(llm: LLMClient, **kwargs):
    prompt = render("repair_plan.j2", problems=["p"], previous_reply="r")
    return llm.complete_json(purpose="test", prompt=prompt, schema_name="answer", schema=SCHEMA, team_id="T1", **kwargs)


@pytest.fixture
def calls() -> list[LLMCallRecord]:
    return []


@pytest.fixture
def llm(fake_openai, calls) -> LLMClient:
    return LLMClient(
        api_key=fake_openai.api_key,
        base_url=fake_openai.base_url,
        model="gpt-4.1-mini",
        timeout=2.0,
        recorder=calls.append,
    )


def test_reply_carries_data_raw_usage_and_cost(fake_openai, llm, calls):
    fake_openai.queue_chat({"answer": "42"}, usage={"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110})

    reply = ask(llm, plan_id=7)

    assert reply.data == {"answer": "42"} and reply.raw == '{"answer": "42"}'
    assert (reply.usage.input_tokens, reply.usage.cached_tokens, reply.usage.output_tokens) == (100, 0, 10)
    assert reply.cost_usd == Decimal("0.000056")  # 100 * 0.40 + 10 * 1.60 per million
    assert reply.model == "gpt-4.1-mini" and reply.finish_reason == "stop" and reply.latency_ms >= 0
    [record] = calls
    assert (record.plan_id, record.template, record.ok) == (7, "repair_plan.j2", True)


def test_a_model_override_and_a_conversation(fake_openai, llm):
    fake_openai.queue_chat({"answer": "x"})
    first = render("repair_plan.j2", problems=["a"], previous_reply="b")
    conversation = Conversation.from_prompts(first, first)

    llm.complete_json(
        purpose="t", prompt=conversation, schema_name="answer", schema=SCHEMA, team_id="T1", model="gpt-4o"
    )

    body = fake_openai.chat_requests[0].body
    assert body["model"] == "gpt-4o" and len(body["messages"]) == 2


@pytest.mark.parametrize(
    ("content", "kwargs", "error"),
    [
        ("Sure! {", {}, "the reply was not a JSON object"),
        ('["a list"]', {}, "the reply was not a JSON object"),
        ("", {}, "the reply was empty"),
        ('{"answer": "cut', {"finish_reason": "length"}, "the reply was cut off at the output token limit"),
        (None, {"refusal": "I can't help with that."}, "the model refused: I can't help with that."),
    ],
)
def test_unusable_content_is_a_reply_without_data(fake_openai, llm, calls, content, kwargs, error):
    fake_openai.queue_chat(content, **kwargs)
    reply = ask(llm)
    assert reply.data is None and reply.error == error
    assert calls[0].ok is False and calls[0].error == error


def test_a_fenced_json_reply_is_accepted():
    assert parse_json_object('```json\n{"a": 1}\n```') == {"a": 1}
    assert parse_json_object("not json") is None


def test_a_retry_after_beyond_the_sdk_cap_is_not_waited_for(fake_openai, llm, calls):
    fake_openai.queue_error(429, retry_after=600)
    with pytest.raises(LLMUnavailable) as caught:
        ask(llm)
    assert caught.value.reason == "the model API is rate limiting Baton (429)"
    assert caught.value.retry_after == 600
    assert len(fake_openai.chat_requests) == 1 and calls[0].ok is False


def test_a_bad_request_is_unavailable_with_the_servers_message(fake_openai, llm):
    fake_openai.queue_error(404, message="The model `gpt-x` does not exist.")
    with pytest.raises(LLMUnavailable, match=r"refused the request \(404: The model `gpt-x` does not exist.\)"):
        ask(llm)


def test_no_server_is_a_connection_failure(calls):
    llm = LLMClient(
        api_key="k", base_url="http://127.0.0.1:9/v1", model="m", timeout=1.0, max_retries=0, recorder=calls.append
    )
    with pytest.raises(LLMUnavailable, match="could not connect to the model API"):
        ask(llm)
    assert calls[0].error == "could not connect to the model API"


def test_an_injected_sdk_client_gets_our_timeout_and_retries(fake_openai):
    with OpenAI(api_key=fake_openai.api_key, base_url=fake_openai.base_url) as sdk:
        llm = LLMClient(api_key=None, base_url=None, model="m", timeout=0.3, max_retries=0, openai_client=sdk)
        fake_openai.queue_timeout(5)
        with pytest.raises(LLMUnavailable, match=r"did not answer within 0\.3s"):
            ask(llm)
        assert len(fake_openai.chat_requests) == 1
