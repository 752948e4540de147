"""The ``baton`` command as a user runs it: settings errors, config, doctor, serve refusal, help, demo."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from baton.cli import main

COMMANDS = ["serve", "worker", "scheduler", "audit", "migrate", "config", "doctor", "demo", "embedded", "memory",
            "report", "status", "plans", "policy", "requeue-failed"]


def run_baton(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "OPENAI_", "BATON_")) and k not in ("DATABASE_URL", "REDIS_URL", "PORT")
    }
    base.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "baton.cli", *args],
        env=base,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    assert exited.value.code == 0
    assert "usage: baton " + command in capsys.readouterr().out


def test_serve_without_a_slack_token_refuses_to_start_naming_the_variable(tmp_path: Path):
    result = run_baton("serve", env={"BATON_HOME": str(tmp_path)})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "baton: error: SLACK_BOT_TOKEN is not set: install the Slack app to your workspace and export "
        "SLACK_BOT_TOKEN=xoxb-... (or run `baton demo` to try Baton without Slack)"
    ]
    assert not (tmp_path / "postgres").exists(), "nothing is started before settings are valid"


def test_serve_in_socket_mode_without_an_app_token_names_it(tmp_path: Path):
    result = run_baton("serve", "--socket-mode", env={"BATON_HOME": str(tmp_path), "SLACK_BOT_TOKEN": "xoxb-1"})
    assert result.returncode == 2
    assert result.stderr.startswith("baton: error: SLACK_APP_TOKEN is not set but Socket Mode is on: ")
    assert "connections:write" in result.stderr and "SLACK_SIGNING_SECRET" not in result.stderr
    assert not (tmp_path / "postgres").exists()


def test_a_malformed_setting_fails_with_one_line(tmp_path: Path):
    result = run_baton("config", env={"BATON_HOME": str(tmp_path), "REDIS_URL": "localhost:6379"})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "baton: error: REDIS_URL must be a redis://, rediss:// or unix:// URL: e.g. redis://localhost:6379/0, "
        "or unset it to use the embedded Redis"
    ]


def test_config_prints_effective_settings_with_secrets_masked(tmp_path: Path):
    env = {
        "BATON_HOME": str(tmp_path),
        "SLACK_BOT_TOKEN": "xoxb-111-222-secretpart",
        "PORT": "8123",
        "SLACK_SIGNING_SECRET": "abcdef0123456789",
        "OPENAI_API_KEY": "sk-supersecretkey1234",
    }
    result = run_baton("config", env=env)
    assert result.returncode == 0, result.stderr
    assert "secretpart" not in result.stdout and "supersecret" not in result.stdout and "abcdef01" not in result.stdout
    lines = dict(line.split(None, 1) for line in result.stdout.splitlines() if not line.startswith("("))
    assert lines["PORT"] == "8123"
    assert lines["SLACK_BOT_TOKEN"] == "xoxb-****part"
    assert lines["BATON_HOME"] == str(tmp_path)
    assert lines["DATABASE_URL"] == "(not set)"


def doctor_env(backends, local_slack, fake_openai, **more: str) -> dict[str, str]:
    """Settings pointing doctor at the real Postgres and Redis, the local workspace and the fake model server."""
    return {
        "BATON_HOME": str(backends.home),
        "DATABASE_URL": backends.database_url,
        "REDIS_URL": backends.redis_url,
        "SLACK_BOT_TOKEN": local_slack.bot_token,
        "SLACK_API_URL": local_slack.api_url,
        "OPENAI_API_KEY": fake_openai.api_key,
        "OPENAI_BASE_URL": fake_openai.base_url,
        "BATON_EMBEDDING_PROVIDER": "openai",
        **more,
    }


def test_doctor_passes_against_real_servers_and_the_fakes(backends, local_slack, fake_openai):
    env = doctor_env(backends, local_slack, fake_openai)
    fake_openai.queue_chat({"ok": True})
    result = run_baton("doctor", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    passed = {line.split()[1]: line for line in result.stdout.splitlines() if line.startswith("PASS")}
    assert list(passed) == ["postgres", "pgvector", "migrations", "redis", "slack", "llm", "completion", "embedding"]
    assert [call.method for call in local_slack.calls] == ["auth.test"]
    # One tiny real completion, bounded, and what Baton detected about the server.
    [chat] = fake_openai.chat_requests
    assert chat.body["max_tokens"] == 16
    assert "gpt-4o-mini answered in" in passed["completion"]
    assert "detected: structured output json_schema, output limit via max_tokens, streamed" in passed["completion"]
    assert "text-embedding-3-small: 384 dimensions" in passed["embedding"]


def test_doctor_shows_what_it_detected_and_the_servers_own_message(backends, local_slack, fake_openai):
    env = doctor_env(backends, local_slack, fake_openai, BATON_CHAT_MODEL="gemma-3-270m")
    fake_openai.profile = "llama-cpp-python"
    fake_openai.queue_chat({"ok": True})
    result = run_baton("doctor", env=env)
    lines = {line.split()[1]: line for line in result.stdout.splitlines()}
    assert lines["completion"].startswith("PASS") and "detected: structured output json_object" in lines["completion"]
    assert lines["embedding"].startswith("FAIL") and "404" in lines["embedding"]

    env["BATON_LLM_STRUCTURED"] = "json_schema"
    result = run_baton("doctor", env=env)
    assert result.returncode == 1
    [line] = [line for line in result.stdout.splitlines() if line.split()[1] == "completion"]
    assert line.startswith("FAIL") and "set BATON_LLM_STRUCTURED=json_object" in line
    assert "Input should be 'text' or 'json_object'" in line  # the server's own words


def test_doctor_on_a_demo_set_up_says_what_is_not_configured_and_passes(backends):
    env = {"BATON_HOME": str(backends.home), "DATABASE_URL": backends.database_url, "REDIS_URL": backends.redis_url}
    result = run_baton("doctor", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = {line.split()[1]: line for line in result.stdout.splitlines()[:-1]}
    assert [line.split()[0] for line in lines.values()] == ["PASS", "PASS", "PASS", "PASS", "SKIP", "SKIP"]
    assert "not configured" in lines["slack"] and "demo mode" in lines["slack"]
    assert "not configured" in lines["llm"] and "degraded mode" in lines["llm"]
    assert result.stdout.splitlines()[-1].startswith("4 passed, 0 failed, 2 not configured")
    assert result.stderr == ""


@pytest.mark.slow
def test_one_shot_commands_print_only_their_output(tmp_path: Path):
    env = {"BATON_HOME": str(tmp_path)}  # embedded servers: their start-up and the migrations log at INFO
    try:
        for command in ("status", "report", "migrate", "config"):
            result = run_baton(command, env=env)
            assert result.returncode == 0, result.stdout + result.stderr
            assert result.stderr == "", f"baton {command} logged: {result.stderr}"
            assert not any(line.lstrip().startswith("{") for line in result.stdout.splitlines())
        asked = run_baton("-v", "migrate", env=env)
        assert asked.returncode == 0 and " INFO baton.backends: using embedded PostgreSQL" in asked.stderr, asked.stderr
        assert "using embedded PostgreSQL" in run_baton("migrate", env={**env, "BATON_LOG_LEVEL": "INFO"}).stderr
    finally:
        run_baton("embedded", "stop", env=env)


def test_doctor_reports_each_failure_on_its_own_line(backends, local_slack, fake_openai):
    env = {
        "BATON_HOME": str(backends.home),
        "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/nothing",
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "SLACK_BOT_TOKEN": "xoxb-wrong",
        "SLACK_API_URL": local_slack.api_url,
        "OPENAI_API_KEY": "sk-wrong",
        "OPENAI_BASE_URL": fake_openai.base_url,
    }
    result = run_baton("doctor", env=env)
    assert result.returncode == 1
    failed = {line.split()[1]: line for line in result.stdout.splitlines() if line.startswith("FAIL")}
    assert set(failed) == {"postgres", "pgvector", "redis", "slack", "llm", "completion"}
    assert "401" in failed["completion"]
    assert "invalid_auth" in failed["slack"]
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.slow
def test_demo_script_plays_the_whole_loop(tmp_path: Path):
    script = tmp_path / "turns.txt"
    script.write_text(
        "# a comment\n"
        "/as charlie\n"  # a typo: says who there is, the demo goes on
        "/frobnicate the widgets\n"  # not a command: not posted as chat either
        "/baton help\n"
        "@baton post Release 1.2 is out to #ops\n"
        "/click\n"  # no label: lists the buttons, presses none
        "/click approve\n"  # alice may not approve her own high-risk plan
        "/as bob\n"
        "/click approve\n"
        "/click nothing-here\n"
    )
    home = tmp_path / "home"
    result = run_baton("demo", "--script", str(script), env={"BATON_HOME": str(home)}, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "DEGRADED MODE" in out
    assert "(no member named 'charlie' in the local workspace; people: alice, bob)" in out
    assert "(unknown command /frobnicate:" in out and "@alice in #general: /frobnicate" not in out
    assert "[#general] Baton — reply to /baton, only visible to you:\n  Baton turns requests into plans" in out
    assert "@alice in #general: @baton post Release 1.2 is out to #ops" in out
    assert "[Approve]  [Reject]  [Review steps]" in out
    assert "1. [Approve] Post a message in #ops" in out and "3. [Review steps]" in out
    assert "someone else has to approve it" in out
    assert out.count("[#ops] Baton:\n  Release 1.2 is out") == 1
    assert "✅ Done: Post a message in #ops" in out
    assert ":red_circle:" not in out and "*" not in out and "<#C0" not in out and "<@U0" not in out
    assert "(no button you can press labelled 'nothing-here' on screen)" in out
    assert out.rstrip().endswith("Demo finished.")
    assert result.stderr == "", "log lines reached the terminal"
    assert " INFO " in (home / "demo.log").read_text()


def test_with_urls_set_nothing_embedded_starts(backends, tmp_path: Path):
    env = {"BATON_HOME": str(tmp_path), "DATABASE_URL": backends.database_url, "REDIS_URL": backends.redis_url}
    result = run_baton("migrate", env=env)
    assert result.returncode == 0, result.stderr
    assert "schema is current" in result.stdout
    assert not (tmp_path / "postgres").exists() and not (tmp_path / "redis").exists()


@pytest.mark.slow
def test_demo_script_shows_a_transcript_going_through(tmp_path: Path):
    transcript = Path(__file__).resolve().parents[2] / "examples" / "launch-meeting.vtt"
    script = tmp_path / "turns.txt"
    script.write_text(
        f"/upload {transcript} @baton notes from the launch review please\n"
        "/click create follow-ups\n"
        "/click done checklist\n"  # alice's Done is in her DM: she can press it; bob's is his
        "/as bob\n"
        "/click done pricing\n"  # (a reminder DM may have come meanwhile, with a Done of its own)
        "/click 1\n"
        "/upload missing.vtt\n"
    )
    result = run_baton("demo", "--script", str(script), env={"BATON_HOME": str(tmp_path / "home")}, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "Meeting notes: launch-meeting.vtt" in out and "Degraded mode (no language model)" in out
    assert "[x] Follow up · owner: @alice" in out and "[Create follow-ups]" in out
    assert "Follow-ups created (approved by @alice)" in out
    assert "[DM to @bob] Baton:" in out and "Update the pricing page" in out
    assert "[Done]   (only @bob can press these: /as bob)" in out
    assert "✅ Update the pricing page" in out  # Bob's Done shows everywhere
    assert "✅ Send the launch checklist to the whole team" in out  # and Alice's, pressed in her own DM
    assert "(no file 'missing.vtt')" in out
    assert result.stderr == ""
