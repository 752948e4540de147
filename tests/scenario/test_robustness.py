"""Failure modes found in review: stalled runners, racing review submits, cross-channel corrections,
requesters cancelling their own plans, NUL bytes in payloads."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

from bot.approvals import decide_click
from memory import plans
from memory.db import connect
from slackui import plan_card
from tests.scenario.loop_helpers import click, eventually, plan_row, posts_in

ASK = "<@U0BATON> post Release 1.4 is out to <#C0OPS|ops>"


def planned(bot):
    bot.slack.post_as_user("U0ALICE", "C0GENERAL", ASK)
    bot.run_jobs(wait_for=1)


def test_a_runner_that_died_between_steps_is_resumed_and_reports_once(bot, db):
    from workers.job_context import install
    from workers.reconcile import reconcile

    planned(bot)
    plan = plan_row(db)
    # Approved and started, then the worker died before claiming the first step (no lease anywhere).
    assert plans.decide(db, plan["id"], event="approve", user_id="U0BOB", now=bot.clock.now()).applied
    assert plans.move_plan(db, plan["id"], event="start", frm="approved", now=bot.clock.now())
    install(bot.context())
    assert reconcile()["plans_resumed"] == []  # too recent: it may just be between steps
    bot.clock.advance(minutes=1)
    install(bot.context())
    assert reconcile()["plans_resumed"] == [plan["id"]]
    bot.run_jobs(wait_for=1)
    assert plan_row(db)["status"] == "succeeded"
    assert len(posts_in(bot, "C0OPS", containing="Release 1.4 is out")) == 1
    assert len(posts_in(bot, "C0GENERAL", containing="Done:")) == 1
    # Once reported, the plan is finished for the reconciler too.
    bot.clock.advance(minutes=1)
    install(bot.context())
    assert reconcile()["plans_resumed"] == []


def test_a_losing_review_submit_never_changes_what_the_winner_approved(bot, db, backends):
    for _ in range(5):
        db.execute("TRUNCATE plans, plan_steps, requests, audit_log, effects RESTART IDENTITY CASCADE")
        bot.slack.reset()
        planned(bot)
        plan_id = plan_row(db)["id"]
        barrier = threading.Barrier(2)
        outcomes = {}

        def decide(user, selected, barrier=barrier, outcomes=outcomes, plan_id=plan_id):
            with connect(backends.database_url) as conn:
                barrier.wait()
                outcomes[user] = decide_click(
                    conn,
                    plan_id=plan_id,
                    team_id="T0LOCAL",
                    user_id=user,
                    event="approve",
                    now=datetime.now(UTC),
                    selected_steps=selected,
                )

        threads = [
            threading.Thread(target=decide, args=("U0BOB", None)),
            threading.Thread(target=decide, args=("U0CAROL", {99})),
        ]  # Carol unticks the only step
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        winner = next(user for user, outcome in outcomes.items() if outcome.applied)
        selected = db.execute("SELECT selected FROM plan_steps WHERE plan_id = %s", (plan_id,)).fetchone()["selected"]
        assert selected is (winner == "U0BOB")


def test_a_correction_cannot_reach_into_another_channel_or_delete_someone_elses_memory(db):
    from memory.store import delete_memories, write_memory

    victim = write_memory(
        db,
        team_id="T1",
        scope="channel",
        channel_id="CPRIVATE",
        text="the launch code is blue",
        key="v1",
        author_id="UVICTIM",
    ).memory
    attack = write_memory(
        db,
        team_id="T1",
        scope="channel",
        channel_id="CPUBLIC",
        text="nothing to see",
        key="a1",
        author_id="UATTACKER",
        source_channel="CPUBLIC",
        replaces=victim.id,
    )
    assert attack.superseded is None
    shared = write_memory(db, team_id="T1", scope="workspace", text="standup at ten", key="s1", author_id="UVICTIM")
    mine = write_memory(
        db,
        team_id="T1",
        scope="workspace",
        text="standup at eleven",
        key="s2",
        author_id="UATTACKER",
        source_channel="CPUBLIC",
        replaces=shared.memory.id,
    )
    assert mine.superseded == shared.memory.id  # a visible, workspace-wide fact can be corrected...
    assert delete_memories(db, team_id="T1", ids=[mine.memory.id]) == [mine.memory.id]
    still = db.execute("SELECT superseded_by FROM memories WHERE id = %s", (shared.memory.id,)).fetchone()
    assert still == {"superseded_by": None}  # ...but forgetting the correction cannot delete the original


def test_the_requester_can_reject_their_own_high_risk_plan(bot, db):
    planned(bot)
    plan = plan_row(db)
    click(bot, "U0ALICE", plan, plan_card.REJECT)
    view_id = next(iter(eventually(bot.slack.views)))
    bot.slack.submit_view(
        "U0ALICE", view_id, values={"reason": {"reason": {"type": "plain_text_input", "value": "changed my mind"}}}
    )
    assert eventually(lambda: plan_row(db)["status"] == "rejected")


def test_a_nul_byte_in_a_payload_is_recorded_not_retried_forever(bot, db):
    event = {
        "type": "message",
        "channel": "C0GENERAL",
        "user": "U0BOB",
        "text": "bad\u0000byte",
        "ts": "1700000100.000100",
    }
    response = bot.slack.deliver_event(event)
    assert response.status == 200
    stored = db.execute("SELECT payload FROM slack_events").fetchone()["payload"]
    assert "bad\ufffdbyte" in json.dumps(stored, ensure_ascii=False)
