"""Structured replies are streamed so Baton can stop early, against the fake OpenAI server's profiles: at the
attempt's time or the work's deadline (and the server stops generating, where asked whole it goes on), at the
output limit a server ignores, and once the object is whole while a small model keeps writing. A server that
rejects or breaks off streams is asked whole from then on, learned once for every process."""

from __future__ import annotations

import json
import time

import pytest

from core import defaults
from prompts import render
from tests.fakes.openai_profiles import SLOW_PIECE_SECONDS
from workers.llm.capabilities import ModelCapabilities, RedisCapabilityStore
from workers.llm.client import LLMCallRecord, LLMClient, LLMReply, LLMUnavailable
from workers.llm.deadline import Deadline

SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
MODEL = "gemma-3-270m"
#: A reply the slow profile takes 10 s to write (200 pieces of eight characters).
LONG = {"answer": "x" * (8 * 200 - 14)}


def client(fake_openai, redis_conn, calls: list[LLMCallRecord], *, deadline: Deadline | None = None,
           timeouts: dict[str, float] | None = None, **pins: str) -> LLMClient:
    store = RedisCapabilityStore(redis_conn, ttl_seconds=defaults.LLM_CAPABILITIES_TTL_SECONDS)
    return LLMClient(api_key=fake_openai.api_key, base_url=fake_openai.base_url, model=MODEL, timeout=30,
                     max_retries=2, recorder=calls.append, deadline=deadline, timeouts=timeouts,
                     capabilities=ModelCapabilities(base_url=fake_openai.base_url, store=store, **pins))


def ask(llm: LLMClient, purpose: str = "digest") -> LLMReply:
    prompt = render("repair_plan.j2", problems=["p"], previous_reply="r")
    return llm.complete_json(purpose=purpose, prompt=prompt, schema_name="answer", schema=SCHEMA, team_id="T1")


def wait_for(condition, *, within: float) -> None:
    ends = time.monotonic() + within
    while not condition():
        assert time.monotonic() < ends, "the fake server did not get there in time"
        time.sleep(0.02)


@pytest.mark.parametrize(
    ("limits", "reason"),
    [
        (lambda: {"deadline": Deadline(1.0)}, "the model API gave no usable answer within the 1s limit"),
        (lambda: {"timeouts": {"digest": 1.0}}, "the model API did not answer within 1s"),
    ],
    ids=["deadline", "attempt-timeout"],
)
def test_a_slow_server_is_stopped_when_the_time_is_up_and_stops_generating(fake_openai, redis_conn, limits, reason):
    fake_openai.profile = "slow"
    fake_openai.queue_chat(LONG)
    calls: list[LLMCallRecord] = []

    started = time.monotonic()
    with pytest.raises(LLMUnavailable) as raised:
        ask(client(fake_openai, redis_conn, calls, **limits()))  # the deadline starts now

    # Pieces kept coming, so no read ever timed out: Baton's own clock ended it, and the server heard it hang up.
    assert raised.value.reason == reason and time.monotonic() - started < 1.0 + 2.0  # the whole reply takes 10 s
    [generation] = fake_openai.generations
    wait_for(lambda: generation.hung_up, within=2)
    assert generation.produced < generation.pieces / 4 and not generation.finished
    assert [(c.ok, c.error) for c in calls] == [(False, reason)]
    assert 0 < calls[0].output_tokens <= generation.produced  # estimated: a token a piece, no usage chunk came
    assert len(fake_openai.chat_requests) == 1  # a reply that was coming is not asked again


def test_asked_whole_the_same_server_keeps_generating_after_baton_gave_up(fake_openai, redis_conn):
    fake_openai.profile = "slow"
    fake_openai.queue_chat({"answer": "x" * (8 * 30)})  # 1.5 s of writing
    calls: list[LLMCallRecord] = []

    with pytest.raises(LLMUnavailable, match=r"within the 0\.5s limit"):
        ask(client(fake_openai, redis_conn, calls, deadline=Deadline(0.5), stream="off"))

    [generation] = fake_openai.generations
    assert not generation.streamed
    wait_for(lambda: generation.finished, within=2 + 30 * SLOW_PIECE_SECONDS)  # on to the end, for nobody
    assert generation.produced == generation.pieces and not generation.hung_up


def test_a_small_model_that_goes_on_writing_after_the_object_is_stopped_there(fake_openai, redis_conn):
    fake_openai.profile = "slow"
    rambling = '```json\n{"answer": "ok {not the end}"}\n```\nI chose this because ' + "it seems right. " * 150
    fake_openai.queue_chat(rambling)
    calls: list[LLMCallRecord] = []

    started = time.monotonic()
    reply = ask(client(fake_openai, redis_conn, calls, structured="text"))

    assert reply.data == {"answer": "ok {not the end}"} and reply.raw.endswith("}")
    assert time.monotonic() - started < 5  # 5 pieces, where the whole ramble takes 15 s to write
    [generation] = fake_openai.generations
    wait_for(lambda: generation.hung_up, within=2)
    assert generation.produced < generation.pieces / 4
    assert calls[-1].ok and calls[-1].output_tokens == reply.usage.output_tokens <= 6  # counted by Baton: exact


def test_keep_alive_comments_do_not_keep_a_call_past_its_deadline(fake_openai, redis_conn):
    # A proxy sends ": keepalive" while the model thinks: every read gets bytes, none gets a chunk.
    fake_openai.queue_chat({"answer": "late"}, keepalive_for=10)
    calls: list[LLMCallRecord] = []

    started = time.monotonic()
    with pytest.raises(LLMUnavailable, match=r"within the 1s limit"):
        ask(client(fake_openai, redis_conn, calls, deadline=Deadline(1.0)))

    assert time.monotonic() - started < 1.0 + 2.0
    [generation] = fake_openai.generations
    wait_for(lambda: generation.hung_up, within=2)
    assert generation.produced == 0


def test_an_attempt_that_starts_after_a_retry_gets_its_whole_timeout(fake_openai, redis_conn):
    # The SDK waits out a 429 before the attempt that answers; that attempt's time starts when its answer does.
    fake_openai.queue_error(429, retry_after=0.8)
    fake_openai.profile = "slow"
    fake_openai.queue_chat({"answer": "x" * 60})  # 10 pieces: 0.5 s of writing
    calls: list[LLMCallRecord] = []

    reply = ask(client(fake_openai, redis_conn, calls, timeouts={"digest": 1.0}))

    assert reply.data == {"answer": "x" * 60} and len(fake_openai.chat_requests) == 2


def test_a_server_that_ends_a_stream_early_is_asked_whole_from_then_on(fake_openai, redis_conn):
    fake_openai.queue_chat({"answer": "the whole answer, at last"}, interrupted_after=2)
    fake_openai.queue_chat({"answer": "the whole answer, at last"})
    fake_openai.queue_chat({"answer": "next"})
    calls: list[LLMCallRecord] = []

    reply = ask(client(fake_openai, redis_conn, calls))
    later = ask(client(fake_openai, redis_conn, calls))  # another process: the same Redis

    assert reply.data == {"answer": "the whole answer, at last"} and later.data == {"answer": "next"}
    assert [bool(r.body.get("stream")) for r in fake_openai.chat_requests] == [True, False, False]
    assert calls[0].error == (
        f"the model server rejected or broke off a streamed reply for {MODEL}; set BATON_LLM_STREAM=off (Baton now "
        "sends structured output json_schema, output limit via max_tokens, not streamed)"
    )


def test_pinned_on_a_stream_ended_early_is_read_as_it_is(fake_openai, redis_conn):
    fake_openai.queue_chat({"answer": "the whole answer"}, interrupted_after=2)
    calls: list[LLMCallRecord] = []

    reply = ask(client(fake_openai, redis_conn, calls, stream="on"))

    assert reply.data is None and reply.error == "the model server ended the streamed reply before it was whole"
    assert len(fake_openai.chat_requests) == 1 and not calls[0].ok


def test_a_server_rejecting_stream_options_is_learned_once_without_retries(fake_openai, redis_conn):
    fake_openai.profile = "no-stream-options"
    fake_openai.queue_chat({"answer": "ok"})
    calls: list[LLMCallRecord] = []

    assert ask(client(fake_openai, redis_conn, calls)).data == {"answer": "ok"}

    bodies = [r.body for r in fake_openai.chat_requests]
    assert [("stream_options" in b, bool(b.get("stream"))) for b in bodies] == [(True, True), (False, False)]
    assert "set BATON_LLM_STREAM=off" in (calls[0].error or "") and calls[1].ok
    assert json.loads(json.dumps(bodies[1]["response_format"]))["type"] == "json_schema"
