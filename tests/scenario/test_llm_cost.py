"""Cost control end to end, through the bot's real endpoint, Postgres, Redis and the fake OpenAI API: budgets
stop calls before they are made and every path degrades clearly, spend adds up per channel and day,
routing picks the configured models, the fallback model answers, the cache replays, unknown prices are
flagged, and ``/baton budget`` shows it all."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest

from core.digest.facts import DigestFacts, DigestSetting, MemoryFact
from core.digest.select import select, template_intro
from core.transcripts import parse_transcript
from memory.llm_calls import REFUSED_PREFIX, spent_today, utc_day
from tests.fakes.openai_api import ChatReply, ErrorAnswer
from tests.scenario.loop_helpers import card_text, click, eventually, latest_card_blocks, posts_in
from tests.scenario.meeting_helpers import card_json, meeting_row, upload
from workers.digest_sender import _intro
from workers.llm.cache import cache_counts
from workers.llm.factory import CallScope, llm_client
from workers.meetings.notes import take_notes

CHAT, CHEAP, FALLBACK = "gpt-4.1", "gpt-4.1-mini", "gpt-4o"
ASK = "<@U0BATON> post Lunch is here to <#C0OPS|ops>"
#: A medium/high-risk plan (a post to another channel): it waits for approval.
PLAN = {
    "title": "Lunch",
    "rationale": "You asked.",
    "steps": [{"action": "slack.post_message", "args": {"channel": "C0OPS", "text": "Lunch is here"},
               "description": "Post Lunch is here in #ops", "depends_on": []}],
    "cannot_plan_reason": None,
}
#: A million prompt tokens: $2.00 on gpt-4.1, $0.40 on gpt-4.1-mini.
MILLION = {"prompt_tokens": 1_000_000, "completion_tokens": 0, "total_tokens": 1_000_000}
NOTES = {"summary": ["The team talked it through."], "decisions": [], "open_questions": [], "action_items": []}


@pytest.fixture
def model_bot(bot, fake_openai):
    bot.setting_changes = {"openai_api_key": fake_openai.api_key, "openai_base_url": fake_openai.base_url,
                           "chat_model": CHAT, "cheap_model": CHEAP}
    return bot


def ask(bot, text=ASK, *, channel="C0GENERAL", user="U0ALICE"):
    delivery = bot.slack.post_as_user(user, channel, text)
    bot.run_jobs(wait_for=1)
    return delivery


def plans(db) -> list[dict[str, Any]]:
    return db.execute("SELECT * FROM plans ORDER BY id").fetchall()


def calls(db) -> list[dict[str, Any]]:
    return db.execute("SELECT * FROM llm_calls ORDER BY id").fetchall()


def card_lines(bot, plan) -> str:
    """The context lines of a plan card as Slack shows them (risk, cost, step status)."""
    return "\n".join(element["text"] for block in latest_card_blocks(bot, plan) if block["type"] == "context"
                     for element in block["elements"])


def prompt_text(body: dict[str, Any]) -> str:
    return "\n".join(m["content"] for m in body["messages"])


def notes_model(body: dict[str, Any]) -> Any:
    """Answers meeting prompts (chunks and merges) with the same small notes, costing $0.40 on the cheap model."""
    text = prompt_text(body)
    if "<untrusted_transcript>" in text or "<untrusted_part_notes>" in text:
        return ChatReply(json.dumps(NOTES), usage={"prompt_tokens": 1000, "completion_tokens": 100,
                                                   "total_tokens": 1100})
    return None


def long_vtt(cues: int = 24) -> bytes:
    """A transcript of about 1,400 tokens: three or more parts at a 500-token budget."""
    lines = ["WEBVTT", ""]
    for i in range(cues):
        start, end = i * 5, i * 5 + 5
        speaker = ("Alice", "Bob")[i % 2]
        words = " ".join(f"detail{i}x{k}" for k in range(20))
        lines += [str(i + 1), f"00:{start // 60:02d}:{start % 60:02d}.000 --> 00:{end // 60:02d}:{end % 60:02d}.000",
                  f"{speaker}: Topic {i}: {words}.", ""]
    return "\n".join(lines).encode()


def digest_with_a_fact(now: datetime):
    facts = DigestFacts(kind="channel", target="C0GENERAL", since=now - timedelta(days=1), until=now,
                        as_of=now.date(), memories=(MemoryFact(id=1, text="Deploys freeze on Fridays", kind="fact",
                                                               link=None, at=now - timedelta(hours=1)),))
    setting = DigestSetting(team_id="T0LOCAL", target="C0GENERAL", kind="channel", schedule="daily",
                            local_time=time(9), tz="UTC")
    return select(facts), setting


def budget_answer(bot, *, user="U0ALICE", channel="C0GENERAL") -> str:
    before = len(bot.slack.calls_to("response_url"))
    reply = bot.slack.slash_command(user, channel, "/baton", "budget")
    assert reply.status == 200
    hooks = eventually(lambda: bot.slack.calls_to("response_url")[before:])
    assert hooks, "no answer to /baton budget"
    assert hooks[-1].params.get("response_type") == "ephemeral"
    return str(hooks[-1].params["text"])


# -- budgets ---------------------------------------------------------------------------------------------------


def test_a_budget_stops_the_planning_call_before_it_is_made(model_bot, fake_openai, db):
    model_bot.setting_changes["budget_request_tokens"] = 500  # the planning prompt alone is larger
    fake_openai.queue_chat(PLAN)

    ask(model_bot)

    assert fake_openai.chat_requests == [], "the call was never made"
    [plan] = plans(db)
    assert plan["planner"] == "rules" and "degraded mode" in card_text(model_bot, plan)
    [notice] = posts_in(model_bot, "C0GENERAL", containing="I did not use the language model")
    assert "per-request token budget" in notice["text"] and "of 500 tokens" in notice["text"]
    assert "an operator can raise BATON_BUDGET_REQUEST_TOKENS" in notice["text"]
    [row] = calls(db)
    assert (row["purpose"], row["ok"], row["input_tokens"], row["cost_usd"]) == ("plan", False, 0, 0)
    assert row["error"].startswith(REFUSED_PREFIX + "the next model call (about ")
    assert (row["channel_id"], row["user_id"], row["request_id"]) == ("C0GENERAL", "U0ALICE", plan["request_id"])
    audited = db.execute("SELECT detail FROM audit_log WHERE kind = 'llm.call'").fetchall()
    assert len(audited) == 1 and audited[0]["detail"]["ok"] is False


def test_budgets_at_zero_make_every_path_degrade_clearly(model_bot, fake_openai, db):
    model_bot.setting_changes["budget_workspace_day_usd"] = Decimal(0)
    fake_openai.respond_with(lambda body: {"never": "asked"})
    why = "workspace daily model budget is $0.00, so no model calls are made; an operator can raise " \
          "BATON_BUDGET_WORKSPACE_DAY_USD"

    ask(model_bot)  # a plan: the rules planner stands in, and the requester is told why
    [plan] = plans(db)
    assert plan["planner"] == "rules" and plan["status"] == "pending"
    assert posts_in(model_bot, "C0GENERAL", containing=why)

    upload(model_bot)  # meeting notes: extracted, and the card says why
    meeting = meeting_row(db)
    assert meeting["mode"] == "extractive" and why in meeting["degraded_reason"]
    assert why in card_json(model_bot, meeting)

    ctx = model_bot.context(**model_bot.setting_changes)  # a digest: the template writes the intro
    digest, setting = digest_with_a_fact(ctx.now())
    assert _intro(ctx, digest, setting, since=ctx.now() - timedelta(days=1), until=ctx.now(), run_id=99) == (
        template_intro(digest), False)

    assert fake_openai.chat_requests == []
    refused = {(r["purpose"], r["ok"], r["error"].startswith(REFUSED_PREFIX)) for r in calls(db)}
    assert refused == {("plan", False, True), ("meeting_notes", False, True), ("digest", False, True)}
    digest_row = next(r for r in calls(db) if r["purpose"] == "digest")
    assert (digest_row["digest_run_id"], digest_row["channel_id"]) == (99, "C0GENERAL")


def test_channel_spend_adds_up_over_the_utc_day_and_the_next_call_is_refused(model_bot, fake_openai, db):
    model_bot.setting_changes["budget_channel_day_usd"] = Decimal("4.00")
    fake_openai.respond_with(lambda body: ChatReply(json.dumps(PLAN), usage=MILLION))  # $2.00 a plan

    ask(model_bot)
    ask(model_bot)
    assert len(fake_openai.chat_requests) == 2
    ask(model_bot)  # $4.00 spent today: this one is not made
    assert len(fake_openai.chat_requests) == 2
    ask(model_bot, channel="C0OPS")  # another channel has its own budget
    assert len(fake_openai.chat_requests) == 3

    assert [p["planner"] for p in plans(db)] == ["llm", "llm", "rules", "llm"]
    [notice] = posts_in(model_bot, "C0GENERAL", containing="I did not use the language model")
    assert "would go over the per-channel daily model budget: $4.00 of $4.00 spent today (UTC day)" in notice["text"]
    now = model_bot.clock.now()
    with_day = spent_today(db, "T0LOCAL", "C0GENERAL", *utc_day(now))
    assert (with_day.channel_usd, with_day.workspace_usd) == (Decimal("4.00"), Decimal("6.00"))
    assert spent_today(db, "T0LOCAL", "C0GENERAL", *utc_day(now + timedelta(days=1))).workspace_usd == 0

    model_bot.clock.advance(days=1)  # a new UTC day: the channel may spend again
    ask(model_bot)
    assert len(fake_openai.chat_requests) == 4 and plans(db)[-1]["planner"] == "llm"


def test_the_plan_card_shows_the_estimate_before_approval_and_the_total_after(model_bot, fake_openai, db):
    fake_openai.respond_with(lambda body: ChatReply(json.dumps(PLAN), usage=MILLION))
    ask(model_bot)
    [plan] = plans(db)
    before = card_lines(model_bot, plan)
    assert "Planned by gpt-4.1 · 1,000,000 tokens · planning cost $2.00 · est. to run $0.00 (no model calls in " \
           "these steps)" in before
    click(model_bot, "U0BOB", plan, "plan_approve")
    model_bot.run_jobs(wait_for=1)
    [plan] = plans(db)
    assert plan["status"] == "succeeded"
    after = card_lines(model_bot, plan)
    assert "total cost $2.00" in after and "est. to run" not in after


# -- routing and fallback -------------------------------------------------------------------------------------


def test_planning_uses_the_chat_model(model_bot, fake_openai, db):
    fake_openai.queue_chat(PLAN)
    ask(model_bot)
    assert [r.body["model"] for r in fake_openai.chat_requests] == [CHAT]
    assert [(r["purpose"], r["model"]) for r in calls(db)] == [("plan", CHAT)]


def test_meeting_chunks_use_the_cheap_model_and_the_merge_the_chat_model(model_bot, fake_openai, db):
    model_bot.setting_changes["meeting_chunk_tokens"] = 500
    fake_openai.respond_with(notes_model)

    upload(model_bot, content=long_vtt(), name="long.vtt")

    meeting = meeting_row(db)
    assert meeting["mode"] == "llm" and meeting["chunks"] >= 3
    bodies = [r.body for r in fake_openai.chat_requests]
    chunks = [b["model"] for b in bodies if "<untrusted_transcript>" in prompt_text(b)]
    merges = [b["model"] for b in bodies if "<untrusted_part_notes>" in prompt_text(b)]
    assert chunks == [CHEAP] * meeting["chunks"] and merges == [CHAT]
    assert {(r["purpose"], r["model"]) for r in calls(db)} == {("meeting_chunk", CHEAP), ("meeting_merge", CHAT)}


def test_the_digest_intro_uses_the_cheap_model(model_bot, fake_openai, db):
    fake_openai.respond_with(lambda body: {"intro": "One new fact: deploys freeze on Fridays."})
    ctx = model_bot.context(**model_bot.setting_changes)
    digest, setting = digest_with_a_fact(ctx.now())

    intro = _intro(ctx, digest, setting, since=ctx.now() - timedelta(days=1), until=ctx.now(), run_id=7)

    assert intro == ("One new fact: deploys freeze on Fridays.", True)
    assert [r.body["model"] for r in fake_openai.chat_requests] == [CHEAP]
    [row] = calls(db)
    assert (row["purpose"], row["model"], row["digest_run_id"], row["channel_id"]) == ("digest", CHEAP, 7, "C0GENERAL")


def test_the_fallback_model_answers_when_the_primary_keeps_failing(model_bot, fake_openai, db):
    model_bot.setting_changes["fallback_model"] = FALLBACK
    fake_openai.respond_with(lambda body: ErrorAnswer(500, "overloaded") if body["model"] == CHAT else PLAN)

    ask(model_bot)

    assert [r.body["model"] for r in fake_openai.chat_requests] == [CHAT, CHAT, CHAT, FALLBACK]  # SDK retries first
    [plan] = plans(db)
    assert plan["planner"] == "llm" and plan["status"] == "pending"
    rows = [(r["model"], r["ok"], r["error"], r["fallback_from"], r["request_id"]) for r in calls(db)]
    assert rows == [(CHAT, False, "the model API is failing (500)", None, plan["request_id"]),
                    (FALLBACK, True, None, CHAT, plan["request_id"])]


# -- cache and prices -------------------------------------------------------------------------------------------


def test_a_replayed_meeting_is_answered_from_the_cache(model_bot, fake_openai, db):
    fake_openai.respond_with(notes_model)
    ctx = model_bot.context(**model_bot.setting_changes)
    transcript = parse_transcript(long_vtt(), filename="long.vtt")

    def notes():
        llm = llm_client(ctx, CallScope(team_id="T0LOCAL", channel_id="C0GENERAL", user_id="U0ALICE", meeting_id=7))
        return take_notes(transcript, llm=llm, meeting_date=date(2026, 11, 23), team_id="T0LOCAL",
                          chunk_budget_tokens=500, chat_model=CHAT, cheap_model=CHEAP)

    first = notes()
    sent = len(fake_openai.chat_requests)
    assert first.chunks >= 3 and sent == first.calls == first.chunks + 1 and first.input_tokens > 0
    assert cache_counts(model_bot.redis) == (0, sent)

    second = notes()  # e.g. the job retried after a crash

    assert len(fake_openai.chat_requests) == sent, "no API call for the cached parts"
    assert second.notes == first.notes and second.degraded_reason is None
    assert (second.input_tokens, second.cost_usd) == (0, 0)
    assert cache_counts(model_bot.redis) == (sent, sent)
    rows = calls(db)
    assert [r["cache_hit"] for r in rows] == [False] * sent + [True] * sent
    replayed = rows[sent:]
    assert all(r["input_tokens"] == 0 and r["cost_usd"] == 0 and r["meeting_id"] == 7 and r["ok"] for r in replayed)


def test_the_cache_can_be_switched_off(model_bot, fake_openai, db):
    model_bot.setting_changes["llm_cache_ttl_seconds"] = 0
    fake_openai.respond_with(notes_model)
    ctx = model_bot.context(**model_bot.setting_changes)
    transcript = parse_transcript(long_vtt(8), filename="short.vtt")
    for _ in range(2):
        take_notes(transcript, llm=llm_client(ctx, CallScope(team_id="T0LOCAL", meeting_id=8)),
                   meeting_date=date(2026, 11, 23), team_id="T0LOCAL", chat_model=CHAT, cheap_model=CHEAP)
    assert len(fake_openai.chat_requests) == 2 and cache_counts(model_bot.redis) == (0, 0)


def ask_a_model_without_a_price(model_bot, fake_openai):
    """Plan with ``llama3:8b``, which the price table does not know, using 3,200 tokens."""
    model_bot.setting_changes["chat_model"] = "llama3:8b"
    fake_openai.respond_with(lambda body: ChatReply(json.dumps(PLAN), usage={"prompt_tokens": 3000,
                                                                             "completion_tokens": 200,
                                                                             "total_tokens": 3200}))
    ask(model_bot)


def test_a_model_missing_from_the_price_table_works_and_budget_flags_it(model_bot, fake_openai, db):
    ask_a_model_without_a_price(model_bot, fake_openai)
    [plan] = plans(db)
    assert plan["planner"] == "llm"
    [row] = calls(db)
    assert (row["model"], row["ok"], row["cost_usd"], row["cost_known"]) == ("llama3:8b", True, 0, False)

    text = budget_answer(model_bot)

    assert f"(UTC day {model_bot.clock.now().astimezone(UTC).date().isoformat()})" in text
    assert "• llama3:8b: :warning: price unknown: cost not counted (1 call, 3,200 tokens)" in text
    assert "`BATON_MODEL_PRICES`" in text
    assert "• This channel (<#C0GENERAL>): $0.00 (+ 1 call at an unknown price) · no limit" in text
    assert "An operator can raise or lower these" in text and "`BATON_BUDGET_CHANNEL_DAY_USD`" in text


def test_the_card_of_a_plan_by_a_model_without_a_price_says_the_cost_is_unknown(model_bot, fake_openai, db):
    ask_a_model_without_a_price(model_bot, fake_openai)
    [plan] = plans(db)
    assert plan["cost_known"] is False
    line = card_lines(model_bot, plan)
    assert "planning cost unknown (no known price for the model: see BATON_MODEL_PRICES)" in line
    assert "$0.0000" not in line and "planning cost $0.00" not in line


def test_the_notes_card_of_a_model_without_a_price_says_the_cost_is_unknown(model_bot, fake_openai, db):
    model_bot.setting_changes |= {"chat_model": "llama3:8b", "cheap_model": "llama3:8b"}
    fake_openai.respond_with(notes_model)
    upload(model_bot)
    meeting = meeting_row(db)
    assert meeting["mode"] == "llm"
    shown = card_json(model_bot, meeting)
    assert "cost unknown (no known price for the model: see BATON_MODEL_PRICES)" in shown and "$0.0000" not in shown


def test_budget_shows_todays_spend_by_model_purpose_and_person(model_bot, fake_openai, db):
    fake_openai.respond_with(lambda body: ChatReply(json.dumps(PLAN), usage=MILLION))
    ask(model_bot)
    ask(model_bot, user="U0BOB", channel="C0OPS")
    text = budget_answer(model_bot)
    assert "• This channel (<#C0GENERAL>): $2.00 · no limit" in text
    assert "• Workspace: $4.00 · no limit" in text
    assert "• gpt-4.1: $4.00 (2 calls), 2,000,000 tokens" in text
    assert "*By purpose:* plan $4.00 (2 calls)" in text
    assert "<@U0ALICE> $2.00 (1 call)" in text and "<@U0BOB> $2.00 (1 call)" in text
