"""``/metrics`` moves when Slack traffic flows: scraped through the real endpoint before and after a mention
-> plan -> approval -> execution; the worker and scheduler serve the same families on their own port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from decimal import Decimal

import pytest
from prometheus_client.parser import text_string_to_metric_families

from baton.metrics import postgres_families
from baton.worker_process import run_scheduler
from memory.metrics_sql import Snapshot
from slackui import plan_card
from tests.conftest import http
from tests.scenario.loop_helpers import click, plan_row

ASK = "<@U0BATON> post Release 1.2 is out to <#C0OPS|ops>"
#: Families only the web process has (it alone receives Slack traffic).
WEB_ONLY = {"baton_slack_ack_seconds", "baton_slack_responses", "baton_slack_socket"}

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> tuple[set[str], Samples]:
    """Family names and ``{(sample name, labels): value}`` of a Prometheus text exposition."""
    names: set[str] = set()
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        names.add(family.name)
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return names, samples


def scrape(url: str) -> tuple[set[str], Samples]:
    response = http("GET", url + "/metrics")
    assert response.status == 200, response.body
    return parse(response.body)


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def fresh(web_server, monkeypatch):
    """Every scrape reads Postgres and Redis again (the collector caches for a couple of seconds)."""
    monkeypatch.setattr(web_server.facts, "cache_seconds", 0.0)
    return web_server


def test_a_mention_approval_and_execution_move_the_metrics(bot, db, fresh):
    _, before = scrape(bot.url)
    assert value(before, "baton_metrics_source_up", source="postgres") == 1
    assert value(before, "baton_slack_events_total", type="app_mention") == 0

    delivery = bot.slack.post_as_user("U0ALICE", "C0GENERAL", ASK)
    assert all(r.status == 200 for r in delivery.responses)
    deadline = time.monotonic() + 5
    while value(scrape(bot.url)[1], "baton_queue_depth", queue="plans") < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    _, queued = scrape(bot.url)
    assert value(queued, "baton_queue_depth", queue="plans") == 1
    assert value(queued, "baton_rq_jobs", queue="plans", state="queued") == 1
    bot.run_jobs(wait_for=1)
    _, planned = scrape(bot.url)
    assert value(planned, "baton_queue_depth", queue="plans") == 0
    assert value(planned, "baton_plans", kind="request", status="pending") == 1

    plan = plan_row(db)
    assert click(bot, "U0BOB", plan, plan_card.APPROVE).status == 200
    bot.run_jobs(wait_for=1)
    _, after = scrape(bot.url)

    assert value(after, "baton_slack_events_total", type="app_mention") == 1
    assert value(after, "baton_slack_events_total", type="message") >= 1  # the user's and Baton's own posts
    assert value(after, "baton_slack_ack_seconds_count", kind="event") >= value(
        before, "baton_slack_ack_seconds_count", kind="event") + 2
    assert value(after, "baton_slack_ack_seconds_count", kind="action") >= value(
        before, "baton_slack_ack_seconds_count", kind="action") + 1
    assert value(after, "baton_slack_responses_total", kind="event", status="200") >= 2
    assert value(after, "baton_plans", kind="request", status="succeeded") == 1
    assert value(after, "baton_plans", kind="request", status="pending") == 0
    assert value(after, "baton_requests", source="mention", status="planned") == 1
    assert value(after, "baton_plan_decisions_total", decision="approved") == 1
    assert value(after, "baton_human_override_ratio") == 0
    assert value(after, "baton_approval_wait_seconds_count", decision="approved") == 1
    assert value(after, "baton_approval_wait_seconds_bucket", decision="approved", le="+Inf") == 1
    assert value(after, "baton_rq_jobs", queue="actions", state="finished") >= 1
    assert value(after, "baton_step_retries_total", reason="transient") == 0


def test_model_calls_show_by_model_and_purpose_with_tokens_cost_and_latency(bot, db, fresh, fake_openai):
    bot.setting_changes = {"openai_api_key": fake_openai.api_key, "openai_base_url": fake_openai.base_url}
    args = {"channel": "C0GENERAL", "text": "Standup is at 10", "in_thread": True}
    step = {"action": "slack.post_message", "args": args, "description": "Answer", "depends_on": []}
    fake_openai.queue_chat({"title": "Answer", "rationale": "Asked.", "steps": [step], "cannot_plan_reason": None})
    bot.slack.post_as_user("U0ALICE", "C0GENERAL", "<@U0BATON> when is standup?")
    bot.run_jobs(wait_for=1)
    bot.run_jobs()
    _, after = scrape(bot.url)
    call = db.execute("SELECT model, purpose, input_tokens FROM llm_calls").fetchone()
    labels = {"model": call["model"], "purpose": call["purpose"]}
    assert value(after, "baton_llm_calls_total", **labels, outcome="ok", cache="miss") == 1
    assert value(after, "baton_llm_tokens_total", **labels, direction="input") == call["input_tokens"] > 0
    assert value(after, "baton_llm_latency_seconds_count", **labels) == 1
    assert ("baton_llm_cost_usd_total", frozenset(labels.items())) in after
    assert value(after, "baton_plans", kind="request", status="succeeded") == 1


def test_a_request_recovered_by_the_reconciler_is_counted(bot, db, fresh, monkeypatch):
    def redis_down(jobs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(fresh, "_enqueue_sync", redis_down)
    bot.slack.post_as_user("U0ALICE", "C0GENERAL", ASK)
    assert bot.run_jobs(timeout=0.3) == 0
    monkeypatch.undo()
    monkeypatch.setattr(fresh.facts, "cache_seconds", 0.0)
    from workers.reconcile import reconcile

    bot.clock.advance(minutes=1)
    bot.run_jobs()  # installs the context with the advanced clock
    assert reconcile()["requests"] != []
    _, after = scrape(bot.url)
    assert value(after, "baton_reconciler_recoveries_total", what="request") == 1


def test_override_ratio_counts_rejections_and_edited_approvals():
    snap = Snapshot(decisions=[{"decision": "approved", "n": 2}, {"decision": "edited", "n": 1},
                               {"decision": "rejected", "n": 1}],
                    steps={"compensated": 1, "compensation_failed": 0, "resumed": 2},
                    llm=[{"model": "m", "purpose": "plan", "ok": True, "cache_hit": False, "cost_known": False,
                          "n": 3, "input_tokens": 10, "output_tokens": 5, "cached_tokens": 0,
                          "cost_usd": Decimal(0)}])
    _, samples = parse(_exposition(postgres_families(snap)))
    assert value(samples, "baton_human_override_ratio") == 0.5
    assert value(samples, "baton_step_retries_total", reason="resumed") == 2
    assert value(samples, "baton_step_compensations_total", outcome="compensated") == 1
    assert value(samples, "baton_llm_unpriced_calls_total", model="m", purpose="plan") == 3


def test_the_scheduler_serves_its_ticks_and_the_shared_families(bot, settings):
    port = _free_port()
    scraped: list[tuple[set[str], Samples]] = []

    def sleep(_seconds: float) -> None:
        scraped.append(scrape(f"http://127.0.0.1:{port}"))

    run_scheduler(settings.with_changes(metrics_port=port), interval=60, iterations=2, sleep=sleep)
    names, samples = scraped[0]
    assert value(samples, "baton_scheduler_ticks_total", outcome="ok") == 1
    assert {"baton_plans", "baton_queue_depth", "baton_slack_events", "process_cpu_seconds"} <= names


@pytest.mark.slow
def test_a_worker_process_serves_the_same_families_as_the_web(bot, backends, fresh):
    web_names, _ = scrape(bot.url)
    port = _free_port()
    env = dict(os.environ)
    env.update(BATON_HOME=str(backends.home), DATABASE_URL=bot.settings.database_url, REDIS_URL=bot.settings.redis_url,
               SLACK_BOT_TOKEN=bot.settings.slack_bot_token, SLACK_API_URL=bot.settings.slack_api_url,
               BATON_LOG_LEVEL="WARNING", BATON_METRICS_PORT=str(port), BATON_EMBEDDING_PROVIDER="none")
    worker = subprocess.Popen([sys.executable, "-m", "baton.cli", "worker", "--queues", "default"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        names = _scrape_when_up(f"http://127.0.0.1:{port}", worker)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
    shared = {name for name in web_names if name.startswith("baton_") and not name.startswith(tuple(WEB_ONLY))}
    assert shared and shared <= names
    assert "process_resident_memory_bytes" in names


def _scrape_when_up(url: str, process: subprocess.Popen[bytes]) -> set[str]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "the worker exited"
        try:
            with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=0.2):
                return scrape(url)[0]
        except OSError:
            time.sleep(0.1)
    raise AssertionError("the worker's metrics port never answered")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _exposition(families: list) -> str:
    from prometheus_client import CollectorRegistry, generate_latest

    class Fixed:
        def collect(self):
            return families

    registry = CollectorRegistry()
    registry.register(Fixed())
    return generate_latest(registry).decode()

