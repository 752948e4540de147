"""``baton report`` over real rows: a mention approved and executed after two transient errors, a model
call's cost, and a period with nothing in it."""

from __future__ import annotations

import argparse
import json

import pytest

from baton.config import CommandError
from baton.report_cli import add_report_parser
from slackui import plan_card
from tests.scenario.loop_helpers import click, plan_row

ASK = "<@U0BATON> post Release 1.2 is out to <#C0OPS|ops>"


@pytest.fixture
def baton_report(bot, monkeypatch, capsys):
    """Run ``baton report ARGS`` (the parser as ``baton.cli`` wires it) against the test database; return stdout."""
    monkeypatch.setenv("DATABASE_URL", bot.settings.database_url)
    monkeypatch.setenv("REDIS_URL", bot.settings.redis_url)
    monkeypatch.setenv("BATON_HOME", str(bot.settings.baton_home))
    parser = argparse.ArgumentParser(prog="baton")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name, func, help_text):
        command = sub.add_parser(name, help=help_text)
        command.set_defaults(func=func)
        return command

    add_report_parser(sub, add)

    def run(*argv: str) -> str:
        args = parser.parse_args(["report", *argv])
        assert args.func(args) == 0
        return capsys.readouterr().out

    return run


def approved_run_with_retries(bot, db):
    bot.slack.post_as_user("U0ALICE", "C0GENERAL", ASK)
    bot.run_jobs(wait_for=1)
    plan = plan_row(db)
    db.execute(
        "INSERT INTO llm_calls (team_id, request_id, plan_id, purpose, model, ok, cost_usd) "
        "VALUES (%s, %s, %s, 'plan', 'gpt-4o-mini', true, 0.0125)",
        (plan["team_id"], plan["request_id"], plan["id"]),
    )
    bot.slack.inject("chat.postMessage", status=500, times=2)
    click(bot, "U0BOB", plan, plan_card.APPROVE)
    bot.run_jobs(wait_for=1)
    assert plan_row(db)["status"] == "succeeded"
    return plan


def test_the_report_shows_the_seed_metrics_of_the_period(bot, db, baton_report):
    approved_run_with_retries(bot, db)
    table = baton_report("--since", "24h")
    assert "1 plans (succeeded 1)" in table
    lines = {line.split("  ")[0]: line for line in table.splitlines() if "  " in line}
    assert "100.0%" in lines["workflow completion rate"] and "1 succeeded of 1 finished" in table
    assert "1 failed steps recovered, 0 not" in lines["mean time to recovery"]
    assert "0.0%" in lines["human override frequency"]
    assert "$0.0125" in lines["token cost per completed workflow"]
    assert "1 decisions" in lines["approvals' median wait"]

    data = json.loads(baton_report("--since", "24h", "--json"))
    assert data["workflow_completion_rate"] == 1.0 and data["human_override_rate"] == 0.0
    assert data["token_cost_per_completed_workflow_usd"] == "0.012500"
    assert data["recovered_steps"] == 1 and data["mttr_seconds"] >= 0
    assert data["median_approval_wait_seconds"] > 0


def test_a_team_filter_and_an_empty_period_print_zeros_and_n_a(bot, db, baton_report):
    approved_run_with_retries(bot, db)
    assert "0 plans (none)" in baton_report("--since", "24h", "--team", "T0NOBODY")
    empty = baton_report("--since", "2001-01-01", "--until", "2001-01-08")
    assert "0 plans (none)" in empty
    assert empty.count("n/a") == 5
    data = json.loads(baton_report("--since", "2001-01-01", "--until", "2001-01-08", "--json"))
    assert data["plans"] == 0 and data["workflow_completion_rate"] is None and data["mttr_seconds"] is None


def test_a_bad_period_is_one_clear_error(bot, baton_report):
    with pytest.raises(CommandError, match="not a period"):
        baton_report("--since", "yesterday-ish")
    with pytest.raises(CommandError, match="must be after"):
        baton_report("--since", "2001-01-08", "--until", "2001-01-01")
