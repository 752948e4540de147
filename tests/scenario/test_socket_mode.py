"""The core loop over Socket Mode: the local workspace's websocket, bolt's adapter, the same listeners.

A web process in Socket Mode opens its connection with ``apps.connections.open`` (app-level token) and
receives every delivery as an envelope it acknowledges on the websocket. These scenarios run the loop
over it (mention -> card -> approve -> one effect; a slash command and its reply in the ack) and break
it on purpose: Slack's ``disconnect`` mid-flow, a dropped connection, a late ack (scripted, or caused by
a slow Postgres) that makes Slack deliver the event again, hostile payloads, a connection that stays
down (``/readyz`` says so, the attempts back off), and the real ``baton serve`` with an app token.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from baton.web_server import WebServer
from bot.socket_mode import ReconnectingClient, SocketOptions
from memory.db import connect
from slackui import plan_card
from tests.conftest import Bot, http
from tests.scenario.loop_helpers import card_posts, click, eventually, plan_row, posts_in

ASK = "<@U0BATON> post Release 1.2 is out to <#C0OPS|ops>"
#: Fast pings and short backoff so a replaced connection is noticed in a fraction of a second.
FAST = SocketOptions(ping_interval=0.5, backoff_first=0.05, backoff_cap=0.4)


@pytest.fixture(scope="module")
def socket_server(settings, local_slack_server, clock) -> Iterator[WebServer]:
    # No signing secret: Socket Mode traffic is not signed, and /slack/events refuses everything without one.
    socket_settings = settings.with_changes(
        slack_app_token=local_slack_server.app_token, socket_mode=True, slack_signing_secret=None
    )
    server = WebServer(socket_settings, host="127.0.0.1", port=0, now=clock.now, socket_options=FAST)
    server.start_in_thread()
    yield server
    server.stop_thread()


@pytest.fixture
def socket_bot(socket_server, settings, local_slack, db, redis_conn, clock) -> Iterator[Bot]:
    """The bot reached over Socket Mode only: the workspace delivers envelopes, not HTTP POSTs."""
    clock.offset = timedelta(0)
    local_slack.delivery = "socket"
    try:
        assert eventually(lambda: local_slack.socket.open_connections >= 1, timeout=10), "never connected"
        yield Bot(url=socket_server.url, settings=settings, redis=redis_conn, slack=local_slack, clock=clock)
    finally:
        local_slack.wait_for_deliveries(timeout=15)  # this test's echoes go over the socket, not into the next
        local_slack.delivery = "http"
        clock.offset = timedelta(0)


def envelopes(bot: Bot, kind: str) -> list[dict[str, Any]]:
    return [m for m in bot.slack.socket.sent if m.get("type") == kind]


def ask_and_plan(bot: Bot) -> Any:
    delivery = bot.slack.post_as_user("U0ALICE", "C0GENERAL", ASK)
    assert [r.status for r in delivery.responses] == [200, 200]
    bot.run_jobs(wait_for=1)
    return delivery


def approve_and_run(bot: Bot, db: Any) -> dict[str, Any]:
    plan = plan_row(db)
    assert click(bot, "U0BOB", plan, plan_card.APPROVE).status == 200
    bot.run_jobs(wait_for=1)
    return plan_row(db)


def reconnects_counted(server: WebServer) -> float:
    assert server.socket_metrics is not None
    return float(server.socket_metrics.reconnects._value.get())


def readyz(bot: Bot) -> tuple[int, dict[str, Any]]:
    response = http("GET", bot.url + "/readyz")
    return response.status, response.json()


def test_mention_card_approve_one_effect_over_the_websocket(socket_bot, db):
    ask_and_plan(socket_bot)
    assert len(card_posts(socket_bot)) == 1
    plan = approve_and_run(socket_bot, db)

    assert plan["status"] == "succeeded" and plan["decided_by"] == "U0BOB"
    assert len(posts_in(socket_bot, "C0OPS", containing="Release 1.2 is out")) == 1
    # It all went over the websocket, each envelope acknowledged by its id.
    events, clicks = envelopes(socket_bot, "events_api"), envelopes(socket_bot, "interactive")
    assert {e["payload"]["event"]["type"] for e in events} >= {"message", "app_mention"}
    assert [c["payload"]["type"] for c in clicks] == ["block_actions"]
    sent = {e["envelope_id"] for e in events + clicks}
    assert eventually(lambda: sent <= {m["envelope_id"] for m in socket_bot.slack.socket.received})
    assert all(e["retry_attempt"] == 0 for e in events)


def test_a_slash_command_gets_its_reply_in_the_ack(socket_bot, db):
    answer = socket_bot.slack.slash_command("U0ALICE", "C0GENERAL", "/baton", "post Standup at 10 to <#C0OPS|ops>")
    assert answer.status == 200 and "planning" in answer.json()["text"]
    (envelope,) = envelopes(socket_bot, "slash_commands")
    assert envelope["accepts_response_payload"] is True and envelope["payload"]["command"] == "/baton"
    socket_bot.run_jobs(wait_for=1)
    assert plan_row(db)["card_ts"]
    help_answer = socket_bot.slack.slash_command("U0ALICE", "C0GENERAL", "/baton", "help")
    assert help_answer.status == 200 and "/baton" in help_answer.body


def test_a_modal_submission_gets_its_response_action_in_the_ack(socket_bot, db):
    ask_and_plan(socket_bot)
    plan = plan_row(db)
    assert click(socket_bot, "U0BOB", plan, plan_card.REVIEW).status == 200
    view_id = next(iter(eventually(socket_bot.slack.views)))
    empty = socket_bot.slack.submit_view(
        "U0BOB", view_id, values={"steps": {"steps": {"type": "checkboxes", "selected_options": []}}}
    )
    assert empty.status == 200 and empty.json()["response_action"] == "errors" and "steps" in empty.json()["errors"]
    (submission,) = [e for e in envelopes(socket_bot, "interactive") if e["payload"]["type"] == "view_submission"]
    assert submission["accepts_response_payload"] is True
    assert plan_row(db)["status"] == "pending"
    option = {"text": {"type": "plain_text", "text": "1"}, "value": "0"}
    kept = socket_bot.slack.submit_view(
        "U0BOB", view_id, values={"steps": {"steps": {"type": "checkboxes", "selected_options": [option]}}}
    )
    assert (kept.status, kept.body) == (200, "")  # a plain ack closes the modal
    socket_bot.run_jobs(wait_for=1)
    assert plan_row(db)["status"] == "succeeded"
    assert len(posts_in(socket_bot, "C0OPS", containing="Release 1.2 is out")) == 1


@pytest.mark.parametrize("how", ["disconnect", "drop"])
def test_a_connection_replaced_mid_flow_still_completes_once(socket_bot, socket_server, db, how):
    ask_and_plan(socket_bot)
    opened = socket_bot.slack.socket.connections_opened
    reconnects = reconnects_counted(socket_server)
    if how == "disconnect":  # Slack's refresh: the app is asked to open a new connection
        assert socket_bot.slack.socket.disconnect("refresh_requested") == 1
    else:  # the network or Slack's end goes away without a word
        assert socket_bot.slack.socket.drop() == 1

    plan = approve_and_run(socket_bot, db)  # the click waits for the new connection

    assert plan["status"] == "succeeded"
    assert len(posts_in(socket_bot, "C0OPS", containing="Release 1.2 is out")) == 1
    assert db.execute("SELECT count(*) AS n FROM requests").fetchone()["n"] == 1
    assert socket_bot.slack.socket.connections_opened == opened + 1
    assert eventually(lambda: reconnects_counted(socket_server) == reconnects + 1)
    assert eventually(lambda: readyz(socket_bot)[0] == 200)


def test_a_late_ack_makes_slack_deliver_again_and_baton_answers_once(socket_bot, db):
    socket_bot.slack.socket.late_acks(1)  # the first envelope's ack comes too late: Slack sends it again
    delivery = socket_bot.slack.post_as_user("U0ALICE", "D0ALICE", "post Release 1.3 is out to <#C0OPS|ops>")
    assert [r.status for r in delivery.responses] == [200]
    socket_bot.run_jobs(wait_for=1)

    event_id = delivery.events[0]["event_id"]
    sent = [e for e in envelopes(socket_bot, "events_api") if e["payload"]["event_id"] == event_id]
    assert [e["retry_attempt"] for e in sent] == [0, 1] and sent[1]["retry_reason"] == "timeout"
    assert sent[0]["envelope_id"] != sent[1]["envelope_id"]
    # Both were answered (the first one late), and they made one request and one card.
    ids = {e["envelope_id"] for e in sent}
    assert eventually(lambda: ids <= {m["envelope_id"] for m in socket_bot.slack.socket.received})
    assert db.execute("SELECT count(*) AS n FROM requests").fetchone()["n"] == 1
    rows = db.execute("SELECT retry_num FROM slack_events WHERE event_id = %s", (event_id,)).fetchall()
    assert len(rows) == 1
    assert len(card_posts(socket_bot)) == 1
    socket_bot.run_jobs()
    assert len(card_posts(socket_bot)) == 1


def test_a_slow_database_makes_baton_ack_late_and_the_redeliveries_change_nothing(socket_bot, db, backends):
    """Not scripted: Postgres holds the intake for a while, so Baton's own ack misses Slack's deadline."""
    hub = socket_bot.slack.socket
    saved, hub.ack_timeout = hub.ack_timeout, 0.4
    answers: list[Any] = []
    try:
        with connect(backends.database_url) as locker, locker.transaction():
            locker.execute("LOCK TABLE slack_events IN ACCESS EXCLUSIVE MODE")
            asking = threading.Thread(
                target=lambda: answers.append(
                    socket_bot.slack.post_as_user("U0ALICE", "D0ALICE", "post Release 1.4 is out to <#C0OPS|ops>")
                )
            )
            asking.start()
            time.sleep(1.0)  # Slack gives up on the first attempts and delivers the event again meanwhile
        asking.join(timeout=30)
    finally:
        hub.ack_timeout = saved
    (delivery,) = answers
    assert [r.status for r in delivery.responses] == [200]
    event_id = delivery.events[0]["event_id"]
    attempts = [e["retry_attempt"] for e in envelopes(socket_bot, "events_api") if e["payload"]["event_id"] == event_id]
    assert len(attempts) >= 2 and attempts == list(range(len(attempts)))
    socket_bot.run_jobs(wait_for=1)
    assert db.execute("SELECT count(*) AS n FROM slack_events WHERE event_id = %s", (event_id,)).fetchone()["n"] == 1
    assert db.execute("SELECT count(*) AS n FROM requests").fetchone()["n"] == 1
    assert len(card_posts(socket_bot)) == 1


def test_an_event_baton_could_not_record_is_not_acked_and_its_redelivery_is_handled(socket_bot, db, caplog):
    """Postgres refuses the intake (the requests table is gone for a moment): nothing is recorded, so the
    envelope is left unacknowledged, as HTTP would answer 400, and Slack's redelivery makes the request."""
    hub = socket_bot.slack.socket
    saved, hub.ack_timeout = hub.ack_timeout, 1.0
    answers: list[Any] = []
    caplog.set_level(logging.INFO, logger="bot.socket_mode")
    asking = threading.Thread(
        target=lambda: answers.append(
            socket_bot.slack.post_as_user("U0ALICE", "D0ALICE", "post Release 1.5 is out to <#C0OPS|ops>")
        )
    )
    try:
        db.execute("ALTER TABLE requests RENAME TO requests_away")
        try:
            asking.start()
            assert eventually(lambda: "not acknowledged" in caplog.text, timeout=5)  # the first attempt failed
        finally:
            db.execute("ALTER TABLE requests_away RENAME TO requests")
        asking.join(timeout=30)
    finally:
        hub.ack_timeout = saved
    (delivery,) = answers
    assert [r.status for r in delivery.responses] == [200]
    event_id = delivery.events[0]["event_id"]
    sent = [e for e in envelopes(socket_bot, "events_api") if e["payload"]["event_id"] == event_id]
    assert [e["retry_attempt"] for e in sent] == [0, 1]
    assert sent[0]["envelope_id"] not in {m["envelope_id"] for m in hub.received}  # never acknowledged
    assert db.execute("SELECT count(*) AS n FROM requests").fetchone()["n"] == 1
    assert db.execute("SELECT retry_num FROM slack_events WHERE event_id = %s", (event_id,)).fetchall() == [
        {"retry_num": 1}
    ]


def hostile_event(text: str, **extra: Any) -> dict[str, Any]:
    ts = f"{time.time():.6f}"
    event = {
        "type": "message",
        "channel": "D0ALICE",
        "channel_type": "im",
        "user": "U0ALICE",
        "text": text,
        "ts": ts,
        "event_ts": ts,
        **extra,
    }
    return {
        "type": "event_callback",
        "team_id": "T0LOCAL",
        "api_app_id": "A0BATON",
        "event_id": f"Ev{ts}",
        "event_time": int(time.time()),
        "event": event,
    }


def test_envelope_payloads_are_cleaned_and_checked_like_http_bodies(socket_bot, db):
    socket = socket_bot.slack.socket
    # A lone surrogate and a NUL (the envelope's JSON escapes them, as Slack's does) are stored replaced.
    answer = socket.deliver("events_api", hostile_event("post hi \ud800 there\x00 to <#C0OPS|ops>"), timeout=15)
    assert answer.outcome == "acked"
    text = db.execute("SELECT text FROM requests").fetchone()["text"]
    assert "\ufffd" in text and "\x00" not in text and "\ud800" not in text
    # Malformed payloads are acknowledged (a redelivery would be refused again) and go no further.
    malformed = [
        ("events_api", hostile_event("hi", user={"id": 5})),  # user must be a string in a message
        ("events_api", hostile_event("hi", score=float("nan"))),  # Python's json lets NaN through; jsonb cannot
        ("interactive", {"type": "block_actions", "user": {"id": "U0ALICE"}, "actions": []}),
        ("slash_commands", {"command": ["/baton"], "text": "hi"}),
        ("events_api", {"type": "event_callback", "event": "not an object"}),
    ]
    for kind, payload in malformed:
        answer = socket.deliver(kind, payload, timeout=15)
        assert (answer.outcome, answer.attempts) == ("acked", 1), payload  # acknowledged the first time
    event_ids = [payload.get("event_id") for kind, payload in malformed if kind == "events_api"]
    assert (
        db.execute("SELECT count(*) AS n FROM slack_events WHERE event_id = ANY(%s)", (event_ids,)).fetchone()["n"] == 0
    )
    assert db.execute("SELECT count(*) AS n FROM requests").fetchone()["n"] == 1


def test_readyz_reports_a_socket_that_stays_down_and_metrics_count_the_reconnect(socket_bot, socket_server):
    assert readyz(socket_bot)[0] == 200
    before = reconnects_counted(socket_server)
    # Slack cannot hand out a connection for a while (the client backs off between attempts) ...
    socket_bot.slack.inject("apps.connections.open", error="internal_error", times=4)
    socket_bot.slack.socket.drop()
    status, body = eventually(lambda: (r := readyz(socket_bot))[0] == 503 and r, timeout=10)
    assert status == 503 and body["checks"]["slack_socket"]["ok"] is False
    assert "disconnected" in body["checks"]["slack_socket"]["detail"]
    assert body["checks"]["postgres"]["ok"] is True  # the probes are still served on PORT
    assert http("GET", socket_bot.url + "/healthz").status == 200
    # ... then it can again: the process reconnects by itself and is ready.
    assert eventually(lambda: readyz(socket_bot)[0] == 200, timeout=20)
    assert len(socket_bot.slack.calls_to("apps.connections.open")) == 5
    metrics = http("GET", socket_bot.url + "/metrics").body
    assert f"baton_slack_socket_reconnects_total {before + 1:.1f}" in metrics
    assert "baton_slack_socket_connected 1.0" in metrics
    assert 'baton_slack_ack_seconds_count{kind="event"}' in metrics or "baton_slack_ack_seconds" in metrics


def test_baton_serve_with_an_app_token_runs_in_socket_mode(backends, local_slack, db, tmp_path):
    """The real command: SLACK_APP_TOKEN set (no signing secret, no flag) -> a websocket, probes on PORT."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "BATON_", "OPENAI_"))}
    env.update(
        BATON_HOME=str(backends.home),
        DATABASE_URL=backends.database_url,
        REDIS_URL=backends.redis_url,
        SLACK_BOT_TOKEN=local_slack.bot_token,
        SLACK_APP_TOKEN=local_slack.app_token,
        SLACK_API_URL=local_slack.api_url,
        PORT=str(port),
        BATON_LOG_LEVEL="WARNING",
        BATON_EMBEDDING_PROVIDER="none",
    )
    before = len(local_slack.calls_to("apps.connections.open"))
    log = tmp_path / "serve.log"
    with log.open("w") as stderr:
        serve = subprocess.Popen(
            [sys.executable, "-m", "baton.cli", "serve", "--host", "127.0.0.1"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    url = f"http://127.0.0.1:{port}"
    try:

        def ready() -> bool:
            assert serve.poll() is None, log.read_text()
            try:
                return http("GET", url + "/readyz").status == 200
            except OSError:
                return False

        assert eventually(ready, timeout=60)
        assert http("GET", url + "/readyz").json()["checks"]["slack_socket"]["ok"] is True
        assert len(local_slack.calls_to("apps.connections.open")) == before + 1
        assert http("POST", url + "/slack/events", body=b"{}").status == 401  # nothing unsigned gets in there
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=30)


def test_failed_attempts_to_get_a_connection_url_back_off(local_slack):
    local_slack.inject("apps.connections.open", error="internal_error", times=3)

    async def until_a_url() -> tuple[float, int, str]:
        client = ReconnectingClient(
            app_token=local_slack.app_token,
            web_client=AsyncWebClient(base_url=local_slack.api_url),
            options=SocketOptions(backoff_first=0.2, backoff_cap=0.4),
        )
        started = time.monotonic()
        try:
            for _ in range(4):
                failures = client.failures
                try:
                    url = await client.issue_new_wss_url()
                except SlackApiError:
                    continue
                return time.monotonic() - started, failures, url
            raise AssertionError("never got a URL")
        finally:
            await client.close()

    elapsed, failures, url = asyncio.run(until_a_url())
    assert url.startswith("ws://") and failures == 3
    assert elapsed >= (0.2 + 0.4 + 0.4) / 2  # at least half of each capped, doubling wait
    assert len(local_slack.calls_to("apps.connections.open")) == 4
