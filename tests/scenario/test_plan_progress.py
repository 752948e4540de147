"""Live progress with Slack's ``plan`` block (``BATON_SLACK_PLAN_BLOCKS``): the card's steps become tasks that move
pending -> in_progress -> complete (or error) as the plan runs; every update passes the local workspace's checks."""

from __future__ import annotations

from slackui import plan_card
from tests.scenario.loop_helpers import click, latest_card_blocks, plan_row, posts_in

ASK = "<@U0BATON> post Release 1.2 is out to <#C0OPS|ops>"


def card_updates(bot, plan):
    return [c.params for c in bot.slack.calls_to("chat.update") if c.params.get("ts") == plan["card_ts"]]


def task_statuses(blocks):
    plans = [b for b in blocks if b.get("type") == "plan"]
    return [t["status"] for t in plans[0]["tasks"]] if plans else None


def test_a_running_plan_shows_its_steps_as_tasks_that_progress(bot, db):
    bot.setting_changes = {"slack_plan_blocks": True}
    bot.slack.post_as_user("U0ALICE", "C0GENERAL", ASK)
    bot.run_jobs(wait_for=1)
    plan = plan_row(db)
    # Waiting for approval: the previews and risk badges an approver reads, as before.
    assert task_statuses(latest_card_blocks(bot, plan)) is None
    assert any(b.get("type") == "actions" for b in latest_card_blocks(bot, plan))

    click(bot, "U0BOB", plan, plan_card.APPROVE)
    bot.run_jobs(wait_for=1)
    assert len(posts_in(bot, "C0OPS", containing="Release 1.2 is out")) == 1

    seen = [task_statuses(update["blocks"]) for update in card_updates(bot, plan)]
    seen = [s for s in seen if s is not None]
    assert ["in_progress"] in seen and seen[-1] == ["complete"], seen
    assert seen.index(["in_progress"]) < len(seen) - 1
    final = latest_card_blocks(bot, plan)
    title = next(b for b in final if b["type"] == "plan")["title"]
    assert title.startswith("Done:")
    assert not any(b.get("type") == "actions" for b in final)


def test_a_failing_step_ends_as_an_error_task(bot, db):
    bot.setting_changes = {"slack_plan_blocks": True}
    bot.slack.post_as_user("U0ALICE", "C0GENERAL", ASK)
    bot.run_jobs(wait_for=1)
    plan = plan_row(db)
    bot.slack.inject("chat.postMessage", error="channel_not_found")  # the step's post: a permanent error
    click(bot, "U0BOB", plan, plan_card.APPROVE)
    bot.run_jobs(wait_for=1)
    assert plan_row(db)["status"] == "failed"
    final = latest_card_blocks(bot, plan)
    block = next(b for b in final if b["type"] == "plan")
    assert [t["status"] for t in block["tasks"]] == ["error"]
    assert "channel_not_found" in str(block["tasks"][0].get("output"))


def test_without_the_setting_the_card_keeps_its_sections(bot, db):
    bot.slack.post_as_user("U0ALICE", "C0GENERAL", ASK)
    bot.run_jobs(wait_for=1)
    plan = plan_row(db)
    click(bot, "U0BOB", plan, plan_card.APPROVE)
    bot.run_jobs(wait_for=1)
    assert all(task_statuses(update["blocks"]) is None for update in card_updates(bot, plan))
