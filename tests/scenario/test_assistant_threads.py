"""Slack's assistant threads (the AI app split view) through the local workspace.

A person opens the split view beside a channel: Baton greets them (from a job, after the ack) with suggested prompts
fitted to them, remembers the channel they look at (in Postgres, as it changes), and a message in the thread is the
same request flow as any DM, with "planning…" and "waiting for approval" shown in the thread while it waits.
"""

from __future__ import annotations

from memory.policies import save_policy
from slackui import assistant_views, plan_card
from tests.scenario.loop_helpers import card_posts, click, eventually, plan_row, posts_in
from workers.assistant import greet_assistant_thread
from workers.job_context import install
from workers.reconcile import reconcile


def thread_row(db):
    rows = db.execute("SELECT * FROM assistant_threads").fetchall()
    assert len(rows) == 1, rows
    return rows[0]


def test_a_new_thread_is_greeted_once_with_prompts_that_fit_the_person(bot, db):
    dm, ts, answer = bot.slack.open_assistant_thread("U0ALICE", looking_at="C0OPS")
    assert answer.status == 200
    # Nothing slow before the ack: the thread is recorded, the greeting waits for its job.
    assert bot.slack.calls_to("chat.postMessage") == []
    row = thread_row(db)
    assert (row["channel_id"], row["thread_ts"], row["user_id"], row["context_channel_id"]) == (
        dm,
        ts,
        "U0ALICE",
        "C0OPS",
    )
    assert bot.run_jobs(wait_for=1) == 1

    greetings = posts_in(bot, dm, containing="Hi <@U0ALICE>")
    assert len(greetings) == 1 and greetings[0]["thread_ts"] == ts
    prompts = bot.slack.assistant_thread(dm, ts)["prompts"]
    assert {"title": "Summarize this channel's day", "message": "Summarize today's conversation in <#C0OPS>"} in prompts
    assert len(prompts) <= assistant_views.MAX_PROMPTS
    assert thread_row(db)["greeted_at"] is not None
    event = db.execute("SELECT status FROM slack_events WHERE event_type = 'assistant_thread_started'").fetchone()
    assert event["status"] == "done"

    # The job again (a redelivered job, a worker that died after posting) finds its greeting: one message.
    event_pk = db.execute("SELECT id FROM slack_events WHERE event_type = 'assistant_thread_started'").fetchone()["id"]
    install(bot.context())
    assert greet_assistant_thread(event_pk) == "greeted"
    assert len(posts_in(bot, dm, containing="Hi <@U0ALICE>")) == 1


def test_prompts_name_the_persons_waiting_approvals(bot, db):
    # Waiting "for" Bob as the App Home and digests count it: the channel's policy names him for high risk.
    save_policy(
        db, team_id="T0LOCAL", channel_id="C0GENERAL", policy={"approvers": {"high": ["U0BOB"]}}, updated_by="U0ADMIN"
    )
    bot.slack.post_as_user("U0ALICE", "C0GENERAL", "<@U0BATON> post Release 1.2 is out to <#C0OPS|ops>")
    bot.run_jobs(wait_for=1)
    assert plan_row(db)["status"] == "pending"

    dm, ts, _ = bot.slack.open_assistant_thread("U0BOB")
    bot.run_jobs(wait_for=1)
    prompts = bot.slack.assistant_thread(dm, ts)["prompts"]
    assert prompts[0]["title"] == "Approvals waiting for me (1)"
    assert not any("this channel" in p["title"] for p in prompts)  # opened from the DM: no channel beside it
    assert "1 plan waiting for your approval" in posts_in(bot, dm, containing="Hi <@U0BOB>")[0]["text"]


def test_the_channel_context_follows_the_person_and_reaches_the_request(bot, db):
    dm, ts, _ = bot.slack.open_assistant_thread("U0ALICE", looking_at="C0GENERAL")
    assert bot.slack.change_assistant_context("U0ALICE", ts, looking_at="C0OPS").status == 200
    assert thread_row(db)["context_channel_id"] == "C0OPS"
    events = db.execute("SELECT event_type, status FROM slack_events ORDER BY id").fetchall()
    assert ("assistant_thread_context_changed", "done") in {(e["event_type"], e["status"]) for e in events}

    bot.slack.post_as_user("U0ALICE", dm, "post Release 1.2 is out to <#C0OPS|ops>", thread_ts=ts)
    request = db.execute("SELECT * FROM requests").fetchone()
    assert request["channel_id"] == dm and request["thread_ts"] == ts
    assert request["context"]["assistant_thread"]["context_channel_id"] == "C0OPS"


def test_a_request_in_the_thread_shows_planning_then_waiting_then_clears_when_approved(bot, db):
    dm, ts, _ = bot.slack.open_assistant_thread("U0ALICE", looking_at="C0GENERAL")
    bot.run_jobs(wait_for=1)
    bot.slack.post_as_user("U0ALICE", dm, "post Release 1.2 is out to <#C0OPS|ops>", thread_ts=ts)
    bot.run_jobs(wait_for=1)

    cards = card_posts(bot)
    assert len(cards) == 1 and cards[0].params["channel"] == dm and cards[0].params["thread_ts"] == ts
    thread = bot.slack.assistant_thread(dm, ts)
    assert thread["statuses"] == ["is planning…", "is waiting for approval"]
    assert thread["loading_messages"] == []  # the last call set none

    plan = plan_row(db)
    assert click(bot, "U0BOB", plan, plan_card.APPROVE).status == 200
    bot.run_jobs(wait_for=1)
    assert plan_row(db)["status"] == "succeeded"
    assert len(posts_in(bot, "C0OPS", containing="Release 1.2 is out")) == 1
    assert bot.slack.assistant_thread(dm, ts)["statuses"][-1] == ""  # cleared


def test_a_rejected_plan_clears_the_waiting_status(bot, db):
    dm, ts, _ = bot.slack.open_assistant_thread("U0ALICE")
    bot.run_jobs(wait_for=1)
    bot.slack.post_as_user("U0ALICE", dm, "post Release 1.2 is out to <#C0OPS|ops>", thread_ts=ts)
    bot.run_jobs(wait_for=1)
    plan = plan_row(db)
    click(bot, "U0BOB", plan, plan_card.REJECT)
    view_id = next(iter(eventually(bot.slack.views)))
    bot.slack.submit_view("U0BOB", view_id, values={})
    assert eventually(lambda: plan_row(db)["status"] == "rejected")
    assert eventually(lambda: bot.slack.assistant_thread(dm, ts)["statuses"][-1] == "")


def test_a_plain_dm_shows_no_status(bot, db):
    bot.slack.post_as_user("U0ALICE", "D0ALICE", "post Release 1.2 is out to <#C0OPS|ops>")
    bot.run_jobs(wait_for=1)
    assert len(card_posts(bot)) == 1
    assert bot.slack.calls_to("assistant.threads.setStatus") == []


def test_a_greeting_whose_job_redis_lost_is_sent_by_the_recovery_pass(bot, db, web_server, monkeypatch):
    def redis_down(kind, ident):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(web_server, "_enqueue_sync", redis_down)
    dm, _ts, answer = bot.slack.open_assistant_thread("U0ALICE", looking_at="C0OPS")
    assert answer.status == 200
    assert bot.run_jobs(timeout=0.3) == 0
    monkeypatch.undo()

    bot.clock.advance(minutes=1)
    bot.run_jobs()  # installs the context with the advanced clock
    reconcile()
    assert bot.run_jobs(wait_for=1) == 1
    assert len(posts_in(bot, dm, containing="Hi <@U0ALICE>")) == 1
    reconcile()  # settled now: nothing more to enqueue
    assert bot.run_jobs(timeout=0.3) == 0
    assert len(posts_in(bot, dm, containing="Hi <@U0ALICE>")) == 1
