"""Chat aliases and ``/baton run`` through the real signed endpoint and the local Slack workspace, with no model:
an alias to a built-in action approved and run once, an alias to ``mcp-server-git`` creating a branch, ``/baton run``
with quoting and its errors, ``/baton help`` listing the aliases, and policy applying to an alias's plan as to any."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from core.mcp_config import AliasConfig, McpConfig, StdioServer
from slackui import plan_card
from tests.scenario.loop_helpers import (
    assert_own_approval_refused,
    card_text,
    click,
    click_body,
    ephemerals_to,
    plan_row,
    posts_in,
)
from tests.scenario.test_mcp_loop import git

FORM = "application/x-www-form-urlencoded"


def aliases(*entries, servers=None):
    return McpConfig(servers=servers or {}, aliases=tuple(AliasConfig.model_validate(e) for e in entries))


TASK_ALIAS = {
    "pattern": "task for {owner} {title...}",
    "action": "tasks.create",
    "args": {"owner": "{owner}", "title": "{title}"},
    "description": "Create a task for {owner}: {title}",
}
ANNOUNCE_ALIAS = {
    "pattern": "announce in {channel} {text...}",
    "action": "slack.post_message",
    "args": {"channel": "{channel}", "text": "{text}"},
}


def mention(bot, text, *, user="U0ALICE", channel="C0GENERAL"):
    delivery = bot.slack.post_as_user(user, channel, "<@U0BATON> " + text)
    bot.run_jobs(wait_for=1)
    return delivery


def command(bot, text, *, user="U0ALICE", channel="C0GENERAL"):
    answer = bot.slack.slash_command(user, channel, "/baton", text)
    assert answer.status == 200
    return answer


def tasks(db):
    return db.execute("SELECT title, owner_id FROM tasks ORDER BY id").fetchall()


def test_an_alias_to_a_built_in_action_is_planned_without_the_model_and_runs_once(bot, db):
    bot.setting_changes["mcp_servers"] = aliases(TASK_ALIAS)
    mention(bot, 'TASK FOR <@U0BOB|bob> update the "release" docs')
    plan = plan_row(db)
    assert plan["planner"] == "alias" and plan["status"] == "pending" and plan["risk"] == "medium"
    shown = card_text(bot, plan)
    assert "Create a task for @bob: update the" in shown and plan_card.ALIAS_PLANNED in shown
    body = click_body(plan, user="U0ALICE")  # medium risk: the requester may approve it
    assert bot.post_signed(body, content_type=FORM).status == 200
    assert bot.post_signed(body, content_type=FORM).status == 200  # a double click
    bot.run_jobs(wait_for=1)
    bot.run_jobs()
    assert plan_row(db)["status"] == "succeeded"
    assert tasks(db) == [{"title": 'update the "release" docs', "owner_id": "U0BOB"}]


def test_an_alias_matches_in_a_dm_and_through_the_slash_command_too(bot, db):
    bot.setting_changes["mcp_servers"] = aliases(TASK_ALIAS)
    bot.slack.post_as_user("U0ALICE", "D0ALICE", "task for <@U0BOB> water the plants")  # a DM needs no mention
    bot.run_jobs(wait_for=1)
    command(bot, "task for <@U0BOB|bob> feed the cat")
    bot.run_jobs(wait_for=1)
    rows = db.execute(
        "SELECT p.planner, p.channel_id, s.args FROM plans p JOIN plan_steps s ON s.plan_id = p.id ORDER BY p.id"
    ).fetchall()
    assert [(r["planner"], r["channel_id"], r["args"]["title"]) for r in rows] == [
        ("alias", "D0ALICE", "water the plants"),
        ("alias", "C0GENERAL", "feed the cat"),
    ]


def test_a_request_no_alias_matches_falls_through_to_the_planner(bot, db):
    bot.setting_changes["mcp_servers"] = aliases(TASK_ALIAS)
    mention(bot, "create a task for <@U0BOB> to update the docs by friday")
    assert plan_row(db)["planner"] == "rules"


def test_an_alias_capturing_a_channel_is_held_to_the_same_policy_as_any_plan(bot, db):
    bot.setting_changes["mcp_servers"] = aliases(ANNOUNCE_ALIAS)
    mention(bot, "announce in <#C0OPS|ops> the deploy is at 3pm")
    plan = plan_row(db)
    assert plan["planner"] == "alias" and plan["risk"] == "high"  # outside the requesting channel
    assert_own_approval_refused(bot, db, plan, "U0ALICE")
    assert posts_in(bot, "C0OPS", containing="deploy") == []


def test_an_alias_with_arguments_the_action_refuses_is_refused_not_guessed(bot, db):
    bot.setting_changes["mcp_servers"] = aliases(ANNOUNCE_ALIAS)
    mention(bot, "announce in general hello")  # not a channel id: the connector's own validation says no
    assert db.execute("SELECT count(*) AS n FROM plans").fetchone()["n"] == 0
    refusal = posts_in(bot, "C0GENERAL", containing="The alias “announce in {channel} {text...}” matched")
    assert len(refusal) == 1 and "`channel`" in refusal[0]["text"]


def test_baton_run_plans_one_step_directly_with_quoting(bot, db):
    answer = command(bot, 'run slack.post_message channel=<#C0GENERAL|general> text="Deploy at 3pm, don\'t wait"')
    assert "slack.post_message" in answer.body
    bot.run_jobs(wait_for=1)
    plan = plan_row(db)
    assert plan["planner"] == "alias"
    step = db.execute("SELECT action, args FROM plan_steps WHERE plan_id = %s", (plan["id"],)).fetchone()
    assert step["action"] == "slack.post_message"
    assert step["args"] == {"channel": "C0GENERAL", "text": "Deploy at 3pm, don't wait", "in_thread": False}
    click(bot, "U0ALICE", plan, plan_card.APPROVE)
    bot.run_jobs(wait_for=1)
    bot.run_jobs()
    assert plan_row(db)["status"] == "succeeded"
    assert len(posts_in(bot, "C0GENERAL", containing="Deploy at 3pm, don't wait")) == 1


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("run slack.post_mesage text=hi", "`slack.post_mesage` is not an action I can use here (try `slack."),
        ("run tasks.create title=x colour=red", "`tasks.create` takes no argument `colour`"),
        ("run tasks.complete task_id=abc", "`task_id`:"),
    ],
)
def test_baton_run_errors_are_told_to_the_requester_alone(bot, db, line, error):
    command(bot, line)
    bot.run_jobs(wait_for=1)
    assert db.execute("SELECT count(*) AS n FROM plans").fetchone()["n"] == 0
    said = ephemerals_to(bot, "U0ALICE")
    assert len(said) == 1 and error in said[0], said
    assert posts_in(bot, "C0GENERAL", containing="could not plan") == []


def test_a_baton_run_line_that_cannot_be_read_is_answered_at_once(bot, db):
    answer = command(bot, 'run slack.post_message text="never closed')
    assert "never closed" in answer.body and "Usage" in answer.body
    assert db.execute("SELECT count(*) AS n FROM requests").fetchone()["n"] == 0


@pytest.fixture
def git_repo(tmp_path):
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    git(repo, "config", "user.email", "baton@example.com")
    git(repo, "config", "user.name", "Baton")
    git(repo, "commit", "-q", "--allow-empty", "-m", "init")
    return repo


def git_config(repo: Path) -> McpConfig:
    server = StdioServer.model_validate(
        {
            "command": sys.executable,
            "args": ["-m", "mcp_server_git", "--repository", str(repo)],
            "baton": {"tools": {"git_reset": {"policy": "deny"}}},
        }
    )
    return aliases(
        {
            "pattern": "create branch {name}",
            "action": "git.git_create_branch",
            "args": {"repo_path": str(repo), "branch_name": "{name}"},
            "description": "Create branch {name}",
        },
        {"pattern": "reset the repo", "action": "git.git_reset", "args": {"repo_path": str(repo)}},
        servers={"git": server},
    )


def test_an_alias_to_mcp_server_git_creates_one_branch_after_approval(bot, db, git_repo):
    bot.setting_changes["mcp_servers"] = git_config(git_repo)
    mention(bot, "Create Branch release-1.2")
    plan = plan_row(db)
    assert plan["planner"] == "alias" and plan["status"] == "pending" and plan["risk"] == "medium"
    assert git(git_repo, "branch", "--list", "release-1.2") == ""  # nothing before approval
    body = click_body(plan, user="U0BOB")
    assert bot.post_signed(body, content_type=FORM).status == 200
    assert bot.post_signed(body, content_type=FORM).status == 200  # a replayed click
    bot.run_jobs(wait_for=1)
    bot.run_jobs()
    assert plan_row(db)["status"] == "succeeded"
    assert git(git_repo, "branch", "--list", "release-1.2") == "release-1.2"
    assert len(posts_in(bot, "C0GENERAL", containing="Create branch release-1.2 — result:")) == 1


def test_a_denied_tool_is_not_available_to_an_alias_and_help_lists_only_usable_aliases(bot, db, git_repo):
    bot.setting_changes["mcp_servers"] = git_config(git_repo)
    mention(bot, "reset the repo")
    assert db.execute("SELECT count(*) AS n FROM plans").fetchone()["n"] == 0
    assert posts_in(bot, "C0GENERAL", containing="`git.git_reset` is not an action I can use here")
    answer = command(bot, "help")
    assert "/baton run <action> key=value" in answer.body
    bot.run_jobs(wait_for=1)
    listing = ephemerals_to(bot, "U0ALICE")
    assert len(listing) == 1
    assert "`create branch {name}` → `git.git_create_branch` · medium risk" in listing[0]
    assert "reset the repo" not in listing[0] and "/baton run" in listing[0]
    # The tool's own JSON schema judges /baton run's arguments.
    command(bot, f"run git.git_create_branch repo_path={git_repo}")
    bot.run_jobs(wait_for=1)
    said = ephemerals_to(bot, "U0ALICE")
    assert len(said) == 2 and "'branch_name' is a required property" in said[1], said
    assert db.execute("SELECT count(*) AS n FROM plans").fetchone()["n"] == 0


def test_in_a_channel_baton_does_not_act_in_an_alias_is_refused_and_help_lists_none(bot, db):
    from memory.policies import save_policy

    save_policy(db, team_id="T0LOCAL", channel_id="", policy={"allowed_channels": ["C0OPS"]}, updated_by="U0ADMIN")
    bot.setting_changes["mcp_servers"] = aliases(TASK_ALIAS)
    mention(bot, "task for <@U0BOB> update the docs")
    assert db.execute("SELECT count(*) AS n FROM plans").fetchone()["n"] == 0
    assert db.execute("SELECT status FROM requests").fetchone()["status"] == "refused"
    command(bot, "help")
    bot.run_jobs(wait_for=1)
    assert ephemerals_to(bot, "U0ALICE") == []
    assert db.execute("SELECT status FROM requests ORDER BY id DESC LIMIT 1").fetchone()["status"] == "answered"


def test_doctor_names_each_alias_whose_action_is_not_available(settings, git_repo):
    from baton.doctor import _mcp_checks

    config = git_config(git_repo)
    typo = AliasConfig.model_validate(
        {"pattern": "shout {text...}", "action": "slack.post_mesage", "args": {"text": "{text}"}}
    )
    with_typo = config.model_copy(update={"aliases": (*config.aliases, typo)})
    checks = _mcp_checks(settings.with_changes(mcp_servers=with_typo))
    lines = [(c.ok, c.detail) for c in checks if c.name == "aliases"]
    assert lines == [
        (False, "“reset the repo” runs git.git_reset, which is denied by policy"),
        (False, "“shout {text...}” runs slack.post_mesage, which is not an available action"),
    ]
    fine = _mcp_checks(settings.with_changes(mcp_servers=config.model_copy(update={"aliases": config.aliases[:1]})))
    assert [(c.ok, c.detail) for c in fine if c.name == "aliases"] == [(True, "1 alias, every action available")]
