"""A real worker process SIGKILLed in the middle of a side effect: the reconciler resumes the
step once its lease runs out, the connector finds the effect already done, and Slack sees it once."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from slackui import plan_card
from tests.scenario.loop_helpers import audit_kinds, card_posts, click, plan_row, posts_in

pytestmark = pytest.mark.slow

ASK = "<@U0BATON> post Release 1.3 is out to <#C0OPS|ops>"


def start_worker(bot, backends, *, queues: str = "actions") -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        BATON_HOME=str(backends.home),
        DATABASE_URL=bot.settings.database_url,
        REDIS_URL=bot.settings.redis_url,
        SLACK_BOT_TOKEN=bot.settings.slack_bot_token,
        SLACK_API_URL=bot.settings.slack_api_url,
        BATON_LOG_LEVEL="WARNING",
    )
    return subprocess.Popen(
        [sys.executable, "-m", "baton.cli", "worker", "--queues", queues],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def kill_tree(pid: int) -> None:
    """SIGKILL a worker and its work horse (RQ forks the horse into a session of its own)."""
    victims = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    for process in victims:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.send_signal(signal.SIGKILL)
    psutil.wait_procs(victims, timeout=10)


def wait_for(condition, *, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def kill_worker_when(bot, backends, *, queues: str, condition, settle: float) -> None:
    """Start a real worker on ``queues``, and SIGKILL it ``settle`` seconds after ``condition`` holds."""
    worker = start_worker(bot, backends, queues=queues)
    try:
        wait_for(condition)
        time.sleep(settle)
        kill_tree(worker.pid)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            kill_tree(worker.pid)
            worker.wait()


def approve_and_kill_mid_post(bot, db, backends) -> dict:
    """Plan the post in-process, approve it, and SIGKILL the real worker running it while the post is in flight
    (Slack answers after 3 s: the effect reaches Slack, the ledger never hears back). Returns the plan row."""
    bot.slack.post_as_user("U0ALICE", "C0GENERAL", ASK)
    bot.run_jobs(wait_for=1)  # plan it in-process: the card is up
    plan = plan_row(db)
    bot.slack.inject("chat.postMessage", delay=3.0)
    click(bot, "U0BOB", plan, plan_card.APPROVE)
    kill_worker_when(
        bot, backends, queues="actions", settle=0.5,  # then the post is in flight
        condition=lambda: any(  # the connector's look-up just before posting
            c.method == "conversations.history" and c.params.get("channel") == "C0OPS" for c in bot.slack.calls
        ),
    )
    return plan


def test_a_sigkilled_worker_mid_step_is_recovered_with_the_effect_done_once(bot, db, backends):
    plan = approve_and_kill_mid_post(bot, db, backends)
    step = db.execute("SELECT status, lease_until FROM plan_steps WHERE plan_id = %s", (plan["id"],)).fetchone()
    assert step["status"] == "running"  # the ledger never heard back
    wait_for(lambda: len(posts_in(bot, "C0OPS", containing="Release 1.3 is out")) == 1)  # but Slack did

    from workers.job_context import install
    from workers.reconcile import reconcile

    install(bot.context())  # the reconciler runs here, as a job would (no RQ worker started yet)
    assert reconcile()["plans_resumed"] == []  # the lease is still live: nobody steals a running step
    assert running_jobs(bot) == 1  # RQ still counts the dead run (it notices only when its heartbeat expires)
    bot.clock.advance(minutes=2)
    install(bot.context())
    second = reconcile()
    assert second["plans_resumed"] == [plan["id"]]
    assert running_jobs(bot) == 0  # the recovery pass ended the dead run: `baton status` shows no ghost
    bot.run_jobs(wait_for=1)
    assert running_jobs(bot) == 0

    assert len(posts_in(bot, "C0OPS", containing="Release 1.3 is out")) == 1
    assert len([c for c in bot.slack.calls_to("chat.postMessage") if c.params.get("channel") == "C0OPS"]) == 1
    final = plan_row(db)
    assert final["status"] == "succeeded"
    kinds = audit_kinds(db, plan["id"])
    assert "step.resumed" in kinds and kinds.count("step.succeeded") == 1


def running_jobs(bot) -> int:
    """What ``baton status`` counts as running, over every queue."""
    from workers.queue_admin import queue_depths

    return sum(depth.running for depth in queue_depths(bot.redis))


def cards_in(bot, channel: str) -> list[dict]:
    """Plan cards Slack shows in ``channel`` (thread replies included)."""
    return [m for m in bot.slack.messages(channel)
            if m.get("bot_id") and any(b.get("type") == "header" for b in m.get("blocks") or [])]


def test_a_worker_killed_between_posting_the_card_and_recording_it_leaves_one_card(bot, db, backends):
    bot.slack.post_as_user("U0ALICE", "C0GENERAL", ASK)
    wait_for(lambda: db.execute("SELECT count(*) AS n FROM requests").fetchone()["n"] == 1)
    request_id = db.execute("SELECT id FROM requests").fetchone()["id"]
    # The card will reach Slack, but slowly: the worker dies while waiting for Slack's answer.
    bot.slack.inject("chat.postMessage", delay=3.0)

    kill_worker_when(
        bot, backends, queues="plans", settle=1.0,  # then the card is in flight (Slack answers after 3 s)
        condition=lambda: db.execute("SELECT count(*) AS n FROM plans").fetchone()["n"] == 1,  # planned
    )
    wait_for(lambda: len(cards_in(bot, "C0GENERAL")) == 1)  # Slack has it
    assert plan_row(db)["card_ts"] is None  # the plan never heard back

    from workers.job_context import install
    from workers.reconcile import reconcile

    bot.clock.advance(minutes=6)  # planning for that long counts as dead
    install(bot.context())
    assert reconcile()["requests"] == [request_id]
    assert running_jobs(bot) == 0  # the overdue planner's run is ended, not left counted as running
    bot.run_jobs(wait_for=1)

    shown = cards_in(bot, "C0GENERAL")
    assert len(shown) == 1  # the second run found the first card instead of posting another
    assert shown[0]["ts"] == plan_row(db)["card_ts"]
    assert len(card_posts(bot)) == 1
    assert db.execute("SELECT status FROM requests WHERE id = %s", (request_id,)).fetchone()["status"] == "planned"


def test_a_worker_resumes_what_a_killed_worker_left_with_no_scheduler_running(bot, db, backends):
    plan = approve_and_kill_mid_post(bot, db, backends)
    wait_for(lambda: len(posts_in(bot, "C0OPS", containing="Release 1.3 is out")) == 1)  # Slack has the post
    # The step's lease has run out: the time a real outage would take, without waiting it here.
    db.execute("UPDATE plan_steps SET lease_until = now() - interval '1 second' WHERE plan_id = %s", (plan["id"],))

    started = time.monotonic()
    worker = start_worker(bot, backends, queues="actions")  # no `baton scheduler`, no reconcile job queued
    try:
        wait_for(lambda: plan_row(db)["status"] == "succeeded", timeout=60)
        recovered_in = time.monotonic() - started
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    print(f"resumed {recovered_in:.1f} s after the new worker started")
    assert recovered_in < 30, recovered_in
    assert len(posts_in(bot, "C0OPS", containing="Release 1.3 is out")) == 1
    assert len([c for c in bot.slack.calls_to("chat.postMessage") if c.params.get("channel") == "C0OPS"]) == 1
    kinds = audit_kinds(db, plan["id"])
    assert "step.resumed" in kinds and kinds.count("step.succeeded") == 1


def test_a_step_whose_worker_died_resumes_within_30_seconds_of_the_crash(bot, db, backends):
    approve_and_kill_mid_post(bot, db, backends)
    crashed = time.monotonic()
    worker = start_worker(bot, backends, queues="actions")  # a worker is available at once; no scheduler
    try:
        wait_for(lambda: plan_row(db)["status"] == "succeeded", timeout=60)
        resumed_in = time.monotonic() - crashed
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    print(f"resumed {resumed_in:.1f} s after the crash")
    assert resumed_in < 30, resumed_in  # the lease lapses (15 s) once nobody renews it; the pass runs every 5 s
    assert len(posts_in(bot, "C0OPS", containing="Release 1.3 is out")) == 1
    assert len([c for c in bot.slack.calls_to("chat.postMessage") if c.params.get("channel") == "C0OPS"]) == 1



def test_a_live_worker_keeps_its_step_however_long_the_call_takes(bot, db, backends):
    bot.slack.post_as_user("U0ALICE", "C0GENERAL", ASK)
    bot.run_jobs(wait_for=1)
    plan = plan_row(db)
    # A step that outlasts the 15 s lease in three slow calls, each within the client's 10 s timeout.
    for method in ("conversations.history", "chat.postMessage", "chat.getPermalink"):
        bot.slack.inject(method, delay=8.0)
    click(bot, "U0BOB", plan, plan_card.APPROVE)

    from workers.job_context import install
    from workers.reconcile import reconcile

    worker = start_worker(bot, backends, queues="actions")
    try:
        wait_for(lambda: db.execute("SELECT status FROM plan_steps WHERE plan_id = %s",
                                    (plan["id"],)).fetchone()["status"] == "running")  # claimed
        time.sleep(22)  # past the lease it was claimed with: only its renewal keeps the step
        install(bot.context())
        assert reconcile()["plans_resumed"] == []  # nobody takes a step from a live runner
        wait_for(lambda: plan_row(db)["status"] == "succeeded", timeout=30)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert len(posts_in(bot, "C0OPS", containing="Release 1.3 is out")) == 1
    assert "step.resumed" not in audit_kinds(db, plan["id"])
