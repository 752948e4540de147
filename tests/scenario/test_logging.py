"""One grep shows a request's whole story: the same ``req-<id>`` on the web process's lines, the worker's
job lines and each connector call; and no secret or personal data reaches a log line."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from baton.logs import build_handler
from slackui import plan_card
from tests.conftest import BOT_TOKEN, SIGNING_SECRET
from tests.scenario.loop_helpers import click, plan_row

EMAIL = "dana.fox@example.com"
PASSWORD = "Sw0rdfish!93"
SLACK_TOKEN = "xoxp-2718281828-3141592653-abcdefabcdef"


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """Everything logged at INFO and above during the test, as Baton's JSON lines."""
    stream = io.StringIO()
    handler = build_handler(fmt="json", secrets=(BOT_TOKEN, SIGNING_SECRET), stream=stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def records(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_one_correlation_id_runs_from_the_slack_handler_through_the_job_to_the_connector(bot, db, json_lines):
    delivery = bot.slack.post_as_user("U0ALICE", "C0GENERAL", "<@U0BATON> post Release 1.2 is out to <#C0OPS|ops>")
    assert all(r.status == 200 for r in delivery.responses)
    bot.run_jobs(wait_for=1)
    plan = plan_row(db)
    assert click(bot, "U0BOB", plan, plan_card.APPROVE).status == 200
    bot.run_jobs(wait_for=1)
    assert plan_row(db)["status"] == "succeeded"

    story = [r for r in records(json_lines) if r.get("correlation_id") == f"req-{plan['request_id']}"]
    loggers = {r["logger"] for r in story}
    assert {"bot.events", "baton.web_server", "workers.rq_worker", "workers.execute"} <= loggers, loggers
    messages = [r["message"] for r in story]
    assert any(m.startswith("request ") and "recorded" in m for m in messages)  # the web handler
    assert any(r["logger"] == "baton.web_server" and "slack action answered 200" in r["message"] for r in story)
    assert any(m.startswith("job plan_request-") for m in messages)  # the planning job
    assert any(m.startswith("job execute_plan-") and "finished" in m for m in messages)  # the execution job
    assert any(m.startswith("connector slack.post_message call") for m in messages)
    assert any(m.startswith("connector slack.post_message ok") for m in messages)
    for record in story:
        assert {"time", "level", "logger", "message"} <= set(record)


def test_secrets_and_personal_data_never_reach_the_logs(bot, db, json_lines):
    text = f"<@U0BATON> post mail {EMAIL}, password is {PASSWORD} and {SLACK_TOKEN} to <#C0OPS|ops>"
    bot.slack.post_as_user("U0ALICE", "C0GENERAL", text)
    bot.run_jobs(wait_for=1)
    log = logging.getLogger("tests.leaky")
    log.info("the user wrote: %s", text)
    log.warning("configured with %s and %s", BOT_TOKEN, SIGNING_SECRET)
    try:
        raise RuntimeError(f"boom for {EMAIL} with sk-proj-{'a1' * 12}")
    except RuntimeError:
        log.exception("a step blew up")
    output = json_lines.getvalue()
    assert records(json_lines)  # something was logged, the flow included
    for secret in (EMAIL, PASSWORD, SLACK_TOKEN, BOT_TOKEN, SIGNING_SECRET, "sk-proj-a1a1"):
        assert secret not in output
    leaky = [r for r in records(json_lines) if r["logger"] == "tests.leaky"]
    assert "[redacted email]" in leaky[0]["message"] and "[redacted secret]" in leaky[1]["message"]
    assert "RuntimeError" in leaky[2]["exc_info"] and "[redacted email]" in leaky[2]["exc_info"]


def test_text_lines_carry_the_correlation_id_and_are_scrubbed():
    from core import correlation

    stream = io.StringIO()
    handler = build_handler(fmt="text", secrets=(SIGNING_SECRET,), stream=stream)
    log = logging.getLogger("tests.text")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        with correlation.bind("req-42"):
            log.info("signing secret %s, mail %s", SIGNING_SECRET, EMAIL)
    finally:
        log.removeHandler(handler)
    line = stream.getvalue()
    assert "[req-42]" in line and "tests.text" in line
    assert SIGNING_SECRET not in line and EMAIL not in line


def test_a_job_enqueued_without_a_request_id_is_resolved_to_it(bot, db, json_lines, web_server, monkeypatch):
    """The reconciler re-enqueues ``execute_plan`` knowing only the plan: the worker finds its request."""
    from workers.api import enqueue_job

    bot.slack.post_as_user("U0ALICE", "C0GENERAL", "<@U0BATON> post Release 1.2 is out to <#C0OPS|ops>")
    bot.run_jobs(wait_for=1)
    plan = plan_row(db)
    monkeypatch.setattr(web_server, "_enqueue_sync", lambda jobs: None)  # the approval's job is lost
    click(bot, "U0BOB", plan, plan_card.APPROVE)
    monkeypatch.undo()
    enqueue_job(bot.redis, "execute_plan", plan["id"], suffix="-r1")
    from rq.job import Job

    job = Job.fetch(f"execute_plan-{plan['id']}-r1", connection=bot.redis)
    assert job.meta["correlation_id"] == f"plan-{plan['id']}"  # all the reconciler knows
    bot.run_jobs(wait_for=1)
    assert plan_row(db)["status"] == "succeeded"
    execution = [r for r in records(json_lines)
                 if "execute_plan" in r["message"] or r["message"].startswith("connector ")]
    assert execution and {r.get("correlation_id") for r in execution} == {f"req-{plan['request_id']}"}
