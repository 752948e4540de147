"""The fake OpenAI API, exercised through the real ``openai`` SDK over real HTTP."""

from __future__ import annotations

import base64
import json
import math
import struct
import time
from collections.abc import Iterator
from typing import Any

import openai
import pydantic
import pytest
from openai import OpenAI
from openai.types.chat import ChatCompletionFunctionToolParam, ChatCompletionMessageParam

from tests.fakes import openai_fixtures
from tests.fakes.openai_api import EMPTY_QUEUE_MESSAGE, ChatReply, ErrorAnswer, FakeOpenAI
from tests.fakes.openai_app import EMBEDDING_MODELS
from tests.fakes.openai_fixtures import FAKE_OPENAI_API_KEY

# Bound here so this module runs on its own; a conftest offering the same fixtures is shadowed only here.
fake_openai_server = openai_fixtures.fake_openai_server
fake_openai = openai_fixtures.fake_openai

PROMPT = "Summarise the incident in #ops."
USER: list[ChatCompletionMessageParam] = [{"role": "user", "content": PROMPT}]


class Verdict(pydantic.BaseModel):
    risk: str
    steps: list[str]


@pytest.fixture
def client(fake_openai: FakeOpenAI) -> Iterator[OpenAI]:
    with OpenAI(base_url=fake_openai.base_url, api_key=FAKE_OPENAI_API_KEY, max_retries=0, timeout=2.0) as c:
        yield c


def _chat(client: OpenAI, **kwargs: Any) -> Any:
    return client.chat.completions.create(model=kwargs.pop("model", "gpt-test"), messages=USER, **kwargs)


def _raw_chat(client: OpenAI, body: dict[str, Any]) -> Any:
    """Post an arbitrary body through the SDK's own transport, bypassing its typed parameters."""
    return client.post("/chat/completions", body=body, cast_to=object)


def _cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


# -- chat completions ------------------------------------------------------------------------------------


def test_plain_reply_is_a_real_chat_completion(fake_openai: FakeOpenAI, client: OpenAI) -> None:
    fake_openai.queue_chat("All quiet on #ops.")

    reply = _chat(client)

    assert reply.object == "chat.completion"
    assert reply.id.startswith("chatcmpl-")
    assert reply.model == "gpt-test"
    assert reply.system_fingerprint
    choice = reply.choices[0]
    assert (choice.message.role, choice.message.content, choice.message.refusal) == (
        "assistant",
        "All quiet on #ops.",
        None,
    )
    assert choice.message.tool_calls is None
    assert choice.finish_reason == "stop"


def test_model_and_finish_reason_can_be_overridden(fake_openai: FakeOpenAI, client: OpenAI) -> None:
    fake_openai.queue_chat("cut", model="gpt-other-2025", finish_reason="length")

    reply = _chat(client)

    assert (reply.model, reply.choices[0].finish_reason) == ("gpt-other-2025", "length")


def test_json_schema_reply_is_parsed_by_the_sdk(fake_openai: FakeOpenAI, client: OpenAI) -> None:
    fake_openai.queue_chat({"risk": "low", "steps": ["post summary"]})

    reply = client.chat.completions.parse(model="gpt-test", messages=USER, response_format=Verdict)

    assert reply.choices[0].message.parsed == Verdict(risk="low", steps=["post summary"])
    sent = fake_openai.chat_requests[0].body["response_format"]
    assert sent["type"] == "json_schema"
    assert sent["json_schema"]["name"] == "Verdict"


def test_tool_calls_reply(fake_openai: FakeOpenAI, client: OpenAI) -> None:
    tools = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]
    fake_openai.queue_chat(
        tool_calls=[
            {"name": "lookup", "arguments": {"q": "incident"}},
            {"name": "lookup", "arguments": "{bad"},
        ]
    )
    fake_openai.queue_chat("done")

    first = _chat(client, tools=tools, tool_choice="auto")

    message = first.choices[0].message
    assert first.choices[0].finish_reason == "tool_calls"
    assert message.content is None
    assert [c.id for c in message.tool_calls] == ["call_1", "call_2"]
    assert [c.function.name for c in message.tool_calls] == ["lookup", "lookup"]
    assert json.loads(message.tool_calls[0].function.arguments) == {"q": "incident"}
    assert message.tool_calls[1].function.arguments == "{bad"
    follow_up = [
        *USER,
        message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": "call_1", "content": "found"},
        {"role": "tool", "tool_call_id": "call_2", "content": "error"},
    ]
    second = client.chat.completions.create(model="gpt-test", messages=follow_up, tools=tools)  # type: ignore[arg-type]
    assert second.choices[0].message.content == "done"


def test_usage_is_estimated_from_characters(fake_openai: FakeOpenAI, client: OpenAI) -> None:
    fake_openai.queue_chat("x" * 10)

    usage = _chat(client).usage

    assert usage is not None
    assert usage.prompt_tokens == math.ceil(len(PROMPT) / 4)
    assert usage.completion_tokens == 3
    assert usage.total_tokens == usage.prompt_tokens + 3
    assert usage.prompt_tokens_details.cached_tokens == 0
    assert usage.completion_tokens_details.reasoning_tokens == 0


def test_usage_can_be_overridden(fake_openai: FakeOpenAI, client: OpenAI) -> None:
    fake_openai.queue_chat("hi", usage={"prompt_tokens": 7, "completion_tokens": 1, "total_tokens": 8})

    assert _chat(client).usage.total_tokens == 8


def test_invalid_json_content_is_delivered_as_is(fake_openai: FakeOpenAI, client: OpenAI) -> None:
    fake_openai.queue_invalid_json_content()
    fake_openai.queue_invalid_json_content("not json at all")

    content = _chat(client).choices[0].message.content
    with pytest.raises(json.JSONDecodeError):
        json.loads(content)
    with pytest.raises(pydantic.ValidationError):
        client.chat.completions.parse(model="gpt-test", messages=USER, response_format=Verdict)
    with pytest.raises(ValueError, match="valid JSON"):
        fake_openai.queue_invalid_json_content('{"ok": true}')


# -- request validation -----------------------------------------------------------------------------------

_TOOL: ChatCompletionFunctionToolParam = {
    "type": "function",
    "function": {"name": "lookup", "parameters": {"type": "object"}},
}


def _req(**fields: Any) -> dict[str, Any]:
    return {"model": "m", "messages": USER, **fields}


def _schema_format(**spec: Any) -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": spec}


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"messages": USER}, "model"),
        (_req(messages=[]), "messages"),
        (_req(messages=[{"role": "robot", "content": "hi"}]), "role"),
        (_req(messages=[{"role": "user"}]), "content"),
        (_req(messages=[{"role": "tool", "content": "x"}]), "tool_call_id"),
        (_req(tools=[{"type": "function", "function": {}}]), "name"),
        (_req(tools=[{"type": "web", "function": {"name": "x"}}]), "type"),
        (_req(tool_choice="auto"), "tools"),
        (_req(tools=[_TOOL], tool_choice="sometimes"), "tool_choice"),
        (_req(tools=[_TOOL], tool_choice={"type": "function", "function": {"name": "nope"}}), "nope"),
        (_req(response_format={"type": "yaml"}), "response_format"),
        (_req(response_format={"type": "json_object"}), "json"),
        (_req(response_format=_schema_format(schema={})), "name"),
        (_req(response_format=_schema_format(name="v")), "schema"),
        (_req(stream="yes"), "stream"),
        (_req(stream_options={"include_usage": True}), "stream_options"),
    ],
)
def test_malformed_requests_get_400(
    fake_openai: FakeOpenAI,
    client: OpenAI,
    body: dict[str, Any],
    fragment: str,
) -> None:
    fake_openai.queue_chat("never sent")

    with pytest.raises(openai.BadRequestError) as caught:
        _raw_chat(client, body)

    assert caught.value.status_code == 400
    assert caught.value.type == "invalid_request_error"
    assert fragment in caught.value.message
    assert fake_openai.pending == 1, "an invalid request must not consume a scripted answer"


def test_a_streamed_reply_arrives_in_pieces_with_its_usage_last(fake_openai: FakeOpenAI, client: OpenAI) -> None:
    fake_openai.queue_chat("The freeze is on Thursdays.", usage={"prompt_tokens": 30, "completion_tokens": 7,
                                                                 "total_tokens": 37})
    chunks = list(client.chat.completions.create(model="m", messages=USER, stream=True,
                                                 stream_options={"include_usage": True}))
    pieces = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(pieces) > 1 and "".join(pieces) == "The freeze is on Thursdays."
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 37


def test_a_stream_can_break_off_mid_answer(fake_openai: FakeOpenAI, client: OpenAI) -> None:
    fake_openai.queue_chat("The freeze is on Thursdays.", cut_after=2)
    got = []
    with pytest.raises(openai.APIConnectionError):  # the SDK's error for a body that ends early
        for chunk in client.chat.completions.create(model="m", messages=USER, stream=True):
            got.append(chunk.choices[0].delta.content)
    assert got == ["The free", "ze is on"]


def test_well_formed_extras_are_accepted(fake_openai: FakeOpenAI, client: OpenAI) -> None:
    fake_openai.queue_chat('{"a": 1}')
    messages: list[ChatCompletionMessageParam] = [
        {"role": "developer", "content": "Answer in JSON."},
        {"role": "user", "content": [{"type": "text", "text": "go"}]},
    ]

    reply = client.chat.completions.create(
        model="gpt-test",
        messages=messages,
        tools=[_TOOL],
        tool_choice={"type": "function", "function": {"name": "lookup"}},
        response_format={"type": "json_object"},
    )

    assert reply.choices[0].message.content == '{"a": 1}'


# -- faults -----------------------------------------------------------------------------------------------


def test_empty_queue_fails_clearly_and_at_once(fake_openai: FakeOpenAI) -> None:
    with (
        OpenAI(base_url=fake_openai.base_url, api_key=FAKE_OPENAI_API_KEY) as default_retries,
        pytest.raises(openai.InternalServerError, match=EMPTY_QUEUE_MESSAGE) as caught,
    ):
        _chat(default_retries)

    assert caught.value.status_code == 500
    assert len(fake_openai.chat_requests) == 1, "the fake tells the SDK not to retry an empty queue"


def test_wrong_api_key_gets_401(fake_openai: FakeOpenAI) -> None:
    fake_openai.queue_chat("never sent")
    with (
        OpenAI(base_url=fake_openai.base_url, api_key="sk-wrong-key-123", max_retries=0) as wrong,
        pytest.raises(openai.AuthenticationError) as caught,
    ):
        _chat(wrong)

    assert caught.value.status_code == 401
    assert caught.value.code == "invalid_api_key"
    assert "sk-wrong-key-123" not in caught.value.message
    assert fake_openai.pending == 1


def test_rate_limit_carries_retry_after(fake_openai: FakeOpenAI, client: OpenAI) -> None:
    fake_openai.queue_error(429, retry_after=7, message="slow down")

    with pytest.raises(openai.RateLimitError) as caught:
        _chat(client)

    assert caught.value.status_code == 429
    assert caught.value.response.headers["retry-after"] == "7"
    assert caught.value.message == "Error code: 429 - slow down", "the SDK prefixes the body's message"
    assert caught.value.code == "rate_limit_exceeded"
    assert caught.value.body == {
        "message": "slow down",
        "type": "requests",
        "param": None,
        "code": "rate_limit_exceeded",
    }


def test_sdk_retries_after_rate_limit_then_succeeds(fake_openai: FakeOpenAI) -> None:
    fake_openai.queue_error(429, retry_after=0.01)
    fake_openai.queue_chat("second time lucky")

    with OpenAI(
        base_url=fake_openai.base_url, api_key=FAKE_OPENAI_API_KEY, max_retries=1, timeout=2.0
    ) as retrying:
        reply = _chat(retrying)

    assert reply.choices[0].message.content == "second time lucky"
    assert len(fake_openai.chat_requests) == 2


def test_server_errors_consume_answers_in_order(fake_openai: FakeOpenAI, client: OpenAI) -> None:
    fake_openai.queue_error(500)
    fake_openai.queue_error(503, times=2, message="overloaded")
    fake_openai.queue_chat("recovered")

    with pytest.raises(openai.InternalServerError) as first:
        _chat(client)
    statuses = [first.value.status_code]
    for _ in range(2):
        with pytest.raises(openai.InternalServerError) as later:
            _chat(client)
        statuses.append(later.value.status_code)
        assert later.value.body["message"] == "overloaded"  # type: ignore[index]

    assert statuses == [500, 503, 503]
    assert first.value.type == "server_error"
    assert _chat(client).choices[0].message.content == "recovered"


def test_timeout_fires_in_the_client(fake_openai: FakeOpenAI, client: OpenAI) -> None:
    fake_openai.queue_timeout(5)
    fake_openai.queue_chat("after the stall")

    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        _chat(client, timeout=0.2)

    assert time.monotonic() - started < 2
    assert _chat(client).choices[0].message.content == "after the stall"


def test_short_delay_then_answers_normally(fake_openai: FakeOpenAI, client: OpenAI) -> None:
    fake_openai.queue_timeout(0.05)
    fake_openai.queue_chat("slow but fine")

    assert _chat(client).choices[0].message.content == "slow but fine"


def test_malformed_body_raises_json_decode_error(fake_openai: FakeOpenAI, client: OpenAI) -> None:
    fake_openai.queue_malformed()

    # The SDK does not wrap this: a 200 "application/json" body that is not JSON surfaces as JSONDecodeError.
    with pytest.raises(json.JSONDecodeError):
        _chat(client)


# -- embeddings -------------------------------------------------------------------------------------------


def test_embeddings_float_are_unit_vectors_of_default_dim(fake_openai: FakeOpenAI, client: OpenAI) -> None:
    result = client.embeddings.create(
        model="text-embedding-3-small", input="deploy the api", encoding_format="float"
    )

    vector = result.data[0].embedding
    assert len(vector) == 1536
    assert math.isclose(_cosine(vector, vector), 1.0, rel_tol=1e-5)
    assert result.model == "text-embedding-3-small"
    assert result.usage.prompt_tokens == result.usage.total_tokens == math.ceil(len("deploy the api") / 4)


def test_embeddings_base64_matches_float(fake_openai: FakeOpenAI, client: OpenAI) -> None:
    texts = ["restart the worker", "page the on-call"]
    floats = client.embeddings.create(model="e", input=texts, encoding_format="float", dimensions=64)
    explicit = client.embeddings.create(model="e", input=texts, encoding_format="base64", dimensions=64)
    implicit = client.embeddings.create(model="e", input=texts, dimensions=64)

    decoded = [list(struct.unpack("<64f", base64.b64decode(d.embedding))) for d in explicit.data]  # type: ignore[arg-type]
    assert decoded == [d.embedding for d in floats.data]
    assert [d.embedding for d in implicit.data] == decoded
    assert fake_openai.embedding_requests[2].body["encoding_format"] == "base64", "the SDK asks for base64"


def test_embeddings_are_deterministic_and_similar_texts_are_closer(
    fake_openai: FakeOpenAI,
    client: OpenAI,
) -> None:
    texts = ["restart the payments worker", "restart the payments worker now", "lunch menu for friday"]
    first = [d.embedding for d in client.embeddings.create(model="e", input=texts).data]
    again = [d.embedding for d in client.embeddings.create(model="e", input=texts[0]).data]

    assert again[0] == first[0]
    assert _cosine(first[0], first[1]) > _cosine(first[0], first[2])
    assert _cosine(first[0], first[1]) > 0.8


def test_embedding_dimensions_and_token_inputs(fake_openai: FakeOpenAI, client: OpenAI) -> None:
    fake_openai.embedding_dim = 32
    default = client.embeddings.create(model="e", input="x")
    sized = client.embeddings.create(model="e", input="x", dimensions=8)
    tokens = client.embeddings.create(model="e", input=[[1, 2, 3], [4]])

    assert (len(default.data[0].embedding), len(sized.data[0].embedding)) == (32, 8)
    assert [d.index for d in tokens.data] == [0, 1]
    assert tokens.usage.prompt_tokens == 4


def test_embeddings_do_not_consume_chat_answers_but_can_fail(fake_openai: FakeOpenAI, client: OpenAI) -> None:
    fake_openai.queue_chat("kept")
    fake_openai.queue_error(503, path="embeddings")

    with pytest.raises(openai.InternalServerError):
        client.embeddings.create(model="e", input="x")
    client.embeddings.create(model="e", input="x")

    assert fake_openai.pending == 1
    with pytest.raises(openai.BadRequestError):
        client.embeddings.create(model="e", input="")


# -- models, recording, reset -----------------------------------------------------------------------------


def test_models_lists_used_models(fake_openai: FakeOpenAI, client: OpenAI) -> None:
    fake_openai.queue_chat("hi")
    _chat(client, model="gpt-used")

    assert [m.id for m in client.models.list()] == ["fake-model", *EMBEDDING_MODELS, "gpt-used"]
    fake_openai.profile = "no-embeddings"  # a server without embeddings lists no embedding model
    assert [m.id for m in client.models.list()] == ["fake-model", "gpt-used"]


def test_unknown_endpoint_is_a_404(fake_openai: FakeOpenAI, client: OpenAI) -> None:
    with pytest.raises(openai.NotFoundError, match="unknown endpoint"):
        client.post("/responses", body={}, cast_to=object)


def test_requests_are_recorded(fake_openai: FakeOpenAI, client: OpenAI) -> None:
    fake_openai.queue_chat("hi")
    _chat(client, temperature=0)
    client.embeddings.create(model="e", input="x")

    chat = fake_openai.chat_requests
    assert [r.path for r in fake_openai.requests] == ["/v1/chat/completions", "/v1/embeddings"]
    assert len(chat) == 1
    assert chat[0].method == "POST"
    assert chat[0].body == {"model": "gpt-test", "messages": USER, "temperature": 0}
    assert chat[0].headers["authorization"] == f"Bearer {FAKE_OPENAI_API_KEY}"


def test_reset_clears_everything(fake_openai: FakeOpenAI, client: OpenAI) -> None:
    fake_openai.queue_chat("a")
    _chat(client)
    fake_openai.queue_chat("left over")
    fake_openai.queue_error(429, path="embeddings")
    fake_openai.embedding_dim = 4

    fake_openai.reset()

    assert (fake_openai.requests, fake_openai.pending, fake_openai.embedding_dim) == ([], 0, 1536)
    assert len(client.embeddings.create(model="e", input="x").data[0].embedding) == 1536
    with pytest.raises(openai.InternalServerError, match=EMPTY_QUEUE_MESSAGE):
        _chat(client)


def test_a_second_server_gets_its_own_port_and_stops_cleanly() -> None:
    with FakeOpenAI(api_key="sk-other") as other:
        assert other.base_url.startswith("http://127.0.0.1:")
        other.queue_chat("from the other one")
        with OpenAI(base_url=other.base_url, api_key="sk-other", max_retries=0, timeout=2.0) as c:
            assert _chat(c).choices[0].message.content == "from the other one"
    with pytest.raises(RuntimeError):
        _ = other.base_url


# -- content-based responders -------------------------------------------------------------------------------


def test_responders_answer_by_content_before_the_queue(fake_openai: FakeOpenAI, client: OpenAI) -> None:
    def by_content(body: dict[str, Any]) -> Any:
        text = body["messages"][-1]["content"]
        if text == "pass":
            return None
        if text == "fail":
            return ErrorAnswer(503, "busy")
        if text == "full":
            return ChatReply("cut", usage={"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}, model="m2")
        return {"model": body["model"], "said": text}

    def ask(text: str) -> Any:
        return client.chat.completions.create(model="gpt-a", messages=[{"role": "user", "content": text}])

    fake_openai.respond_with(by_content)
    fake_openai.respond_with(lambda body: "second responder")
    fake_openai.queue_chat("from the queue")

    assert json.loads(ask("hello").choices[0].message.content) == {"model": "gpt-a", "said": "hello"}
    full = ask("full")
    assert (full.choices[0].message.content, full.model, full.usage.total_tokens) == ("cut", "m2", 6)
    with pytest.raises(openai.InternalServerError, match="busy"):
        ask("fail")
    assert ask("pass").choices[0].message.content == "second responder", "None passes to the next responder"
    assert fake_openai.pending == 1, "answered requests leave the queue alone"
    assert len(fake_openai.chat_requests) == 4

    fake_openai.reset()
    fake_openai.queue_chat("from the queue")
    assert ask("hello").choices[0].message.content == "from the queue", "reset forgets responders"


def test_a_failing_responder_is_a_500_naming_the_error(fake_openai: FakeOpenAI, client: OpenAI) -> None:
    fake_openai.respond_with(lambda body: body["no such key"])

    with pytest.raises(openai.InternalServerError, match="responder failed: KeyError"):
        _chat(client)


# -- server profiles -------------------------------------------------------------------------------------------
SCHEMA_FORMAT = {"type": "json_schema", "json_schema": {"name": "v", "schema": {
    "type": "object", "properties": {"text": {"type": "string", "maxLength": 4000}}}}}


def test_the_openai_profile_cuts_a_reply_at_the_limit_it_is_sent(fake_openai, client):
    fake_openai.queue_chat("word " * 100)
    fake_openai.queue_chat("word " * 100)
    cut = _chat(client, max_tokens=10)
    whole = _chat(client)
    assert (cut.choices[0].finish_reason, len(cut.choices[0].message.content)) == ("length", 40)
    assert whole.choices[0].finish_reason == "stop" and len(whole.choices[0].message.content) == 500


def test_the_llama_cpp_python_profile(fake_openai, client):
    fake_openai.profile = "llama-cpp-python"
    with pytest.raises(openai.InternalServerError, match="Input should be 'text' or 'json_object'"):
        _chat(client, response_format=SCHEMA_FORMAT)
    fake_openai.queue_chat("word " * 100)
    assert _chat(client, max_completion_tokens=10).choices[0].finish_reason == "stop"  # accepted, ignored
    fake_openai.queue_chat("word " * 100)
    assert _chat(client, max_tokens=10).choices[0].finish_reason == "length"
    with pytest.raises(openai.NotFoundError):
        client.embeddings.create(model="text-embedding-3-small", input="hi")
    fake_openai.reset()
    assert fake_openai.profile == "openai"


def test_the_grammar_and_reasoning_profiles(fake_openai, client):
    fake_openai.profile = "grammar"
    with pytest.raises(openai.BadRequestError, match="exceeds sane defaults"):
        _chat(client, response_format=SCHEMA_FORMAT)
    fake_openai.profile = "reasoning"
    with pytest.raises(openai.BadRequestError, match="Use 'max_completion_tokens' instead"):
        _chat(client, max_tokens=10)
    with pytest.raises(ValueError, match="unknown profile"):
        fake_openai.profile = "mystery"
