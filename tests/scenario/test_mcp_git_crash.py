"""``mcp-server-git`` (the real server from PyPI) with a real ``baton worker`` SIGKILLed while its ``git_commit``
call is in flight: the step ends as outcome unknown, never called again by itself, and a person's *Run it again*
makes exactly one more commit (a double click still one) while *It happened* makes none. The repository's own
history is the witness.

The call is held in flight by a commit hook in the throwaway repository (GitPython's ``index.commit``, which the
server uses, runs them): the first commit's hook marks that it started and sleeps until the worker and everything
under it (the server, the hook) is killed. A ``pre-commit`` hook is killed before the commit is written (so it
did not happen); a ``post-commit`` hook after (so it did).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from core.mcp_config import McpConfig, StdioServer
from slackui import plan_card, step_question
from tests.scenario.loop_helpers import click, ephemerals_to, eventually, plan_row, posts_in
from tests.scenario.test_mcp_decisions import FORM, question_click_body, steps_of
from tests.scenario.test_mcp_loop import ask, git, release_notes_plan
from tests.scenario.test_worker_crash import kill_worker_when
from workers.job_context import install
from workers.reconcile import reconcile

pytestmark = pytest.mark.slow

#: The first run marks that the call started, then holds it until the test kills the worker; later runs pass.
HOOK = """#!/bin/sh
if [ ! -e '{marker}' ]; then
  touch '{marker}'
  sleep 30
fi
"""


def repository(tmp_path: Path, *, hook: str) -> tuple[Path, Path]:
    """A throwaway repository with one commit on ``main``, an untracked ``notes.txt`` and the ``hook`` that holds
    the first commit; returns it and the marker the hook writes when the call has started."""
    repo, marker = tmp_path / "repo", tmp_path / "commit-started"
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    git(repo, "config", "user.email", "baton@example.com")
    git(repo, "config", "user.name", "Baton")
    git(repo, "commit", "-q", "--allow-empty", "-m", "init")
    (repo / "notes.txt").write_text("Release 1.2 notes\n")
    script = repo / ".git" / "hooks" / hook
    script.write_text(HOOK.format(marker=marker))
    script.chmod(0o755)
    return repo, marker


def commit_killed_mid_call(
    bot: Any, fake_openai: Any, db: Any, tmp_path: Path, backends: Any, monkeypatch: Any, *, hook: str
) -> tuple[dict[str, Any], dict[str, Any], Path]:
    """Plan "create a branch and commit a file" against mcp-server-git in-process, approve it, let a real worker
    run it and SIGKILL it during ``git_commit``; resume the plan (the dead worker's lease run out). Returns the
    plan, the thread's outcome-unknown question and the repository."""
    repo, marker = repository(tmp_path, hook=hook)
    server = StdioServer(command=sys.executable, args=["-m", "mcp_server_git", "--repository", str(repo)])
    bot.setting_changes = {
        "openai_api_key": fake_openai.api_key,
        "openai_base_url": fake_openai.base_url,
        "mcp_servers": McpConfig(servers={"git": server}),
    }
    config = tmp_path / "mcp.json"
    config.write_text(json.dumps({"mcpServers": {"git": server.model_dump(exclude_defaults=True)}}))
    monkeypatch.setenv("BATON_MCP_CONFIG", str(config))  # the real worker's mcp.json
    fake_openai.queue_chat(release_notes_plan(repo))
    ask(bot, "commit notes.txt on a new branch release-notes")  # planned in-process
    plan = plan_row(db)
    assert plan["status"] == "pending" and "at most once" in json.dumps(
        next(m for m in bot.slack.messages(plan["card_channel"]) if m["ts"] == plan["card_ts"])["blocks"]
    )
    click(bot, "U0BOB", plan, plan_card.APPROVE)
    kill_worker_when(bot, backends, queues="actions", settle=0.5, condition=marker.exists)
    assert [s["status"] for s in steps_of(db, plan["id"])] == ["succeeded", "succeeded", "succeeded", "running"]
    bot.clock.advance(minutes=2)  # the dead worker's lease runs out
    install(bot.context(**bot.setting_changes))
    assert reconcile()["plans_resumed"] == [plan["id"]]
    bot.run_jobs(wait_for=1)
    commit = steps_of(db, plan["id"])[3]
    assert commit["status"] == "outcome_unknown" and "interrupted" in commit["error"]
    assert plan_row(db)["status"] == "running"  # waiting for a person: nothing retries by itself
    bot.clock.advance(minutes=10)
    bot.run_jobs()  # the recovery pass leaves it to its people too
    assert steps_of(db, plan["id"])[3]["status"] == "outcome_unknown"
    question = posts_in(bot, plan["card_channel"], containing="Outcome unknown")
    assert len(question) == 1 and "git_commit" in json.dumps(question[0]["blocks"])
    return plan, question[0], repo


def test_run_it_again_after_a_worker_died_mid_commit_makes_exactly_one_commit_even_when_double_clicked(
    bot, fake_openai, db, tmp_path, backends, monkeypatch
):
    plan, question, repo = commit_killed_mid_call(
        bot, fake_openai, db, tmp_path, backends, monkeypatch, hook="pre-commit"
    )
    # Killed before the commit was written: the branch is there, the commit is not.
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "release-notes"
    assert git(repo, "log", "--format=%s", "release-notes") == "init"
    body = question_click_body(plan, question, user="U0BOB", action_id=step_question.RERUN)
    assert bot.post_signed(body, content_type=FORM).status == 200
    assert bot.post_signed(body, content_type=FORM).status == 200  # a double click / a replayed request
    assert eventually(lambda: any("Already decided" in t for t in ephemerals_to(bot, "U0BOB")))
    bot.run_jobs(wait_for=1)
    bot.run_jobs()
    assert git(repo, "log", "--format=%s", "release-notes") == "Add release notes\ninit"  # exactly one more
    assert git(repo, "log", "--format=%s", "main") == "init"
    assert git(repo, "branch", "--format=%(refname:short)").splitlines() == ["main", "release-notes"]
    assert git(repo, "show", "--name-only", "--format=", "release-notes") == "notes.txt"
    commit = steps_of(db, plan["id"])[3]
    assert (commit["status"], commit["rerun"], commit["settled_as"], commit["settled_by"]) == (
        "succeeded",
        1,
        "rerun",
        "U0BOB",
    )
    assert plan_row(db)["status"] == "succeeded"
    report = posts_in(bot, "C0GENERAL", containing="Done:")
    assert len(report) == 1 and "run again at <@U0BOB>'s request" in report[0]["text"]
    # A later press of the old question changes nothing.
    assert bot.post_signed(body, content_type=FORM).status == 200
    bot.run_jobs()
    assert git(repo, "log", "--format=%s", "release-notes") == "Add release notes\ninit"


def test_it_happened_after_a_worker_died_mid_commit_calls_nothing_again(
    bot, fake_openai, db, tmp_path, backends, monkeypatch
):
    plan, question, repo = commit_killed_mid_call(
        bot, fake_openai, db, tmp_path, backends, monkeypatch, hook="post-commit"
    )
    # Killed after the commit was written: it happened, and Baton could not know.
    assert git(repo, "log", "--format=%s", "release-notes") == "Add release notes\ninit"
    head = git(repo, "rev-parse", "release-notes")
    bot.slack.click("U0BOB", channel=plan["card_channel"], message_ts=question["ts"], action_id=step_question.HAPPENED)
    bot.run_jobs(wait_for=1)
    bot.run_jobs()
    assert git(repo, "rev-parse", "release-notes") == head  # no second commit
    assert git(repo, "log", "--format=%s", "release-notes") == "Add release notes\ninit"
    commit = steps_of(db, plan["id"])[3]
    assert (commit["status"], commit["settled_as"], commit["settled_by"]) == ("succeeded", "happened", "U0BOB")
    assert plan_row(db)["status"] == "succeeded"
    report = posts_in(bot, "C0GENERAL", containing="Done:")
    assert len(report) == 1 and "Commit the notes — confirmed by <@U0BOB>" in report[0]["text"]
