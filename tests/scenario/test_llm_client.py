"""The LLM client on its own, against the fake OpenAI server."""

from __future__ import annotations

from decimal import Decimal

import pytest
from openai import OpenAI

from core.budgets import Budgets, Spend
from core.pricing import PriceTable
from memory.llm_calls import REFUSED_PREFIX
from prompts import render
from workers.llm.cache import CachedReply
from workers.llm.client import (
    BudgetExceeded,
    CallScope,
    Conversation,
    LLMCallRecord,
    LLMClient,
    LLMUnavailable,
    parse_json_object,
)
from workers.llm.guard import BudgetGuard

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


# -- budgets, fallback, cache, prices ------------------------------------------------------------------------


class DictCache:
    """An in-memory ResponseCache (the Redis one is covered in test_llm_cost.py)."""

    def __init__(self) -> None:
        self.entries: dict[str, CachedReply] = {}

    def get(self, key: str) -> CachedReply | None:
        return self.entries.get(key)

    def put(self, key: str, reply: CachedReply) -> None:
        self.entries[key] = reply


def client(fake_openai, calls, **options) -> LLMClient:
    options.setdefault("model", "gpt-4.1-mini")
    return LLMClient(api_key=fake_openai.api_key, base_url=fake_openai.base_url, timeout=2.0, max_retries=0,
                     recorder=calls.append, **options)


def test_a_budget_stops_the_call_before_it_is_made(fake_openai, calls):
    scope = CallScope(team_id="T1", channel_id="C1", user_id="U1", request_id=5)
    used_up = Spend(channel_day_usd=Decimal("0.01"))
    guard = BudgetGuard(Budgets(channel_day_usd=Decimal("0.01")), spend=lambda s: used_up)
    llm = client(fake_openai, calls, scope=scope, guard=guard, fallback_model="gpt-4o")
    fake_openai.queue_chat({"answer": "never sent"})

    with pytest.raises(BudgetExceeded) as caught:
        ask(llm)

    assert isinstance(caught.value, LLMUnavailable), "every caller's degraded path catches it"
    assert "per-channel daily model budget" in caught.value.reason
    assert "an operator can raise BATON_BUDGET_CHANNEL_DAY_USD" in caught.value.reason
    assert fake_openai.chat_requests == [] and fake_openai.pending == 1, "no request, and no fallback either"
    [record] = calls
    assert (record.ok, record.input_tokens, record.cost_usd, record.channel_id, record.user_id, record.request_id) == (
        False, 0, Decimal(0), "C1", "U1", 5)
    assert record.error == REFUSED_PREFIX + caught.value.reason


def test_the_fallback_model_answers_when_the_primary_keeps_failing(fake_openai, calls):
    fake_openai.queue_error(500, message="overloaded")
    fake_openai.queue_chat({"answer": "from the fallback"})
    llm = client(fake_openai, calls, fallback_model="gpt-4o")

    reply = ask(llm)

    assert reply.data == {"answer": "from the fallback"} and reply.model == "gpt-4o"
    assert [r.body["model"] for r in fake_openai.chat_requests] == ["gpt-4.1-mini", "gpt-4o"]
    failed, answered = calls
    assert (failed.model, failed.ok, failed.error, failed.fallback_from) == (
        "gpt-4.1-mini", False, "the model API is failing (500)", None)
    assert (answered.model, answered.ok, answered.fallback_from) == ("gpt-4o", True, "gpt-4.1-mini")


@pytest.mark.parametrize("status", [401, 403])
def test_no_fallback_when_the_key_is_refused(fake_openai, calls, status):
    fake_openai.queue_error(status)
    fake_openai.queue_chat({"answer": "unused"})
    with pytest.raises(LLMUnavailable):
        ask(client(fake_openai, calls, fallback_model="gpt-4o"))
    assert len(fake_openai.chat_requests) == 1 and len(calls) == 1


def test_both_failing_is_unavailable_with_the_fallbacks_reason(fake_openai, calls):
    fake_openai.queue_error(500)
    fake_openai.queue_error(503)
    with pytest.raises(LLMUnavailable, match=r"failing \(503\)"):
        ask(client(fake_openai, calls, fallback_model="gpt-4o"))
    assert [c.model for c in calls] == ["gpt-4.1-mini", "gpt-4o"]


def test_a_replayable_call_is_answered_from_the_cache_the_second_time(fake_openai, calls):
    cache = DictCache()
    llm = client(fake_openai, calls, cache=cache, cacheable={"meeting_chunk"})
    fake_openai.queue_chat({"answer": "42"}, usage={"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110})

    first = ask_for(llm, "meeting_chunk")
    second = ask_for(llm, "meeting_chunk")

    assert len(fake_openai.chat_requests) == 1
    assert second.data == first.data == {"answer": "42"} and second.cache_hit and not first.cache_hit
    assert (second.usage.tokens, second.cost_usd) == (0, Decimal(0))
    assert [(c.cache_hit, c.input_tokens, c.cost_usd) for c in calls] == [
        (False, 100, Decimal("0.000056")), (True, 0, Decimal(0))]
    fake_openai.queue_chat({"answer": "43"})
    assert ask_for(llm, "meeting_chunk", model="gpt-4o").data == {"answer": "43"}, "another model, another key"


def test_plans_and_unusable_answers_are_never_cached(fake_openai, calls):
    cache = DictCache()
    llm = client(fake_openai, calls, cache=cache, cacheable={"meeting_chunk"})
    fake_openai.queue_chat({"answer": "a plan"})
    fake_openai.queue_chat({"answer": "a plan again"})
    fake_openai.queue_chat("not json")
    ask_for(llm, "plan")
    assert ask_for(llm, "plan").data == {"answer": "a plan again"}
    ask_for(llm, "meeting_chunk")
    assert cache.entries == {} and len(fake_openai.chat_requests) == 3


def test_a_model_without_a_price_works_and_its_cost_is_unknown(fake_openai, calls):
    fake_openai.queue_chat({"answer": "x"}, usage={"prompt_tokens": 1000, "completion_tokens": 50,
                                                   "total_tokens": 1050})
    reply = ask(client(fake_openai, calls, model="llama3:8b"))
    assert reply.data == {"answer": "x"} and not reply.usage.cost_known
    assert (calls[0].cost_usd, calls[0].cost_known, calls[0].input_tokens) == (Decimal(0), False, 1000)
    fake_openai.queue_chat({"answer": "y"}, usage={"prompt_tokens": 1_000_000, "completion_tokens": 0,
                                                   "total_tokens": 1_000_000})
    table = PriceTable.from_entries([("llama3:8b", "1", "0", "2")])
    priced = client(fake_openai, calls, model="llama3:8b", prices=table)
    assert ask(priced).cost_usd == Decimal("1.000000") and calls[-1].cost_known


def test_cached_prompt_tokens_are_recorded_and_billed_at_the_cached_rate(fake_openai, calls):
    usage = {"prompt_tokens": 1000, "completion_tokens": 200, "total_tokens": 1200,
             "prompt_tokens_details": {"cached_tokens": 400}}
    fake_openai.queue_chat({"answer": "x"}, usage=usage)
    reply = ask(client(fake_openai, calls, model="gpt-4o-mini"))
    assert (reply.usage.cached_tokens, reply.cost_usd) == (400, Decimal("0.000240"))
    assert calls[0].cached_tokens == 400


def ask_for(llm: LLMClient, purpose: str, **kwargs):
    prompt = render("repair_plan.j2", problems=["p"], previous_reply="r")
    return llm.complete_json(purpose=purpose, prompt=prompt, schema_name="answer", schema=SCHEMA, team_id="T1",
                             **kwargs)
