"""Operators' commands through the real endpoint and their ``baton`` twins: ``/baton status`` (queues, failed
jobs, approvals waiting, stuck requests, today's spend), ``/baton plans`` (linked), ``/baton policy`` (shown to
everyone, changed only by admins: configured ids, the workspace policy's admins or a Slack user group), and
``baton requeue-failed`` putting a failed job back after the fix."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from rq import Queue

from baton.admin_cli import add_admin_parsers
from baton.config import CommandError
from baton.web_server import WebServer
from core.policy_command import POLICY_USAGE
from memory.policies import save_policy
from slackui import plan_card, replies
from tests.conftest import BOT_TOKEN
from tests.fakes.inprocess_worker import InProcessWorker
from tests.scenario.loop_helpers import click, ephemerals_to, eventually, plan_row, posts_in

ASK = "<@U0BATON> post Release 1.2 is out to <#C0OPS|ops>"
WORKSPACE_URL = "https://baton-local.slack.com"

#: The failing job's bug, "fixed" by the test before requeueing.
BUG = {"present": True}


def fragile_job(marker: str) -> str:
    """A job that fails until its bug is fixed (importable, so RQ can run it by name)."""
    if BUG["present"]:
        raise RuntimeError("the bug")
    return f"done {marker}"


@pytest.fixture(autouse=True)
def _bug_present():
    BUG["present"] = True
    yield
    BUG["present"] = True


@pytest.fixture
def bot_with(bot, settings, local_slack_server):
    """Start a second web app with changed settings (admins, a group, a dead Redis) and send Slack there."""
    started: list[WebServer] = []
    previous = local_slack_server.events_url

    def start(**changes):
        server = WebServer(settings.with_changes(**changes), host="127.0.0.1", port=0, now=bot.clock.now)
        url = server.start_in_thread()
        local_slack_server.events_url = url + "/slack/events"
        started.append(server)
        return bot

    yield start
    local_slack_server.events_url = previous
    for server in started:
        server.stop_thread()


@pytest.fixture
def cli_env(monkeypatch, backends, local_slack_server):
    """The environment a ``baton`` command reads, pointing at the test Postgres, Redis and Slack."""
    for name in ("BATON_ADMINS", "BATON_ADMIN_GROUP", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BATON_HOME", str(backends.home))
    monkeypatch.setenv("DATABASE_URL", backends.database_url)
    monkeypatch.setenv("REDIS_URL", backends.redis_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_API_URL", local_slack_server.api_url)


def baton(capsys, *argv):
    """Run ``baton <argv>`` as ``baton.cli`` does (``add`` helper, CommandError printed): (exit code, output)."""
    parser = argparse.ArgumentParser(prog="baton")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name, func, help_text):
        command = sub.add_parser(name, help=help_text, description=help_text)
        command.set_defaults(func=func)
        return command

    add_admin_parsers(sub, add)
    capsys.readouterr()
    args = parser.parse_args(list(argv))
    try:
        code = args.func(args)
    except CommandError as err:
        print(f"baton: error: {err}", file=sys.stderr)
        code = 1
    out = capsys.readouterr()
    return code, out.out + out.err


def answer(bot, text, *, user="U0ALICE", channel="C0GENERAL"):
    """Run ``/baton <text>``; the usage text of the ack, or else the ephemeral answer that follows."""
    before = len(bot.slack.calls_to("response_url"))
    reply = bot.slack.slash_command(user, channel, "/baton", text)
    assert reply.status == 200
    if reply.body:
        return reply.body
    hooks = eventually(lambda: bot.slack.calls_to("response_url")[before:])
    assert hooks, f"no answer to /baton {text}"
    assert hooks[-1].params.get("response_type") == "ephemeral"
    return hooks[-1].params["text"]


def ask_and_plan(bot, text=ASK, *, channel="C0GENERAL", user="U0ALICE"):
    bot.slack.post_as_user(user, channel, text)
    bot.run_jobs(wait_for=1)


def audit_rows(db, kind):
    return db.execute("SELECT actor, detail FROM audit_log WHERE kind = %s ORDER BY id", (kind,)).fetchall()


def insert_plans(db, count, *, channel="C0GENERAL", now=None):
    """``count`` pending plans recorded directly (their cards exist only as ids)."""
    now = now or datetime.now(UTC)
    for n in range(count):
        request = db.execute(
            "INSERT INTO requests (team_id, dedupe_key, source, channel_id, user_id, text, status) "
            "VALUES ('T0LOCAL', %s, 'command', %s, 'U0BOB', 'x', 'planned') RETURNING id", (f"bulk-{n}", channel),
        ).fetchone()["id"]
        db.execute(
            "INSERT INTO plans (request_id, team_id, channel_id, requester_id, title, rationale, planner, risk, "
            "expires_at, card_channel, card_ts, created_at) VALUES (%s, 'T0LOCAL', %s, 'U0BOB', %s, 'r', 'rules', "
            "'medium', %s, %s, %s, %s)",
            (request, channel, f"Bulk plan {n}", now + timedelta(hours=20), channel, f"1700000000.{n:06d}",
             now - timedelta(hours=1)),
        )


def llm_call(db, *, channel, cost, known=True):
    db.execute(
        "INSERT INTO llm_calls (team_id, purpose, model, cost_usd, ok, channel_id, cost_known) "
        "VALUES ('T0LOCAL', 'plan', 'gpt-4o-mini', %s, true, %s, %s)",
        (Decimal(cost), channel, known),
    )


# -- status and requeue-failed ---------------------------------------------------------------------------
def test_status_counts_a_failed_job_and_requeue_failed_puts_it_back(bot, db, capsys, cli_env):
    ask_and_plan(bot)
    db.execute("INSERT INTO requests (team_id, dedupe_key, source, channel_id, user_id, text, status, created_at, "
               "updated_at) VALUES ('T0LOCAL', 'stuck', 'mention', 'C0GENERAL', 'U0BOB', 'x', 'planning', "
               "now() - interval '10 minutes', now() - interval '10 minutes')")
    llm_call(db, channel="C0GENERAL", cost="0.0100")
    llm_call(db, channel="C0GENERAL", cost="0", known=False)
    llm_call(db, channel="C0OPS", cost="0.0200")
    llm_call(db, channel="C0OPS", cost="5")  # yesterday's: not today's spend
    db.execute("UPDATE llm_calls SET at = now() - interval '1 day' WHERE cost_usd = 5")
    queue = Queue("default", connection=bot.redis)
    queue.enqueue(fragile_job, "m1", job_id="fragile-1")
    InProcessWorker([queue], connection=bot.redis).work(burst=True, logging_level="WARNING")

    text = answer(bot, "status", user="U0BOB")
    assert "`default`: 0 queued, 0 running, 0 scheduled, 1 failed" in text
    assert "`plans`: 0 queued, 0 running, 0 scheduled, 0 failed" in text
    assert "1 failed job" in text and "baton requeue-failed" in text
    assert "*Approvals*: 1 plan waiting for approval (oldest" in text
    assert "*Planning*: 1 request stuck for over 2 min (oldest 10 min)" in text
    assert "<#C0GENERAL> $0.0100 in 2 calls; workspace $0.0300 in 3 calls" in text
    assert "1 call had no known price" in text

    code, out = baton(capsys, "status", "--channel", "C0GENERAL")
    assert code == 0
    assert "workspace Baton Local (T0LOCAL)" in out and "default: 0 queued, 0 running, 0 scheduled, 1 failed" in out
    assert "Approvals: 1 plan waiting for approval" in out and "1 request stuck for over 2 min" in out
    assert "#general $0.0100 in 2 calls; workspace $0.0300 in 3 calls" in out  # names from Slack, not ids

    code, out = baton(capsys, "requeue-failed", "--dry-run")
    assert code == 0
    assert "would requeue  fragile-1  tests.scenario.test_admin.fragile_job  (queue default)" in out
    assert "dry run: 1 failed job would be requeued; nothing changed" in out
    assert queue.failed_job_registry.count == 1 and queue.count == 0

    code, out = baton(capsys, "requeue-failed")
    assert code == 0
    assert "requeued       fragile-1  tests.scenario.test_admin.fragile_job  (queue default)" in out
    assert out.strip().endswith("requeued 1 failed job")
    assert queue.failed_job_registry.count == 0 and queue.count == 1

    BUG["present"] = False  # the fix is deployed; the same job now succeeds
    InProcessWorker([queue], connection=bot.redis).work(burst=True, logging_level="WARNING")
    assert queue.fetch_job("fragile-1").return_value() == "done m1"
    assert "`default`: 0 queued, 0 running, 0 scheduled, 0 failed" in answer(bot, "status")
    code, out = baton(capsys, "requeue-failed", "--queue", "default")
    assert code == 0 and out.strip() == "requeued 0 failed jobs"


def test_status_says_when_redis_is_down_and_still_answers_the_rest(bot_with, db):
    bot = bot_with(redis_url="redis://127.0.0.1:1/0")  # nothing listens on port 1
    text = answer(bot, "status")
    assert "queue depths unknown: Redis is unreachable" in text
    assert "*Approvals*: none waiting" in text and "*Planning*: nothing stuck" in text


def test_status_with_arguments_answers_with_usage(bot, db):
    assert answer(bot, "status please") == replies.STATUS_USAGE


# -- plans -----------------------------------------------------------------------------------------------
def test_plans_lists_the_channels_pending_plans_with_links_to_their_cards(bot, db, capsys, cli_env, monkeypatch):
    ask_and_plan(bot)
    ask_and_plan(bot, "<@U0BATON> post Standup moved to 10:00 to <#C0GENERAL|general>", channel="C0OPS")
    general, ops = db.execute("SELECT * FROM plans ORDER BY id").fetchall()
    assert general["channel_id"] == "C0GENERAL" and ops["channel_id"] == "C0OPS"
    general_link = f"{WORKSPACE_URL}/archives/{general['card_channel']}/p{general['card_ts'].replace('.', '')}"

    text = answer(bot, "plans", user="U0BOB")
    assert text.startswith("*Plans waiting for approval in <#C0GENERAL>* (1)")
    assert general["title"] == "Post a message in <#C0OPS|ops>"
    assert f"<{general_link}|#{general['id']} Post a message in #ops>" in text  # no nested markup in a link
    assert "high risk, asked by <@U0ALICE>" in text and "expires in 23 h" in text
    assert f"#{ops['id']} " not in text

    everything = answer(bot, "plans all")
    assert "in this workspace* (2)" in everything
    assert f"#{ops['id']} Post a message in #general>" in everything and "in <#C0OPS>" in everything

    code, out = baton(capsys, "plans", "--channel", "C0GENERAL")
    assert code == 0
    assert out.startswith("Plans waiting for approval in #general (1)")
    assert f"#{general['id']} Post a message in #ops <{general_link}>: high risk, asked by Alice" in out

    monkeypatch.delenv("SLACK_BOT_TOKEN")  # no token: Slack cannot be asked for names, and the store has none
    code, out = baton(capsys, "plans", "--channel", "C0GENERAL")
    assert code == 0
    assert f"#{general['id']} Post a message in #ops: high risk, asked by U0ALICE" in out

    assert answer(bot, "plans everything") == replies.PLANS_USAGE


def test_plans_are_capped_at_twenty_and_say_how_many_more(bot, db):
    insert_plans(db, 23)
    text = answer(bot, "plans")
    assert "(23)" in text.splitlines()[0]
    assert sum(1 for line in text.splitlines() if line.startswith("• ")) == 20
    assert text.splitlines()[-1] == "…and 3 more"
    assert "Bulk plan 0" in text and "Bulk plan 22" not in text  # oldest first
    assert answer(bot, "plans", channel="C0OPS") == "No plans are waiting for approval in <#C0OPS>."


# -- policy ----------------------------------------------------------------------------------------------
def test_policy_shows_the_effective_policy_to_anyone(bot, db, capsys, cli_env):
    save_policy(db, team_id="T0LOCAL", channel_id="", policy={"admins": ["U0ALICE"], "expiry_hours": 12},
                updated_by="U0ROOT")
    save_policy(db, team_id="T0LOCAL", channel_id="C0GENERAL", policy={"approvers": {"high": ["U0CAROL"]}},
                updated_by="U0ROOT")
    text = answer(bot, "policy", user="U0BOB")
    assert text.splitlines()[0] == "*Approval policy in <#C0GENERAL>*"
    assert "• *Approvers*: high: <@U0CAROL>; medium: anyone; low: anyone _(this channel)_" in text
    assert "• *Pending plans expire after*: 12 hours _(workspace)_" in text
    assert "• *Requesters may approve their own plans at*: low, medium _(default)_" in text
    assert "• *Admins*: <@U0ALICE> _(workspace)_" in text
    assert "high: <@U0CAROL>" not in answer(bot, "policy", channel="C0OPS")
    assert "*Workspace approval policy*" in answer(bot, "policy --workspace")

    code, out = baton(capsys, "policy", "--channel", "C0GENERAL")
    assert code == 0
    assert "- Approvers: high: U0CAROL; medium: anyone; low: anyone (this channel)" in out
    assert "- Admins: U0ALICE (workspace)" in out
    code, out = baton(capsys, "policy")
    assert code == 0 and out.startswith("Workspace approval policy")


def test_an_admin_sets_approvers_and_then_only_they_may_approve(bot, db):
    save_policy(db, team_id="T0LOCAL", channel_id="", policy={"admins": ["U0ALICE"]}, updated_by="U0ROOT")
    text = answer(bot, "policy set approvers high <@U0BOB|bob>")
    assert text.startswith("Updated `approvers` for this channel.")
    assert "high: <@U0BOB>" in text
    stored = db.execute("SELECT policy, updated_by FROM policies WHERE channel_id = 'C0GENERAL'").fetchone()
    assert stored["policy"] == {"approvers": {"high": ["U0BOB"]}} and stored["updated_by"] == "U0ALICE"
    [changed] = audit_rows(db, "policy.changed")
    assert changed["actor"] == "U0ALICE"
    assert changed["detail"]["before"] == {} and changed["detail"]["after"] == {"approvers": {"high": ["U0BOB"]}}
    assert changed["detail"]["scope"] == "channel" and changed["detail"]["channel"] == "C0GENERAL"

    bot.slack.add_user("U0CAROL", "carol")
    ask_and_plan(bot)
    plan = plan_row(db)
    assert plan["risk"] == "high"
    click(bot, "U0CAROL", plan, plan_card.APPROVE)
    bot.run_jobs()
    assert plan_row(db)["status"] == "pending"
    assert eventually(lambda: any("designated approvers" in t for t in ephemerals_to(bot, "U0CAROL")))
    click(bot, "U0BOB", plan, plan_card.APPROVE)
    bot.run_jobs(wait_for=1)
    assert plan_row(db)["status"] == "succeeded"
    assert len(posts_in(bot, "C0OPS", containing="Release 1.2 is out")) == 1


def test_a_non_admin_is_refused_ephemerally_and_the_refusal_is_audited(bot_with, db):
    bot = bot_with(admins=("U0ALICE",))
    for text in ("policy set approvers high <@U0BOB>", "policy reset", "policy --workspace set admins <@U0BOB>"):
        assert answer(bot, text, user="U0BOB") == replies.ADMIN_ONLY
    assert db.execute("SELECT count(*) AS n FROM policies").fetchone()["n"] == 0
    refusals = audit_rows(db, "admin.refused")
    assert [(r["actor"], r["detail"]["command"]) for r in refusals] == [
        ("U0BOB", "policy set approvers"), ("U0BOB", "policy reset"), ("U0BOB", "policy set admins")]
    assert all(r["detail"]["channel"] == "C0GENERAL" for r in refusals)
    assert BOT_TOKEN not in json.dumps([r["detail"] for r in refusals])
    assert audit_rows(db, "policy.changed") == []
    assert not any("Only Baton admins" in (m.get("text") or "") for m in bot.slack.messages("C0GENERAL"))
    # Anyone may still read it, and a configured admin may change it.
    assert "*Approval policy in <#C0GENERAL>*" in answer(bot, "policy", user="U0BOB")
    assert answer(bot, "policy set self_approval low").startswith("Updated `self_approval` for this channel.")
    assert answer(bot, "policy reset").startswith("Reset: this channel now follows the workspace's policy.")
    assert answer(bot, "policy reset").startswith("Nothing to reset: this channel has no settings of its own.")
    assert [r["detail"]["action"] for r in audit_rows(db, "policy.changed")] == ["set", "reset"]


def test_malformed_policy_commands_answer_with_usage_and_change_nothing(bot, db):
    save_policy(db, team_id="T0LOCAL", channel_id="", policy={"admins": ["U0ALICE"]}, updated_by="U0ROOT")
    bad = answer(bot, "policy set approvers extreme <@U0BOB>")
    assert bad == f"`extreme` is not a risk; use `low`, `medium` or `high`.\n{POLICY_USAGE}"
    assert "from 1 to 720" in answer(bot, "policy set expiry_hours 9999")
    assert "Usage:" in answer(bot, "policy set approvers high @bob", user="U0BOB")
    assert answer(bot, "policy help") == POLICY_USAGE
    assert answer(bot, "policy set approvers high <@U0BOB>", channel="D0ALICE") == replies.POLICY_IN_DM
    assert db.execute("SELECT count(*) AS n FROM policies WHERE channel_id <> ''").fetchone()["n"] == 0
    assert audit_rows(db, "policy.changed") == [] and audit_rows(db, "admin.refused") == []


def test_a_member_of_the_admin_user_group_is_an_admin(bot_with, db):
    bot = bot_with(admin_group="S0ADMINS")
    bot.slack.add_user("U0CAROL", "carol")
    assert answer(bot, "policy --workspace set expiry_hours 48", user="U0CAROL") == replies.ADMIN_ONLY
    assert [c.params.get("usergroup") for c in bot.slack.calls_to("usergroups.users.list")] == ["S0ADMINS"]
    bot.slack.add_usergroup("S0ADMINS", "baton-admins", ["U0ALICE", "U0CAROL"])
    text = answer(bot, "policy --workspace set expiry_hours 48", user="U0CAROL")
    assert text.startswith("Updated `expiry_hours` for the workspace.")
    assert "48 hours _(workspace)_" in text and "members of <!subteam^S0ADMINS>" in text
    row = db.execute("SELECT policy FROM policies WHERE channel_id = ''").fetchone()
    assert row["policy"] == {"expiry_hours": 48}
    assert [r["actor"] for r in audit_rows(db, "admin.refused")] == ["U0CAROL"]
    assert [r["actor"] for r in audit_rows(db, "policy.changed")] == ["U0CAROL"]


def test_the_cli_changes_policy_audited_as_cli(bot, db, capsys, cli_env):
    code, out = baton(capsys, "policy", "set", "expiry_hours", "48")
    assert code == 1 and "say which policy to set: --channel C… or --workspace" in out
    code, out = baton(capsys, "policy", "--channel", "C0GENERAL", "set", "approvers", "high", "U0BOB")
    assert code == 1 and "no workspace has used Baton yet" in out
    code, out = baton(capsys, "policy", "--team", "T0LOCAL", "--channel", "C0GENERAL", "set", "approvers", "high",
                      "U0BOB")
    assert code == 0
    assert out.startswith("Updated `approvers` for channel C0GENERAL.")
    assert "- Approvers: high: U0BOB; medium: anyone; low: anyone (this channel)" in out
    [changed] = audit_rows(db, "policy.changed")
    assert changed["actor"] == "cli" and changed["detail"]["after"] == {"approvers": {"high": ["U0BOB"]}}
    code, out = baton(capsys, "policy", "--channel", "C0GENERAL", "set", "approvers", "extreme", "U0BOB")
    assert code == 1 and "`extreme` is not a risk" in out
    save_policy(db, team_id="T0OTHER", channel_id="", policy={}, updated_by="U0ROOT")
    code, out = baton(capsys, "plans")
    assert code == 1 and "several workspaces (T0LOCAL, T0OTHER): pass --team" in out
    code, out = baton(capsys, "policy", "--team", "T0LOCAL", "--channel", "C0GENERAL", "reset")
    assert code == 0 and out.startswith("Reset: channel C0GENERAL now follows the workspace's policy.")
    assert db.execute("SELECT count(*) AS n FROM policies WHERE channel_id = 'C0GENERAL'").fetchone()["n"] == 0


def test_audit_prints_who_decided_by_name_when_slack_can_say(bot, db, capsys, cli_env, monkeypatch):
    from baton.cli import cmd_audit

    ask_and_plan(bot)
    plan = plan_row(db)
    assert click(bot, "U0BOB", plan, plan_card.APPROVE).status == 200
    bot.run_jobs(wait_for=1)
    cmd_audit(argparse.Namespace(plan_id=plan["id"], home=None, log_level=None, port=None))
    out = capsys.readouterr().out
    assert " by Bob " in out and "U0BOB" not in out, out

    monkeypatch.delenv("SLACK_BOT_TOKEN")  # the store keeps ids only
    cmd_audit(argparse.Namespace(plan_id=plan["id"], home=None, log_level=None, port=None))
    assert " by U0BOB " in capsys.readouterr().out
