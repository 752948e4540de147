"""A Slack outage longer than the in-job retries parks the step instead of failing the plan; the recovery pass
brings it back when its time comes; only an outage past the horizon fails the plan, and the report (of success
or failure) is retried until it is posted. Errors come from the local Slack workspace's injection, time from
the injected clock: nothing here sleeps."""

from __future__ import annotations

import json
from typing import Any

from core import defaults
from slackui import plan_card
from tests.conftest import http
from tests.scenario.loop_helpers import audit_kinds, card_text, click, eventually, plan_row, posts_in
from workers.reconcile import reconcile

ASK = "<@U0BATON> post Release 1.2 is out to <#C0OPS|ops>"


def approved_plan(bot: Any, db: Any) -> dict[str, Any]:
    delivery = bot.slack.post_as_user("U0ALICE", "C0GENERAL", ASK)
    assert all(r.status == 200 for r in delivery.responses)
    bot.run_jobs(wait_for=1)
    plan = plan_row(db)
    assert click(bot, "U0BOB", plan, plan_card.APPROVE).status == 200
    assert eventually(lambda: plan_row(db)["status"] == "approved")
    return plan


def parked(db: Any, plan_id: int) -> list[dict[str, Any]]:
    return db.execute("SELECT * FROM parked_steps WHERE plan_id = %s ORDER BY idx", (plan_id,)).fetchall()


def reports(bot: Any) -> list[dict[str, Any]]:
    return [
        m
        for m in posts_in(bot, "C0GENERAL", containing="")
        if "Release 1.2" in (m.get("text") or "") and ("Done:" in m["text"] or "Failed:" in m["text"])
    ]


def pass_at(bot: Any) -> dict[str, list[int]]:
    """One recovery pass at the injected clock's time."""
    return reconcile(now_iso=bot.clock.now().isoformat())


def test_an_outage_longer_than_the_in_job_retries_parks_the_step_and_it_runs_once_later(bot, db):
    plan = approved_plan(bot, db)
    bot.slack.inject("chat.postMessage", status=429, retry_after=1, times=defaults.STEP_MAX_ATTEMPTS)
    bot.run_jobs(wait_for=1)

    # Parked, not failed: the plan runs on, the step waits for its next try, nobody was told of a failure.
    assert plan_row(db)["status"] == "running"
    step = db.execute("SELECT status, lease_until FROM plan_steps WHERE plan_id = %s", (plan["id"],)).fetchone()
    [park] = parked(db, plan["id"])
    assert step["status"] == "running" and park["parks"] == 1 and park["retry_at"] == step["lease_until"]
    assert 14 <= (park["retry_at"] - park["since"]).total_seconds() <= 16
    assert "rate-limiting" in park["reason"]
    assert posts_in(bot, "C0OPS", containing="Release 1.2") == [] and reports(bot) == []
    assert "step.parked" in audit_kinds(db, plan["id"])
    assert 'baton_step_retries_total{reason="parked"} 1.0' in http("GET", bot.url + "/metrics").body

    assert pass_at(bot)["plans_resumed"] == []  # not before its time
    bot.clock.advance(seconds=16)
    assert pass_at(bot)["plans_resumed"] == [plan["id"]]
    bot.run_jobs(wait_for=1)

    assert plan_row(db)["status"] == "succeeded"
    assert len(posts_in(bot, "C0OPS", containing="Release 1.2 is out")) == 1
    assert [r["text"].startswith(":white_check_mark: Done:") for r in reports(bot)] == [True]


def test_the_card_shows_a_parked_step_waiting_and_its_normal_state_once_it_ran(bot, db):
    plan = approved_plan(bot, db)
    bot.slack.inject("chat.postMessage", status=500, times=defaults.STEP_MAX_ATTEMPTS)
    bot.run_jobs(wait_for=1)

    [park] = parked(db, plan["id"])
    card = card_text(bot, plan)
    at = park["retry_at"]
    assert "waiting to retry: " in card and "Slack had an internal problem" in card
    assert f"next try at <!date^{int(at.timestamp())}^{{time}}|{at:%H:%M} UTC>, attempt 2" in card
    assert "running" not in card

    # Parked a second time, at its next try: the card counts on.
    bot.clock.advance(seconds=16)
    bot.slack.inject("chat.postMessage", status=429, retry_after=1, times=defaults.STEP_MAX_ATTEMPTS)
    assert pass_at(bot)["plans_resumed"] == [plan["id"]]
    bot.run_jobs(wait_for=1)
    [park] = parked(db, plan["id"])
    card = card_text(bot, plan)
    assert park["parks"] == 2 and "rate-limiting" in card and ", attempt 3" in card

    # Taken up again, the step shows what it is doing, then done; the wait is gone from the card.
    bot.clock.advance(seconds=31)
    assert pass_at(bot)["plans_resumed"] == [plan["id"]]
    bot.run_jobs(wait_for=1)
    assert plan_row(db)["status"] == "succeeded"
    card = card_text(bot, plan)
    assert "waiting to retry" not in card and ":white_check_mark: done" in card
    updates = [json.dumps(c.params.get("blocks")) for c in bot.slack.calls_to("chat.update")]
    assert sum("waiting to retry" in u for u in updates) == 2  # one update per park


def test_an_outage_past_the_horizon_fails_the_plan_and_says_so_in_the_thread(bot, db):
    bot.setting_changes = {"step_retry_horizon_seconds": 60}
    plan = approved_plan(bot, db)
    bot.slack.inject("chat.postMessage", status=500, times=2 * defaults.STEP_MAX_ATTEMPTS)
    bot.run_jobs(wait_for=1)
    assert plan_row(db)["status"] == "running" and len(parked(db, plan["id"])) == 1

    bot.clock.advance(seconds=61)
    assert pass_at(bot)["plans_resumed"] == [plan["id"]]
    bot.run_jobs(wait_for=1)

    assert plan_row(db)["status"] == "failed"
    assert posts_in(bot, "C0OPS", containing="Release 1.2") == []
    [report] = reports(bot)
    assert report["text"].startswith(":x: Failed:")
    assert "still failing after retrying for 1 minute" in report["text"]


def test_a_report_slack_refuses_is_parked_and_posted_once_when_it_is_due(bot, db):
    plan = approved_plan(bot, db)
    # The report's look-up in the thread fails (the step's own post looks in the channel, not a thread).
    bot.slack.inject("conversations.replies", status=500, times=1)
    bot.run_jobs(wait_for=1)

    assert plan_row(db)["status"] == "succeeded" and reports(bot) == []
    [park] = parked(db, plan["id"])
    assert park["idx"] == -1 and "internal problem" in park["reason"]
    assert pass_at(bot)["reports_retried"] == []

    bot.clock.advance(seconds=31)
    assert pass_at(bot)["reports_retried"] == [plan["id"]]
    bot.run_jobs(wait_for=1)
    assert len(reports(bot)) == 1 and parked(db, plan["id"]) == []

    bot.clock.advance(seconds=300)
    result = pass_at(bot)
    assert result["reports_retried"] == [] and result["plans_resumed"] == []
    bot.run_jobs()
    assert len(reports(bot)) == 1
    assert len(posts_in(bot, "C0OPS", containing="Release 1.2 is out")) == 1


def test_a_zero_horizon_fails_at_once_as_before(bot, db):
    bot.setting_changes = {"step_retry_horizon_seconds": 0}
    plan = approved_plan(bot, db)
    bot.slack.inject("chat.postMessage", status=500, times=defaults.STEP_MAX_ATTEMPTS)
    bot.run_jobs(wait_for=1)
    assert plan_row(db)["status"] == "failed" and parked(db, plan["id"]) == []
    [report] = reports(bot)
    assert f"gave up after {defaults.STEP_MAX_ATTEMPTS} attempts" in report["text"]
