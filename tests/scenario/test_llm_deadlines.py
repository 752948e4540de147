"""Per-purpose attempt timeouts and the total deadline of a meeting's notes and of a digest's intro, against the
fake OpenAI server hanging: attempts are cut to the purpose's timeout, nothing runs past the work's deadline, and
the notes card and the digest say why the model did not write them."""

from __future__ import annotations

import json
import time

import pytest

from prompts import render
from tests.scenario.meeting_helpers import MONDAY, meeting_row, set_clock
from tests.scenario.test_digests import command, configure, digest_posts
from workers.llm.client import LLMClient, LLMUnavailable
from workers.llm.deadline import Deadline

SCHEMA = {"type": "object", "properties": {"intro": {"type": "string"}}, "required": ["intro"]}


def ask(llm: LLMClient, purpose: str) -> None:
    prompt = render("repair_plan.j2", problems=["p"], previous_reply="r")
    llm.complete_json(purpose=purpose, prompt=prompt, schema_name="x", schema=SCHEMA, team_id="T1")


def hang(fake_openai, times: int, seconds: float = 30.0) -> None:
    for _ in range(times):
        fake_openai.queue_timeout(seconds)


def client(fake_openai, **options) -> LLMClient:
    """A client whose default attempt timeout (30 s) is far longer than any this module's tests wait."""
    return LLMClient(api_key=fake_openai.api_key, base_url=fake_openai.base_url, model="m", timeout=30, **options)


def test_each_purpose_has_its_own_attempt_timeout_and_a_repair_takes_its_purposes(fake_openai):
    llm = client(fake_openai, max_retries=0, timeouts={"digest": 0.4, "plan": 0.8})
    hang(fake_openai, 3)
    for purpose, limit in (("digest", "0.4"), ("plan_repair", "0.8"), ("plan", "0.8")):
        started = time.monotonic()
        with pytest.raises(LLMUnavailable, match=rf"did not answer within {limit}s"):
            ask(llm, purpose)
        assert time.monotonic() - started < float(limit) + 1.0


def test_attempts_and_retries_never_run_past_the_deadline(fake_openai):
    llm = client(fake_openai, max_retries=5, timeouts={"digest": 0.7}, deadline=Deadline(1.5))
    hang(fake_openai, 10)
    started = time.monotonic()
    with pytest.raises(LLMUnavailable, match=r"within the 1\.5s limit"):
        ask(llm, "digest")
    # The SDK's backoff sleep before the attempt it then finds too late is all that may be left over.
    assert time.monotonic() - started < 1.5 + 1.5
    assert len(fake_openai.chat_requests) <= 3


def test_a_hanging_model_gets_the_digest_its_template_intro_within_the_digest_deadline(bot, db, fake_openai):
    set_clock(bot, MONDAY)
    configure(bot)
    bot.slack.post_as_user("U0ALICE", "C0GENERAL", "<@U0BATON> post Release 1.2 is out to <#C0OPS|ops>")
    bot.run_jobs(wait_for=1)  # no model yet: the digest has a plan to report
    bot.setting_changes = {
        "openai_api_key": fake_openai.api_key,
        "openai_base_url": fake_openai.base_url,
        "embedding_provider": "none",
        "digest_deadline_seconds": 1,
        "llm_timeouts": (("digest", 10),),
    }
    hang(fake_openai, 10)

    started = time.monotonic()
    command(bot, "digest now")
    bot.run_jobs(wait_for=1)

    assert time.monotonic() - started < 1 + 2.5
    assert len(digest_posts(bot)) == 1
    [error] = [row["error"] for row in db.execute("SELECT error FROM llm_calls WHERE purpose = 'digest'")]
    assert error == "the model API gave no usable answer within the 1s limit"


def test_a_hanging_model_gets_the_meeting_pattern_matched_notes_within_the_meeting_deadline(bot, db, fake_openai):
    set_clock(bot, MONDAY)
    bot.setting_changes = {
        "openai_api_key": fake_openai.api_key,
        "openai_base_url": fake_openai.base_url,
        "embedding_provider": "none",
        "meeting_deadline_seconds": 1,
        "llm_timeouts": (("meeting_notes", 10), ("meeting_chunk", 10)),
    }
    hang(fake_openai, 10)
    pasted = "Alice: We decided to keep the old logo.\nBob: I'll draft the press release by Friday."

    started = time.monotonic()
    bot.slack.slash_command("U0ALICE", "C0GENERAL", "/baton", f"summarize {pasted}")
    bot.run_jobs(wait_for=1)

    assert time.monotonic() - started < 1 + 2.5
    meeting = meeting_row(db)
    assert meeting["mode"] != "llm"
    assert "within the 1s limit" in meeting["degraded_reason"]
    assert "press release" in json.dumps(meeting["notes"])
