"""Where each ``baton`` command logs: a service's log is its output; a one-shot command prints only its
answer (warnings to stderr); the demo's terminal is the workspace, so its log goes to a file."""

from __future__ import annotations

from pathlib import Path

import pytest

from baton.logs import LogPlan, plan_logging
from core.settings import Settings

HOME = Path("/tmp/baton-home")


def settings(**changes) -> Settings:
    return Settings(baton_home=HOME, **changes)


@pytest.mark.parametrize("command", ["serve", "worker", "scheduler"])
def test_services_log_at_their_level_in_their_format_to_stderr(command):
    assert plan_logging(command, settings(), level_asked=False, format_asked=False) == LogPlan("INFO", "json", None)
    assert plan_logging(
        command, settings(log_level="DEBUG", log_format="text"), level_asked=True, format_asked=True
    ) == LogPlan("DEBUG", "text", None)


@pytest.mark.parametrize("command", ["status", "doctor", "report", "config", "migrate", "plans", "memory"])
def test_one_shot_commands_show_only_warnings_as_text_unless_asked(command):
    assert plan_logging(command, settings(), level_asked=False, format_asked=False) == LogPlan("WARNING", "text", None)
    assert plan_logging(command, settings(log_level="INFO"), level_asked=True, format_asked=False) == LogPlan(
        "INFO", "text", None
    )
    assert plan_logging(command, settings(), level_asked=False, format_asked=True) == LogPlan("WARNING", "json", None)


def test_the_demo_logs_to_a_file_in_its_home_unless_asked():
    assert plan_logging("demo", settings(), level_asked=False, format_asked=False) == LogPlan(
        "INFO", "text", HOME / "demo.log"
    )
    assert plan_logging("demo", settings(log_level="DEBUG"), level_asked=True, format_asked=False) == LogPlan(
        "DEBUG", "text", None
    )
