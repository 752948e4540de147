"""Postgres stopped under a running bot: no click, form or mention is lost, and nobody is left in silence.

The session's real embedded Postgres is stopped (``pg_ctl -m fast``, or SIGTERM for a smart shutdown) and
started again inside each test; the web process and the workers heal their connections by themselves.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from memory.db import connect
from memory.embedded.lease import socket_dir_for
from memory.embedded.postgres import EmbeddedPostgres
from slackui import plan_card, replies
from tests.conftest import http
from tests.scenario.loop_helpers import card_posts, click, ephemerals_to, eventually, plan_row, posts_in
from workers.api import spooled_count

ASK = "<@U0BATON> post Release 1.2 is out to <#C0OPS|ops>"
UNAVAILABLE = replies.DATABASE_UNAVAILABLE


@pytest.fixture
def postgres(backends: Any) -> Iterator[EmbeddedPostgres]:
    """The session's embedded Postgres, to stop and start; running again after the test whatever happened."""
    if os.environ.get("BATON_TEST_DATABASE_URL"):
        pytest.skip("stops the embedded Postgres; BATON_TEST_DATABASE_URL points elsewhere")
    home = backends.home
    server = EmbeddedPostgres(home / "postgres", socket_dir_for(home) / "pg", log_file=home / "postgres.log")
    assert server.running_pid() is not None
    yield server
    try:
        connect(server.url()).close()
    except Exception:  # stopped, or still in a smart shutdown the test began: stop it for good, then start
        server.stop()
        server.start()


def smart_shutdown(server: EmbeddedPostgres) -> None:
    """SIGTERM to the postmaster: sessions already open go on, new connections are refused until it stops."""
    pid = server.running_pid()
    assert pid is not None
    os.kill(pid, signal.SIGTERM)
    url = server.url()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            connect(url).close()
        except Exception as err:
            if "shutting down" in str(err):
                return
        time.sleep(0.05)
    raise AssertionError("Postgres did not start refusing new connections")


def plan_one(bot: Any, db: Any) -> dict[str, Any]:
    delivery = bot.slack.post_as_user("U0ALICE", "C0GENERAL", ASK)
    assert all(r.status == 200 for r in delivery.responses)
    bot.run_jobs(wait_for=1)
    return plan_row(db)


def fresh_db(bot: Any) -> Any:
    return connect(bot.settings.database_url)


def told_unavailable(bot: Any, user: str) -> list[str]:
    """What ``user`` was told about the database being unavailable: ephemerals, response_url replies, DMs."""
    texts = ephemerals_to(bot, user) + [c.params.get("text", "") for c in bot.slack.calls_to("response_url")]
    texts += [
        c.params.get("text", "") for c in bot.slack.calls_to("chat.postMessage") if c.params.get("channel") == user
    ]
    return [text for text in texts if text == UNAVAILABLE]


def test_an_approve_click_with_postgres_down_is_acked_and_the_clicker_told_to_try_again(bot, db, postgres):
    plan = plan_one(bot, db)
    updates_before = len(bot.slack.calls_to("chat.update"))
    postgres.stop()

    started = time.monotonic()
    answer = click(bot, "U0BOB", plan, plan_card.APPROVE)
    elapsed = time.monotonic() - started
    assert answer.status == 200
    assert elapsed < 3.0, f"the click was acked after {elapsed:.2f} s"
    assert eventually(lambda: told_unavailable(bot, "U0BOB"), timeout=10), "the clicker was not told"
    # Nothing was decided, so the card still offers the buttons and never said "Approved".
    assert len(bot.slack.calls_to("chat.update")) == updates_before

    postgres.start()
    assert click(bot, "U0BOB", plan, plan_card.APPROVE).status == 200  # "try again in a moment"
    with fresh_db(bot) as conn:
        approved = eventually(lambda: (row := plan_row(conn))["status"] == "approved" and row, timeout=10)
        assert approved and approved["decided_by"] == "U0BOB"
        bot.run_jobs(wait_for=1)
        assert plan_row(conn)["status"] == "succeeded"
    assert len(posts_in(bot, "C0OPS", containing="Release 1.2 is out")) == 1


def test_a_reject_form_submitted_with_postgres_down_tells_the_person_and_decides_nothing(bot, db, postgres):
    plan = plan_one(bot, db)
    click(bot, "U0BOB", plan, plan_card.REJECT)
    view_id = next(iter(eventually(bot.slack.views)))
    postgres.stop()

    started = time.monotonic()
    answer = bot.slack.submit_view(
        "U0BOB", view_id, values={"reason": {"reason": {"type": "plain_text_input", "value": "wrong channel"}}}
    )
    assert answer.status == 200 and time.monotonic() - started < 3.0
    assert eventually(lambda: told_unavailable(bot, "U0BOB"), timeout=10)

    postgres.start()
    with fresh_db(bot) as conn:
        assert plan_row(conn)["status"] == "pending"
    assert "Rejected" not in str(bot.slack.calls_to("chat.update"))


def test_mentions_while_postgres_is_down_are_acked_kept_and_answered_once_it_is_back(bot, db, postgres):
    postgres.stop()
    asked = []
    for n in range(3):
        started = time.monotonic()
        delivery = bot.slack.post_as_user("U0ALICE", "C0GENERAL", f"<@U0BATON> post Outage note {n} to <#C0OPS|ops>")
        elapsed = time.monotonic() - started
        assert [r.status for r in delivery.responses] == [200] * len(delivery.responses)
        assert elapsed < 3.0, f"acked after {elapsed:.2f} s"
        asked.append(delivery)
    assert spooled_count(bot.redis) >= 3  # the app_mention and message.channels copies of each
    # Each asker sees at once that Baton has it.
    reacted = eventually(lambda: len(bot.slack.calls_to("reactions.add")) == 3 and bot.slack.calls_to("reactions.add"))
    assert sorted(c.params["timestamp"] for c in reacted) == sorted(d.ts for d in asked)
    assert f"baton_spooled_events {float(spooled_count(bot.redis))}" in http("GET", bot.url + "/metrics").body

    postgres.start()
    # The web process replays the spool by itself once Postgres answers; each request is recorded once.
    with fresh_db(bot) as conn:
        assert eventually(lambda: spooled_count(bot.redis) == 0, timeout=15), "the spool was not replayed"
        assert eventually(lambda: conn.execute("SELECT count(*) AS n FROM requests").fetchone()["n"] == 3)
        bot.run_jobs(wait_for=3)
        cards = card_posts(bot)
        assert sorted(c.params["thread_ts"] for c in cards) == sorted(d.ts for d in asked)  # everyone heard back
        assert conn.execute("SELECT count(*) AS n FROM requests").fetchone()["n"] == 3


def test_a_mention_neither_postgres_nor_the_spool_can_keep_is_refused_for_redelivery(bot, db, postgres):
    postgres.stop()
    bot.redis.set("baton:spool:events", "not a stream")  # the spool refuses it (WRONGTYPE), as a dead Redis would
    try:
        delivery = bot.slack.post_as_user("U0ALICE", "C0GENERAL", "<@U0BATON> post hi to <#C0OPS|ops>")
        statuses = {r.status for r in delivery.responses}
        assert statuses == {429}, statuses  # not 2xx: Slack redelivers it; below 500
    finally:
        bot.redis.delete("baton:spool:events")
    postgres.start()
    mention = next(env for env in delivery.events if env["event"]["type"] == "app_mention")
    redelivered = bot.slack.deliver_event(mention["event"], event_id=mention["event_id"], retry_num=1)
    assert redelivered.status == 200
    bot.run_jobs(wait_for=1)
    assert len(card_posts(bot)) == 1


class RestartPostgresOnWait(list):
    """``bot.sleeps`` whose first wait (the worker backing off from the outage) brings Postgres back."""

    def __init__(self, server: EmbeddedPostgres) -> None:
        super().__init__()
        self.server = server

    def append(self, seconds: float) -> None:
        super().append(seconds)
        if len(self) == 1:
            self.server.stop()  # fast: ends the smart shutdown the sessions of the web process held open
            self.server.start()


def test_a_click_committed_during_a_smart_shutdown_runs_once_after_the_job_is_retried(bot, db, postgres):
    plan = plan_one(bot, db)
    assert http("GET", bot.url + "/metrics").status == 200  # the web process holds a session, as a live one does
    smart_shutdown(postgres)
    # The web process's open session still works: the decision is committed, and only then shown.
    assert click(bot, "U0BOB", plan, plan_card.APPROVE).status == 200
    assert eventually(lambda: "Approved by <@U0BOB>" in str(bot.slack.calls_to("chat.update")), timeout=10)

    bot.sleeps = RestartPostgresOnWait(postgres)
    bot.run_jobs(wait_for=1)  # execute_plan cannot connect (shutting down), waits, is requeued, runs

    assert bot.sleeps == [2.0]
    with fresh_db(bot) as conn:
        assert plan_row(conn)["status"] == "succeeded"
    assert len(posts_in(bot, "C0OPS", containing="Release 1.2 is out")) == 1
    thread = [m.get("text", "") for m in bot.slack.messages("C0GENERAL") if m.get("bot_id")]
    assert any("Done:" in text for text in thread) and not any("Failed" in text for text in thread)


def test_a_planning_job_cut_short_by_an_outage_takes_its_request_up_again_and_posts_its_card(bot, db, postgres):
    delivery = bot.slack.post_as_user("U0ALICE", "C0GENERAL", ASK)
    assert all(r.status == 200 for r in delivery.responses)
    bot.slack.inject("users.info", delay=1.5)  # the planner's look-up of the requester is slow ...

    def stop_mid_planning() -> None:  # ... and Postgres stops (fast: sessions cut) while it waits
        assert eventually(lambda: bot.slack.calls_to("conversations.info"), timeout=10)
        postgres.stop()

    stopper = threading.Thread(target=stop_mid_planning)
    stopper.start()
    bot.sleeps = RestartPostgresOnWait(postgres)
    bot.run_jobs(wait_for=1)  # plan_request fails on the outage, waits, is retried under the same id, plans
    stopper.join()

    assert bot.sleeps == [2.0]
    assert [c.params["thread_ts"] for c in card_posts(bot)] == [delivery.ts]
    with fresh_db(bot) as conn:
        assert conn.execute("SELECT status FROM requests").fetchone()["status"] == "planned"
        assert plan_row(conn)["status"] == "pending"


def test_a_still_working_message_of_a_run_cut_short_is_removed_when_the_retried_run_posts_the_card(bot, db, postgres):
    bot.setting_changes = {"planning_interim_seconds": 1}
    delivery = bot.slack.post_as_user("U0ALICE", "C0GENERAL", ASK)
    assert all(r.status == 200 for r in delivery.responses)
    bot.slack.inject("users.info", delay=2.5)  # the first run is slow: its thread hears "still working" ...

    def stop_once_told() -> None:  # ... then Postgres stops, and the run fails with the message up
        assert eventually(lambda: still_working(bot), timeout=10)
        postgres.stop()

    stopper = threading.Thread(target=stop_once_told)
    stopper.start()
    bot.sleeps = RestartPostgresOnWait(postgres)
    bot.run_jobs(wait_for=1)  # retried under the same id, the second run is fast: no message of its own
    stopper.join()

    assert bot.sleeps == [2.0]
    [interim] = [c for c in bot.slack.calls_to("chat.postMessage") if c.params["text"].startswith(
        replies.PLANNING_SLOW_START)]
    assert [c.params["thread_ts"] for c in card_posts(bot)] == [delivery.ts]
    # The card replaced it: the first run's "still working" is gone from the thread.
    assert [c.params["ts"] for c in bot.slack.calls_to("chat.delete")] == [interim.response["ts"]]
    assert still_working(bot) == []


def still_working(bot: Any) -> list[dict[str, Any]]:
    """The "still working" messages in the requester's channel and its threads now."""
    return [m for m in bot.slack.messages("C0GENERAL") if (m.get("text") or "").startswith(replies.PLANNING_SLOW_START)]


def test_a_slash_command_with_postgres_down_is_answered_at_once_to_try_again(bot, db, postgres):
    postgres.stop()
    started = time.monotonic()
    answer = bot.slack.slash_command("U0ALICE", "C0GENERAL", "/baton", "post hi to <#C0OPS|ops>")
    assert answer.status == 200 and time.monotonic() - started < 3.0
    assert answer.json() == {"response_type": "ephemeral", "text": UNAVAILABLE}  # in the ack: nothing else to wait on
    postgres.start()
    with fresh_db(bot) as conn:
        assert conn.execute("SELECT count(*) AS n FROM requests").fetchone()["n"] == 0
    # "Try again in a moment": within seconds of Postgres being back, the command is recorded and planned.
    again = eventually(
        lambda: (
            (reply := bot.slack.slash_command("U0ALICE", "C0GENERAL", "/baton", "post hi to <#C0OPS|ops>")).status
            == 200
            and UNAVAILABLE not in reply.body
        ),
        timeout=10,
    )
    assert again
    bot.run_jobs(wait_for=1)
    assert len(card_posts(bot)) == 1
