"""Connector plugins: the example package from examples/ installed with pip and found through the
``baton.connectors`` entry points beside the built-ins (registered by the same code), its keyed effect, and
broken plugins (cannot be imported, raises while registering, claims a built-in's action) skipped and reported
by the worker's start-up log, ``baton tools`` and ``baton doctor``, with Baton running on."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient

from connectors.plugins import BUILT_IN
from core.settings import Settings
from core.types import RequestOrigin
from tests.scenario.plugin_helpers import ROOT, broken_site
from tests.scenario.test_cli import run_baton
from workers.connector_wiring import build_registry, discover_plugins, load_worker_plugins, registry_for
from workers.job_context import WorkerContext

pytest_plugins = ["tests.plugins.hello_plugin"]  # the hello_site fixture

ORIGIN = RequestOrigin(team_id="T0LOCAL", channel_id="C0GENERAL", user_id="U0ALICE")
HELLO = "plugin:baton-plugin-hello"


def listing_registry(tmp_path: Path, **kwargs: Any) -> Any:
    return build_registry(
        Settings(baton_home=tmp_path), slack=WebClient(token=None), connect=_unused, now=_unused, **kwargs
    )


def _unused() -> Any:
    raise AssertionError("listing connectors reaches no database and reads no clock")


def test_the_example_plugin_registers_beside_the_built_ins(hello_site: Path, monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(hello_site))
    plugins = discover_plugins()
    assert [(p.name, p.source) for p in plugins.plugins] == [("builtin", BUILT_IN), ("hello", HELLO)]
    assert plugins.problems == []
    registry = listing_registry(tmp_path, plugins=plugins)
    hello = registry.get("hello.append_line")
    assert hello.source == HELLO and hello.idempotency == "keyed" and not hello.read_only
    assert registry.get("slack.post_message").source == BUILT_IN and "tasks.create" in registry.actions
    entry = next(e for e in registry.catalogue() if e["action"] == "hello.append_line")
    assert entry["source"] == HELLO and entry["args_schema"]["required"] == ["text"]
    args = hello.parse({"text": "Release 1.2 shipped"})
    assert hello.preview(args, origin=ORIGIN) == "Append the line “Release 1.2 shipped” to `lines.txt`."
    with pytest.raises(ValueError):
        hello.parse({"text": "two\nlines"})


def test_the_example_writes_once_per_key_even_concurrently(hello_site: Path, monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(hello_site))
    hello = listing_registry(tmp_path).get("hello.append_line")
    args = hello.parse({"text": "deployed"})
    first = hello.execute(args, origin=ORIGIN, key="plan:1:step:0")
    again = hello.execute(args, origin=ORIGIN, key="plan:1:step:0")  # a retry after the ledger lost the finish
    assert first == {"line": 1} and again == {"line": 1, "already_written": True}
    results: list[dict[str, Any]] = []
    workers = [
        threading.Thread(target=lambda: results.append(hello.execute(args, origin=ORIGIN, key="plan:2:step:0")))
        for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    lines = (tmp_path / "hello" / "lines.txt").read_text().splitlines()
    assert lines == ["plan:1:step:0\tdeployed", "plan:2:step:0\tdeployed"]
    assert sorted(r.get("already_written", False) for r in results) == [False, True, True, True]


def test_broken_plugins_are_skipped_and_logged_once_at_worker_start(hello_site: Path, monkeypatch, tmp_path, caplog):
    monkeypatch.syspath_prepend(str(hello_site))
    monkeypatch.syspath_prepend(str(broken_site(tmp_path / "site")))
    context = WorkerContext(settings=Settings(baton_home=tmp_path), slack=WebClient(token=None))
    with caplog.at_level(logging.WARNING, logger="workers.connector_wiring"):
        plugins = load_worker_plugins(context)
        registry = registry_for(context)  # a job after the start: nothing logged again
    problems = {problem.plugin: problem for problem in plugins.problems}
    assert problems["missing"].problem == (
        "cannot be imported: ModuleNotFoundError: No module named 'baton_plugin_missing_module'"
    )
    assert problems["raises"].problem == (
        "raised while registering: RuntimeError: no API token configured for the ticket system"
    )
    assert problems["clash"].problem == "claims the action slack.post_message, which built-in already provides"
    assert problems["clash"].source == "plugin:baton-plugin-clash"
    logged = [record.getMessage() for record in caplog.records]
    assert sorted(logged) == sorted(f"connector {problem.line()}" for problem in plugins.problems)
    assert len(logged) == 3 and all(line.endswith("; skipped") for line in logged)
    # Baton runs on: the built-in keeps its name, the working plugin is there, the broken ones are not.
    assert registry.get("slack.post_message").source == BUILT_IN
    assert registry.get("hello.append_line").source == HELLO
    assert {c.source for c in registry.every()} == {BUILT_IN, HELLO}


def test_baton_tools_lists_the_plugin_action_and_the_skipped_plugins(hello_site: Path, tmp_path):
    site = broken_site(tmp_path / "site")
    path = f"{ROOT}:{hello_site}:{site}"
    done = run_baton("tools", env={"BATON_HOME": str(tmp_path), "PYTHONPATH": path})
    assert done.returncode == 0, done.stderr
    rows = {line.split()[0]: line.split() for line in done.stdout.splitlines() if not line.startswith("unav")}
    assert rows["hello.append_line"][1:] == [HELLO, "by", "arguments", "keyed", "ask"]
    assert rows["slack.post_message"][1] == BUILT_IN
    unavailable = [line for line in done.stdout.splitlines() if line.startswith("unavailable: ")]
    assert unavailable == [
        "unavailable: plugin missing (plugin:baton-plugin-missing): cannot be imported: ModuleNotFoundError: "
        "No module named 'baton_plugin_missing_module'; skipped",
        "unavailable: plugin clash (plugin:baton-plugin-clash): claims the action slack.post_message, which "
        "built-in already provides; skipped",
        "unavailable: plugin raises (plugin:baton-plugin-raises): raised while registering: RuntimeError: no API "
        "token configured for the ticket system; skipped",
    ]


def test_baton_doctor_fails_each_broken_plugin_and_passes_the_working_one(hello_site: Path, backends, tmp_path):
    site = broken_site(tmp_path / "site")
    env = {
        "BATON_HOME": str(tmp_path),
        "PYTHONPATH": f"{ROOT}:{hello_site}:{site}",
        "DATABASE_URL": backends.database_url,
        "REDIS_URL": backends.redis_url,
    }
    done = run_baton("doctor", env=env)
    assert done.returncode == 1, done.stdout + done.stderr  # a configured thing is broken: the plugins
    lines = [line for line in done.stdout.splitlines() if " plugin " in f" {line}"]
    assert "PASS  plugin hello plugin:baton-plugin-hello: hello.append_line" in lines
    assert (
        "FAIL  plugin missing plugin:baton-plugin-missing: cannot be imported: ModuleNotFoundError: No module named "
        "'baton_plugin_missing_module' (skipped; Baton runs without it)" in lines
    )
    assert any(
        line.startswith("FAIL  plugin raises plugin:baton-plugin-raises: raised while registering") for line in lines
    )
    assert any(line.startswith("FAIL  plugin clash plugin:baton-plugin-clash: claims the action") for line in lines)
    assert len(lines) == 4
    assert "FAIL  postgres" not in done.stdout and "FAIL  redis" not in done.stdout


def test_baton_worker_logs_each_broken_plugin_once_when_it_starts(hello_site: Path, backends, redis_conn, tmp_path):
    site = broken_site(tmp_path / "site")
    env = {
        "BATON_HOME": str(tmp_path),
        "PYTHONPATH": f"{ROOT}:{hello_site}:{site}",
        "DATABASE_URL": backends.database_url,
        "REDIS_URL": backends.redis_url,
        "BATON_EMBEDDING_PROVIDER": "none",
        "SLACK_BOT_TOKEN": "xoxb-not-used",  # nothing is posted: the worker exits with its queue empty
    }
    # Redis was emptied for this test: the burst worker starts, finds nothing to do and exits.
    done = run_baton("worker", "--burst", "--no-scheduler", env=env)
    assert done.returncode == 0, done.stderr
    logged = [line for line in done.stderr.splitlines() if "connector plugin " in line]
    assert len(logged) == 3, done.stderr
    for plugin in ("missing", "raises", "clash"):
        assert sum(f"connector plugin {plugin} (plugin:baton-plugin-{plugin}): " in line for line in logged) == 1
