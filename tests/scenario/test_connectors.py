"""The built-in connectors against the real things: the local Slack workspace, Postgres, and a webhook
receiver on a real port. For each: the same key twice is one effect, a worker killed after the effect
(before the ledger heard of it) does not repeat it, undo undoes, and failures map to the right error."""

from __future__ import annotations

import socket
import threading
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from slack_sdk import WebClient

from connectors.base import PermanentError, RetryableError
from connectors.remember import Remember
from connectors.slack_post import SlackPostMessage
from connectors.slack_schedule import SlackScheduleMessage
from connectors.tasks import CompleteTask, CreateTask
from connectors.webhook import Webhook, default_opener
from core.settings import Settings
from core.types import RequestOrigin
from localslack import LocalSlack
from memory import effects
from memory.db import connect as db_connect
from memory.facts import PostgresFactStore
from memory.tasks import PostgresTaskStore
from tests.fakes.backends import Backends
from tests.fakes.webhook_receiver import WebhookReceiver
from workers.connector_wiring import build_registry

KEY = "baton-plan-12-step-0"
SECRET = "webhook-test-secret"
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


class Killed(BaseException):
    """The worker process dying (SIGKILL) right after a side effect: nothing after it runs."""


class DiesAfter:
    """Wraps a client or store; calling ``method`` does the real call, then the 'process' dies."""

    def __init__(self, target: Any, method: str) -> None:
        self._target, self._method = target, method

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._target, name)
        if name != self._method:
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            attribute(*args, **kwargs)
            raise Killed(name)

        return call


# -- fixtures --------------------------------------------------------------------------------------------


@pytest.fixture
def slack(local_slack: LocalSlack) -> Iterator[LocalSlack]:
    """The Slack fake with deliveries to the bot off: these tests talk to the Web API only."""
    previous, local_slack.events_url = local_slack.events_url, None
    yield local_slack
    local_slack.wait_for_deliveries()
    local_slack.events_url = previous


@pytest.fixture
def client(slack: LocalSlack) -> WebClient:
    return WebClient(token=slack.bot_token, base_url=slack.api_url, timeout=5)


@pytest.fixture
def origin(slack: LocalSlack) -> RequestOrigin:
    """A request made by Alice in a thread of #ops."""
    thread = slack.post_as_user("U0ALICE", "C0OPS", "<@U0BATON> tell the team").ts
    return RequestOrigin(team_id=slack.identity.team_id, channel_id="C0OPS", user_id="U0ALICE", thread_ts=thread)


@pytest.fixture
def connect(backends: Backends, db: Any) -> Callable[[], Any]:
    """A connection factory for the stores, on the freshly emptied database."""
    return lambda: db_connect(backends.database_url)


@pytest.fixture(scope="session")
def receiver_server() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def receiver(receiver_server: WebhookReceiver) -> WebhookReceiver:
    receiver_server.reset(secret=SECRET)
    return receiver_server


def no_proxy_opener() -> urllib.request.OpenerDirector:
    return default_opener(urllib.request.ProxyHandler({}))


@pytest.fixture
def webhook(receiver: WebhookReceiver) -> Webhook:
    return Webhook(
        allowlist=(receiver.url + "/hooks/",), secret=SECRET, opener=no_proxy_opener(), timeout=2.0, now=lambda: NOW
    )


def bot_messages(slack: LocalSlack, channel: str) -> list[dict[str, Any]]:
    return [m for m in slack.messages(channel) if m.get("bot_id")]


# -- slack.post_message ----------------------------------------------------------------------------------


def test_post_twice_with_one_key_is_one_message(slack: LocalSlack, client: WebClient, origin: RequestOrigin) -> None:
    connector = SlackPostMessage(client=client)
    args = connector.parse({"channel": "C0OPS", "text": "Deploy finished"})
    first = connector.execute(args, origin=origin, key=KEY)
    again = connector.execute(args, origin=origin, key=KEY)
    [posted] = bot_messages(slack, "C0OPS")
    assert posted["text"] == "Deploy finished" and posted["ts"] == first["ts"] == again["ts"]
    assert posted["metadata"] == {"event_type": "baton_effect", "event_payload": {"key": KEY}}
    assert again["reused"] is True and "reused" not in first
    assert first["permalink"].endswith(f"/archives/C0OPS/p{first['ts'].replace('.', '')}")
    assert len(slack.calls_to("chat.postMessage")) == 1
    lookups = slack.calls_to("conversations.history")
    assert len(lookups) == 2 and all(call.params["include_all_metadata"] in ("1", "true", True) for call in lookups)
    # Another step (another key) with the same text is another message.
    connector.execute(args, origin=origin, key="baton-plan-12-step-1")
    assert len(bot_messages(slack, "C0OPS")) == 2


def test_thread_reply_killed_after_posting_is_found_by_the_next_worker(
    slack: LocalSlack, client: WebClient, origin: RequestOrigin
) -> None:
    args = SlackPostMessage(client=client).parse({"channel": "C0OPS", "text": "On it", "in_thread": True})
    with pytest.raises(Killed):
        SlackPostMessage(client=DiesAfter(client, "chat_postMessage")).execute(args, origin=origin, key=KEY)
    result = SlackPostMessage(client=client).execute(args, origin=origin, key=KEY)
    [reply] = bot_messages(slack, "C0OPS")
    assert reply["thread_ts"] == origin.thread_ts and result == {
        "channel": "C0OPS",
        "ts": reply["ts"],
        "thread_ts": origin.thread_ts,
        "reused": True,
        "permalink": result["permalink"],
    }
    assert len(slack.calls_to("chat.postMessage")) == 1
    assert slack.calls_to("conversations.replies")[-1].params["ts"] == origin.thread_ts


def test_dm_by_user_id_opens_the_dm_once_per_attempt_and_posts_once(
    slack: LocalSlack, client: WebClient, origin: RequestOrigin
) -> None:
    connector = SlackPostMessage(client=client)
    args = connector.parse({"channel": "U0BOB", "text": "Your review is needed"})
    with pytest.raises(Killed):
        SlackPostMessage(client=DiesAfter(client, "chat_postMessage")).execute(args, origin=origin, key=KEY)
    result = connector.execute(args, origin=origin, key=KEY)
    assert result["channel"] == "D0BOB" and result["reused"] is True
    assert [m["text"] for m in bot_messages(slack, "D0BOB")] == ["Your review is needed"]
    assert [call.params["users"] for call in slack.calls_to("conversations.open")] == ["U0BOB", "U0BOB"]


def test_post_survives_the_ledger_not_knowing_it_finished(
    slack: LocalSlack, client: WebClient, origin: RequestOrigin, db: Any
) -> None:
    """The executor's path: claim the key, do the effect, die before ``complete``; the next worker finds the
    claim unfinished, executes again, and the connector returns the first message."""
    request = db.execute(
        "INSERT INTO requests (team_id, dedupe_key, source, channel_id, user_id, text) "
        "VALUES (%s, 'm1', 'mention', 'C0OPS', 'U0ALICE', 'tell the team') RETURNING id",
        (origin.team_id,),
    ).fetchone()
    plan = db.execute(
        "INSERT INTO plans (request_id, team_id, channel_id, requester_id, title, rationale, planner, risk, "
        "expires_at) VALUES (%s, %s, 'C0OPS', 'U0ALICE', 't', 'r', 'rules', 'medium', now() + interval '1 day') "
        "RETURNING id",
        (request["id"], origin.team_id),
    ).fetchone()
    key = effects.step_key(plan["id"], 0)
    args = SlackPostMessage(client=client).parse({"channel": "C0OPS", "text": "Shipped"})

    assert effects.claim(db, key=key, plan_id=plan["id"], step_idx=0, action="slack.post_message").status == "claimed"
    with pytest.raises(Killed):
        SlackPostMessage(client=DiesAfter(client, "chat_postMessage")).execute(args, origin=origin, key=key)

    assert effects.claim(db, key=key, plan_id=plan["id"], step_idx=0, action="slack.post_message").status == "claimed"
    result = SlackPostMessage(client=client).execute(args, origin=origin, key=key)
    effects.complete(db, key=key, result=result)
    assert len(bot_messages(slack, "C0OPS")) == 1 and result["reused"] is True
    done = effects.claim(db, key=key, plan_id=plan["id"], step_idx=0, action="slack.post_message")
    assert done.status == "done" and done.result is not None and done.result["ts"] == result["ts"]


def test_post_compensation_deletes_and_tolerates_already_deleted(
    slack: LocalSlack, client: WebClient, origin: RequestOrigin
) -> None:
    connector = SlackPostMessage(client=client)
    args = connector.parse({"channel": "C0OPS", "text": "oops", "in_thread": True})
    result = connector.execute(args, origin=origin, key=KEY)
    assert connector.compensate(args, result, origin=origin, key=KEY)["deleted"] is True
    assert bot_messages(slack, "C0OPS") == []
    assert connector.compensate(args, result, origin=origin, key=KEY) == {
        "deleted": False,
        "already_gone": True,
        "channel": "C0OPS",
        "ts": result["ts"],
    }


def test_post_error_mapping(slack: LocalSlack, client: WebClient, origin: RequestOrigin) -> None:
    connector = SlackPostMessage(client=client)
    args = connector.parse({"channel": "C0OPS", "text": "hello"})

    slack.inject("chat.postMessage", status=429, retry_after=7)
    with pytest.raises(RetryableError, match="rate-limiting") as limited:
        connector.execute(args, origin=origin, key=KEY)
    assert limited.value.retry_after == 7

    slack.inject("chat.postMessage", status=500)
    with pytest.raises(RetryableError, match="internal_error"):
        connector.execute(args, origin=origin, key=KEY)

    slack.inject("conversations.history", error="service_unavailable")
    with pytest.raises(RetryableError, match="temporarily unavailable"):
        connector.execute(args, origin=origin, key=KEY)
    assert bot_messages(slack, "C0OPS") == []  # nothing was posted by the failed attempts
    connector.execute(args, origin=origin, key=KEY)
    assert len(bot_messages(slack, "C0OPS")) == 1

    missing = connector.parse({"channel": "C0NOPE", "text": "hello"})
    with pytest.raises(PermanentError, match=r"posting to <#C0NOPE>: .*\(channel_not_found\)"):
        connector.execute(missing, origin=origin, key="k-missing")
    slack.add_channel("C0OUTSIDE", "outside", is_member=False)
    with pytest.raises(PermanentError, match="not_in_channel"):
        connector.execute(connector.parse({"channel": "C0OUTSIDE", "text": "x"}), origin=origin, key="k-out")
    with pytest.raises(PermanentError, match="user_not_found"):
        connector.execute(connector.parse({"channel": "U0NOBODY", "text": "x"}), origin=origin, key="k-nobody")
    wrong_thread = connector.parse({"channel": "C0GENERAL", "text": "x", "in_thread": True})
    with pytest.raises(PermanentError, match="requesting thread"):
        connector.execute(wrong_thread, origin=origin, key="k-thread")


def test_slack_timeout_is_retryable(slack: LocalSlack, origin: RequestOrigin) -> None:
    impatient = WebClient(token=slack.bot_token, base_url=slack.api_url, timeout=1)
    slack.inject("conversations.history", delay=1.5)
    connector = SlackPostMessage(client=impatient)
    with pytest.raises(RetryableError, match="did not answer in time"):
        connector.execute(connector.parse({"channel": "C0OPS", "text": "x"}), origin=origin, key=KEY)


# -- slack.schedule_message ------------------------------------------------------------------------------


def schedule_args(
    connector: SlackScheduleMessage, channel: str = "C0OPS", text: str = "Stand-up in 5", minutes: int = 60
) -> Any:
    post_at = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=minutes)
    return connector.parse({"channel": channel, "text": text, "post_at": post_at.isoformat()})


def test_schedule_twice_and_after_a_kill_is_one_scheduled_message(
    slack: LocalSlack, client: WebClient, origin: RequestOrigin
) -> None:
    connector = SlackScheduleMessage(client=client, now=lambda: datetime.now(UTC))
    args = schedule_args(connector)
    with pytest.raises(Killed):
        SlackScheduleMessage(client=DiesAfter(client, "chat_scheduleMessage"), now=lambda: datetime.now(UTC)).execute(
            args, origin=origin, key=KEY
        )
    found = connector.execute(args, origin=origin, key=KEY)
    again = connector.execute(args, origin=origin, key=KEY)
    [scheduled] = slack.scheduled_messages()
    assert (
        found
        == again
        == {
            "channel": "C0OPS",
            "scheduled_message_id": scheduled["id"],
            "post_at": int(args.post_at.timestamp()),
            "reused": True,
        }
    )
    assert len(slack.calls_to("chat.scheduleMessage")) == 1
    # Another text, or another time, is another message.
    connector.execute(schedule_args(connector, text="Retro in 5"), origin=origin, key="k2")
    connector.execute(schedule_args(connector, minutes=90), origin=origin, key="k3")
    assert len(slack.scheduled_messages()) == 3


def test_schedule_dm_to_a_user_id_lands_in_their_dm(
    slack: LocalSlack, client: WebClient, origin: RequestOrigin
) -> None:
    connector = SlackScheduleMessage(client=client, now=lambda: datetime.now(UTC))
    args = schedule_args(connector, channel="U0ALICE")
    first = connector.execute(args, origin=origin, key=KEY)
    assert connector.execute(args, origin=origin, key=KEY)["scheduled_message_id"] == first["scheduled_message_id"]
    assert [(m["channel_id"], m["text"]) for m in slack.scheduled_messages()] == [("D0ALICE", "Stand-up in 5")]


def test_schedule_compensation(slack: LocalSlack, client: WebClient, origin: RequestOrigin) -> None:
    connector = SlackScheduleMessage(client=client, now=lambda: datetime.now(UTC))
    args = schedule_args(connector)
    result = connector.execute(args, origin=origin, key=KEY)
    assert connector.compensate(args, result, origin=origin, key=KEY)["deleted"] is True
    assert slack.scheduled_messages() == []
    assert connector.compensate(args, result, origin=origin, key=KEY)["already_gone"] is True
    later = SlackScheduleMessage(client=client, now=lambda: datetime.now(UTC) + timedelta(hours=2))
    with pytest.raises(PermanentError, match="already sent"):
        later.compensate(args, result, origin=origin, key=KEY)


def test_schedule_error_mapping(slack: LocalSlack, client: WebClient, origin: RequestOrigin) -> None:
    connector = SlackScheduleMessage(client=client, now=lambda: datetime.now(UTC))
    slack.inject("chat.scheduleMessage", status=429, retry_after=3)
    with pytest.raises(RetryableError) as limited:
        connector.execute(schedule_args(connector), origin=origin, key=KEY)
    assert limited.value.retry_after == 3
    with pytest.raises(PermanentError, match="channel_not_found"):
        connector.execute(schedule_args(connector, channel="C0NOPE"), origin=origin, key=KEY)
    # A plan approved too late: the time has passed when the step runs.
    stale = SlackScheduleMessage(client=client, now=lambda: datetime.now(UTC) - timedelta(hours=3))
    with pytest.raises(PermanentError, match="time_in_past"):
        stale.execute(schedule_args(stale, minutes=-60), origin=origin, key=KEY)
    assert slack.scheduled_messages() == []


# -- tasks -----------------------------------------------------------------------------------------------


def count(db: Any, table: str) -> int:
    return int(db.execute(f"SELECT count(*) AS n FROM {table}").fetchone()["n"])


def test_create_task_once_per_key_even_concurrently(db: Any, connect: Callable[[], Any], origin: RequestOrigin) -> None:
    connector = CreateTask(store=PostgresTaskStore(connect))
    args = connector.parse({"title": "Update changelog", "owner": "U0BOB", "due_date": "2026-11-27"})
    results: list[dict[str, Any]] = []
    threads = [
        threading.Thread(target=lambda: results.append(connector.execute(args, origin=origin, key=KEY)))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({r["task_id"] for r in results}) == 1 and count(db, "tasks") == 1
    row = db.execute("SELECT * FROM tasks").fetchone()
    assert (row["team_id"], row["title"], row["owner_id"], row["due_date"], row["status"], row["idempotency_key"]) == (
        origin.team_id,
        "Update changelog",
        "U0BOB",
        date(2026, 11, 27),
        "open",
        KEY,
    )
    assert results[0] == {
        "task_id": row["id"],
        "title": "Update changelog",
        "owner_id": "U0BOB",
        "due_date": "2026-11-27",
        "status": "open",
    }


def test_create_task_killed_after_insert_then_undone(
    db: Any, connect: Callable[[], Any], origin: RequestOrigin
) -> None:
    store = PostgresTaskStore(connect)
    args = CreateTask(store=store).parse({"title": "Rotate keys"})
    with pytest.raises(Killed):
        CreateTask(store=DiesAfter(store, "create")).execute(args, origin=origin, key=KEY)  # type: ignore[arg-type]
    connector = CreateTask(store=store)
    result = connector.execute(args, origin=origin, key=KEY)
    assert count(db, "tasks") == 1
    undone = connector.compensate(args, result, origin=origin, key=KEY)
    assert undone["cancelled"] is True and undone["status"] == "cancelled"
    assert connector.compensate(args, result, origin=origin, key=KEY)["cancelled"] is False


def test_complete_task_and_reopen(db: Any, connect: Callable[[], Any], origin: RequestOrigin) -> None:
    store = PostgresTaskStore(connect)
    task_id = CreateTask(store=store).execute(
        CreateTask(store=store).parse({"title": "Ship"}), origin=origin, key="create"
    )["task_id"]
    connector = CompleteTask(store=store)
    args = connector.parse({"task_id": task_id})
    first = connector.execute(args, origin=origin, key=KEY)
    again = connector.execute(args, origin=origin, key=KEY)
    assert (first["status"], first["previous_status"], again["previous_status"]) == ("done", "open", "done")
    assert db.execute("SELECT completed_at FROM tasks").fetchone()["completed_at"] is not None
    # Undo of the run that closed it reopens; undo of a run that found it closed leaves it alone.
    assert connector.compensate(args, again, origin=origin, key=KEY)["reopened"] is False
    assert connector.compensate(args, first, origin=origin, key=KEY)["reopened"] is True
    assert db.execute("SELECT status, completed_at FROM tasks").fetchone() == {"status": "open", "completed_at": None}


def test_tasks_belong_to_their_workspace(db: Any, connect: Callable[[], Any], origin: RequestOrigin) -> None:
    store = PostgresTaskStore(connect)
    task_id = CreateTask(store=store).execute(
        CreateTask(store=store).parse({"title": "Ours"}), origin=origin, key="create"
    )["task_id"]
    elsewhere = RequestOrigin(team_id="T0OTHER", channel_id="C1", user_id="U1")
    connector = CompleteTask(store=store)
    with pytest.raises(PermanentError, match="no such task"):
        connector.execute(connector.parse({"task_id": task_id}), origin=elsewhere, key=KEY)
    with pytest.raises(PermanentError, match="no such task"):
        connector.execute(connector.parse({"task_id": task_id + 100}), origin=origin, key=KEY)
    assert db.execute("SELECT status FROM tasks").fetchone()["status"] == "open"
    store.cancel(team_id=origin.team_id, task_id=task_id)
    with pytest.raises(PermanentError, match="cancelled"):
        connector.execute(connector.parse({"task_id": task_id}), origin=origin, key=KEY)


# -- memory.remember -------------------------------------------------------------------------------------


def test_remember_once_per_key_and_forget(db: Any, connect: Callable[[], Any], origin: RequestOrigin) -> None:
    store = PostgresFactStore(connect)
    connector = Remember(store=store)
    args = connector.parse({"text": "Deploys freeze on Fridays", "scope": "workspace"})
    with pytest.raises(Killed):
        Remember(store=DiesAfter(store, "remember")).execute(args, origin=origin, key=KEY)  # type: ignore[arg-type]
    first = connector.execute(args, origin=origin, key=KEY)
    assert connector.execute(args, origin=origin, key=KEY) == first
    [fact] = store.facts(team_id=origin.team_id)
    assert (fact.id, fact.scope, fact.channel_id, fact.user_id, fact.author_id) == (
        first["fact_id"],
        "workspace",
        None,
        None,
        "U0ALICE",
    )
    assert connector.compensate(args, first, origin=origin, key=KEY)["deleted"] is True
    assert connector.compensate(args, first, origin=origin, key=KEY)["deleted"] is False
    assert count(db, "memories") == 0


@pytest.mark.parametrize(("scope", "channel_id", "user_id"), [("channel", "C0OPS", None), ("user", None, "U0ALICE")])
def test_remember_scopes(
    connect: Callable[[], Any], origin: RequestOrigin, scope: str, channel_id: str | None, user_id: str | None
) -> None:
    store = PostgresFactStore(connect)
    connector = Remember(store=store)
    connector.execute(connector.parse({"text": "x", "scope": scope}), origin=origin, key=KEY)
    [fact] = store.facts(team_id=origin.team_id)
    assert (fact.channel_id, fact.user_id) == (channel_id, user_id)


# -- http.webhook ----------------------------------------------------------------------------------------


def test_webhook_posts_signed_json_with_the_key_once(
    receiver: WebhookReceiver, webhook: Webhook, origin: RequestOrigin
) -> None:
    args = webhook.parse({"url": receiver.url + "/hooks/deploy", "payload": {"service": "api", "version": "1.2"}})
    first = webhook.execute(args, origin=origin, key=KEY)
    again = webhook.execute(args, origin=origin, key=KEY)
    assert first == again == {"status": 200, "response": '{"ok": true, "received": 1}'}
    assert receiver.effects == {KEY: {"service": "api", "version": "1.2"}}
    sent, repeated = receiver.requests
    assert (sent.replayed, repeated.replayed) == (False, True)
    assert sent.signature_ok is True and sent.path == "/hooks/deploy"
    assert sent.body == b'{"service":"api","version":"1.2"}'
    assert {k: sent.headers[k] for k in ("idempotency-key", "x-baton-timestamp", "user-agent", "content-type")} == {
        "idempotency-key": KEY,
        "x-baton-timestamp": str(int(NOW.timestamp())),
        "user-agent": "Baton",
        "content-type": "application/json",
    }


def test_webhook_without_a_secret_is_unsigned(receiver: WebhookReceiver, origin: RequestOrigin) -> None:
    receiver.reset(secret=None)
    unsigned = Webhook(allowlist=(receiver.url + "/hooks/",), secret=None, opener=no_proxy_opener())
    unsigned.execute(unsigned.parse({"url": receiver.url + "/hooks/x", "payload": {}}), origin=origin, key=KEY)
    [request] = receiver.requests
    assert "x-baton-signature" not in request.headers and request.headers["x-baton-timestamp"].isdigit()


def test_webhook_wrong_secret_is_refused_permanently(receiver: WebhookReceiver, origin: RequestOrigin) -> None:
    wrong = Webhook(allowlist=(receiver.url + "/hooks/",), secret="not-it", opener=no_proxy_opener())
    with pytest.raises(PermanentError, match="HTTP 401"):
        wrong.execute(wrong.parse({"url": receiver.url + "/hooks/x", "payload": {}}), origin=origin, key=KEY)
    assert receiver.effects == {}


def test_webhook_slow_answer_times_out_but_the_retry_does_not_repeat(
    receiver: WebhookReceiver, origin: RequestOrigin
) -> None:
    impatient = Webhook(allowlist=(receiver.url + "/hooks/",), secret=SECRET, opener=no_proxy_opener(), timeout=0.2)
    args = impatient.parse({"url": receiver.url + "/hooks/deploy", "payload": {"n": 1}})
    receiver.inject(delay=0.6)  # processed at once, answered too late
    with pytest.raises(RetryableError, match="did not answer in time"):
        impatient.execute(args, origin=origin, key=KEY)
    assert impatient.execute(args, origin=origin, key=KEY)["status"] == 200
    assert list(receiver.effects) == [KEY] and [r.replayed for r in receiver.requests] == [False, True]


@pytest.mark.parametrize(
    ("inject", "error", "retry_after", "message"),
    [
        ({"status": 500}, RetryableError, None, "HTTP 500"),
        ({"status": 503, "retry_after": 12}, RetryableError, 12.0, "HTTP 503"),
        ({"status": 429, "retry_after": 30}, RetryableError, 30.0, "HTTP 429"),
        ({"status": 404}, PermanentError, None, "HTTP 404"),
        ({"status": 400}, PermanentError, None, "HTTP 400"),
        ({"status": 302, "location": "/elsewhere"}, PermanentError, None, "redirects are not followed"),
    ],
)
def test_webhook_error_mapping(
    receiver: WebhookReceiver,
    webhook: Webhook,
    origin: RequestOrigin,
    inject: dict[str, Any],
    error: type[Exception],
    retry_after: float | None,
    message: str,
) -> None:
    receiver.inject(**inject)
    args = webhook.parse({"url": receiver.url + "/hooks/deploy", "payload": {"n": 1}})
    with pytest.raises(error, match=message) as caught:
        webhook.execute(args, origin=origin, key=KEY)
    assert getattr(caught.value, "retry_after", None) == retry_after
    assert receiver.effects == {} and len(receiver.requests) == 1  # a redirect is not followed
    if error is RetryableError:  # the retry goes through, once
        webhook.execute(args, origin=origin, key=KEY)
        assert list(receiver.effects) == [KEY]


def test_webhook_connection_refused_is_retryable(origin: RequestOrigin) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    closed = Webhook(allowlist=(f"http://127.0.0.1:{port}/",), secret=None, opener=no_proxy_opener(), timeout=2)
    with pytest.raises(RetryableError, match="connection refused"):
        closed.execute(closed.parse({"url": f"http://127.0.0.1:{port}/x", "payload": {}}), origin=origin, key=KEY)


def test_webhook_recheck_allowlist_at_run_time(
    receiver: WebhookReceiver, webhook: Webhook, origin: RequestOrigin
) -> None:
    """Arguments parsed under an older, wider allow-list are refused when the step runs."""
    wide = Webhook(allowlist=(receiver.url + "/",), secret=SECRET, opener=no_proxy_opener())
    args = wide.parse({"url": receiver.url + "/admin", "payload": {}})
    with pytest.raises(PermanentError, match="allow-list"):
        webhook.execute(args, origin=origin, key=KEY)
    assert receiver.requests == []


# -- the registry ----------------------------------------------------------------------------------------


def test_build_registry_wires_every_connector(
    settings: Settings, client: WebClient, connect: Callable[[], Any], receiver: WebhookReceiver, origin: RequestOrigin
) -> None:
    configured = settings.with_changes(webhook_allowlist=(receiver.url + "/hooks/",), webhook_secret=SECRET)
    registry = build_registry(configured, slack=client, connect=connect, now=lambda: NOW, opener=no_proxy_opener())
    assert registry.actions == [
        "http.webhook",
        "memory.remember",
        "slack.post_message",
        "slack.schedule_message",
        "tasks.complete",
        "tasks.create",
    ]
    task = registry.get("tasks.create")
    created = task.execute(task.parse({"title": "via registry"}), origin=origin, key=KEY)
    done = registry.get("tasks.complete")
    assert done.execute(done.parse({"task_id": created["task_id"]}), origin=origin, key="k2")["status"] == "done"
    hook = registry.get("http.webhook")
    hook.execute(hook.parse({"url": receiver.url + "/hooks/x", "payload": {"a": 1}}), origin=origin, key=KEY)
    assert receiver.requests[0].signature_ok is True
