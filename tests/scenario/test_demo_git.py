"""The demo's alias turn: ``mcp-server-git`` on a throwaway repository when installed, a one-line note when not."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from baton import demo_git
from tests.scenario.test_cli import run_baton
from tests.scenario.test_demo_session import Screen


def test_the_throwaway_repository_and_its_alias(settings, tmp_path: Path):
    prepared = demo_git.prepare(settings.with_changes(mcp_config=tmp_path / "none.json"), tmp_path)
    assert prepared.missing is None and prepared.config == tmp_path / "mcp.json"
    repo = tmp_path / "demo-repo"
    log = subprocess.run(["git", "-C", str(repo), "log", "--format=%s"], capture_output=True, text=True, check=True)
    assert log.stdout.strip() == "A throwaway repository for the Baton demo"
    config = prepared.settings.mcp_servers
    assert list(config.servers) == ["git"] and [a.pattern for a in config.aliases] == [demo_git.PATTERN]
    assert config.aliases[0].args == {"repo_path": str(repo), "branch_name": "{name}"}


def test_an_operators_own_mcp_json_is_left_alone(settings, tmp_path: Path):
    own = tmp_path / "mine.json"
    own.write_text('{"mcpServers": {}}')
    prepared = demo_git.prepare(settings.with_changes(mcp_config=own), tmp_path / "scratch")
    assert prepared.config is None and prepared.settings.mcp_config == own
    assert prepared.missing == demo_git.OWN_CONFIG.format(path=own)


@pytest.fixture
def screen_without_git(bot, tmp_path: Path):
    shown = Screen(bot, tmp_path)
    shown.session.missing = {demo_git.FEATURE: demo_git.NOT_INSTALLED}
    yield shown
    shown.unsubscribe()


def test_a_turn_for_a_missing_feature_is_skipped_with_one_note(screen_without_git, db):
    said = screen_without_git.turn("/if mcp-server-git @baton create branch x in the demo repo")
    said += screen_without_git.turn("/if mcp-server-git /click approve")
    assert said == f"(skipping the mcp-server-git turns: {demo_git.NOT_INSTALLED})\n"
    assert db.execute("SELECT count(*) AS n FROM requests").fetchone()["n"] == 0
    played = screen_without_git.turn("/if something-else /baton help")
    assert "Baton turns requests into plans" in played


@pytest.mark.slow
def test_the_demo_script_runs_the_alias_against_mcp_server_git(tmp_path: Path):
    script = tmp_path / "turns.txt"
    script.write_text(
        "/if mcp-server-git @baton create branch release-notes in the demo repo\n/if mcp-server-git /click approve\n"
    )
    result = run_baton("demo", "--script", str(script), env={"BATON_HOME": str(tmp_path / "home")}, timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "DEGRADED MODE" in out  # no model: the alias needs none
    assert "Create the branch release-notes in the demo repository" in out
    assert "Planned by an alias or `/baton run`, without the model · no model cost" in out
    assert "✅ Done: Create the branch release-notes in the demo repository" in out
    assert "Created branch 'release-notes'" in out, out
