"""Pure checks of the built-in connectors: argument parsing, risk rules and previews (no I/O)."""

from __future__ import annotations

import ssl
import urllib.error
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web import SlackResponse

from connectors.base import Args, Connector, PermanentError, RetryableError
from connectors.registry import ConnectorRegistry
from connectors.remember import Remember
from connectors.slack_errors import slack_error
from connectors.slack_post import SlackPostMessage
from connectors.slack_schedule import SlackScheduleMessage
from connectors.slack_targets import broadcast_mentions
from connectors.tasks import CompleteTask, CreateTask
from connectors.webhook import Webhook, check_allowlist, signature, url_allowed
from core.types import RequestOrigin, Risk

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
CLIENT = WebClient(token="xoxb-never-called", base_url="http://127.0.0.1:9/api/")
IN_CHANNEL = RequestOrigin(team_id="T1", channel_id="C0OPS", user_id="U0ALICE", thread_ts="1700000000.000100")
IN_DM = RequestOrigin(team_id="T1", channel_id="D0ALICE", user_id="U0ALICE", thread_ts=None, channel_type="im")
ALLOWED = "https://allowed.example.com/hooks/"


class NoStore:
    """Stands in for a store: plan-time methods never touch it."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"plan-time code called the store ({name})")


POST = SlackPostMessage(client=CLIENT)
SCHEDULE = SlackScheduleMessage(client=CLIENT, now=lambda: NOW)
CREATE = CreateTask(store=NoStore())  # type: ignore[arg-type]
COMPLETE = CompleteTask(store=NoStore())  # type: ignore[arg-type]
REMEMBER = Remember(store=NoStore())  # type: ignore[arg-type]
WEBHOOK = Webhook(allowlist=(ALLOWED, "http://127.0.0.1:8080/in"), secret="s3cret", now=lambda: NOW)


def judged(connector: Connector, raw: dict[str, Any], origin: RequestOrigin = IN_CHANNEL) -> tuple[Risk, str]:
    args = connector.parse(raw)
    return connector.risk(args, origin=origin), connector.preview(args, origin=origin)


# -- slack.post_message ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "origin", "risk", "where"), [
    ({"channel": "C0OPS", "text": "hi", "in_thread": True}, IN_CHANNEL, Risk.LOW, "Reply in this thread"),
    ({"channel": "C0OPS", "text": "hi"}, IN_CHANNEL, Risk.MEDIUM, "Post in <#C0OPS> (this channel)"),
    ({"channel": "U0BOB", "text": "hi"}, IN_CHANNEL, Risk.MEDIUM, "Send a direct message to <@U0BOB>"),
    ({"channel": "D0BOB", "text": "hi"}, IN_CHANNEL, Risk.MEDIUM, "Post in the direct message <#D0BOB>"),
    ({"channel": "C0GENERAL", "text": "hi"}, IN_CHANNEL, Risk.HIGH, "posting outside the requesting channel"),
    ({"channel": "G0SECRET", "text": "hi"}, IN_CHANNEL, Risk.HIGH, "posting outside the requesting channel"),
    ({"channel": "C0GENERAL", "text": "hi", "in_thread": True}, IN_CHANNEL, Risk.HIGH, "Cannot reply in a thread"),
    ({"channel": "D0ALICE", "text": "hi"}, IN_DM, Risk.MEDIUM, "Post in this conversation"),
    # A slash command has no thread: "in_thread" can only post in the channel, and says so.
    ({"channel": "C0OPS", "text": "hi", "in_thread": True},
     RequestOrigin(team_id="T1", channel_id="C0OPS", user_id="U0ALICE"), Risk.MEDIUM, "Post in <#C0OPS>"),
])
def test_post_risk_and_preview(raw: dict[str, Any], origin: RequestOrigin, risk: Risk, where: str) -> None:
    got_risk, preview = judged(POST, raw, origin)
    assert got_risk is risk
    assert where in preview
    assert "> hi" in preview


@pytest.mark.parametrize("text", [
    "<!channel> deploy done", "<!here> standup", "<!everyone> hello", "<!here|here> x", "hey @channel look",
    "@here: lunch", "<!subteam^S0ONCALL> paging",
])
def test_broadcast_mentions_are_high_even_in_the_thread(text: str) -> None:
    risk, preview = judged(POST, {"channel": "C0OPS", "text": text, "in_thread": True})
    assert risk is Risk.HIGH and ":warning: notifies" in preview
    risk, _ = judged(SCHEDULE, {"channel": "U0ALICE", "text": text, "post_at": (NOW + timedelta(hours=1)).isoformat()})
    assert risk is Risk.HIGH


@pytest.mark.parametrize("text", ["mail me at ops@here.example", "the channel is here", "<@U0BOB> ping"])
def test_ordinary_text_is_not_a_broadcast(text: str) -> None:
    assert broadcast_mentions(text) == []


def test_post_preview_quotes_every_line() -> None:
    _, preview = judged(POST, {"channel": "C0OPS", "text": "line one\n\nline three", "in_thread": True})
    assert preview == "Reply in this thread:\n> line one\n>\n> line three"


@pytest.mark.parametrize("raw", [
    {"channel": "C0OPS", "text": ""},
    {"channel": "C0OPS", "text": "   "},
    {"channel": "C0OPS", "text": "x" * 4001},
    {"channel": "#general", "text": "hi"},
    {"channel": "general", "text": "hi"},
    {"channel": "C0OPS"},
    {"channel": "C0OPS", "text": "hi", "blocks": []},
    {"channel": "C0OPS", "text": "hi", "in_thread": "maybe"},
])
def test_post_bad_arguments(raw: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        POST.parse(raw)


# -- slack.schedule_message ------------------------------------------------------------------------------


def in_an_hour(**extra: Any) -> dict[str, Any]:
    return {"text": "stand-up in 5", "post_at": (NOW + timedelta(hours=1)).isoformat(), **extra}


@pytest.mark.parametrize(("channel", "origin", "risk"), [
    ("U0ALICE", IN_CHANNEL, Risk.LOW),  # a DM to the requester themself
    ("D0ALICE", IN_DM, Risk.LOW),
    ("U0BOB", IN_CHANNEL, Risk.MEDIUM),
    ("D0BOB", IN_CHANNEL, Risk.MEDIUM),
    ("C0OPS", IN_CHANNEL, Risk.MEDIUM),  # the requesting channel
    ("C0GENERAL", IN_CHANNEL, Risk.HIGH),
])
def test_schedule_risk(channel: str, origin: RequestOrigin, risk: Risk) -> None:
    assert judged(SCHEDULE, in_an_hour(channel=channel), origin)[0] is risk


def test_schedule_preview_names_time_and_place() -> None:
    _, preview = judged(SCHEDULE, in_an_hour(channel="C0GENERAL"))
    stamp = int((NOW + timedelta(hours=1)).timestamp())
    assert preview.startswith("Post in <#C0GENERAL> (posting outside the requesting channel) on "
                              f"<!date^{stamp}^{{date_short_pretty}} at {{time}}|Fri 2026-11-20 10:00 UTC>:")
    assert preview.endswith("> stand-up in 5")
    assert judged(SCHEDULE, in_an_hour(channel="U0ALICE"))[1].startswith("Send you a direct message on ")


@pytest.mark.parametrize(("post_at", "problem"), [
    ("2026-11-20T10:00:00", "time zone"),
    ((NOW - timedelta(minutes=1)).isoformat(), "in the past"),
    (NOW.isoformat(), "in the past"),
    ((NOW + timedelta(days=120, seconds=1)).isoformat(), "120 days"),
    ("tomorrow", "datetime"),
])
def test_schedule_post_at_must_be_aware_future_and_within_120_days(post_at: str, problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        SCHEDULE.parse({"channel": "C0OPS", "text": "x", "post_at": post_at})


def test_schedule_accepts_any_offset_and_the_horizon_itself() -> None:
    berlin = timezone(timedelta(hours=1))
    args = SCHEDULE.parse({"channel": "C0OPS", "text": "x", "post_at": "2026-11-27T09:00:00+01:00"})
    assert args.post_at == datetime(2026, 11, 27, 9, tzinfo=berlin)  # type: ignore[attr-defined]
    SCHEDULE.parse({"channel": "C0OPS", "text": "x", "post_at": (NOW + timedelta(days=120)).isoformat()})


# -- tasks -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "risk", "preview"), [
    ({"title": "Update changelog", "owner": "U0ALICE", "due_date": "2026-11-27"}, Risk.LOW,
     "Create task “Update changelog” for <@U0ALICE>, due Fri 2026-11-27"),
    ({"title": "Update changelog"}, Risk.LOW, "Create task “Update changelog” (no owner)"),
    ({"title": "Rotate keys", "owner": "U0BOB"}, Risk.MEDIUM, "Create task “Rotate keys” for <@U0BOB>"),
])
def test_create_task_risk_and_preview(raw: dict[str, Any], risk: Risk, preview: str) -> None:
    assert judged(CREATE, raw) == (risk, preview)


def test_complete_task_is_low() -> None:
    assert judged(COMPLETE, {"task_id": 12}) == (Risk.LOW, "Mark task #12 as done")


@pytest.mark.parametrize(("connector", "raw"), [
    (CREATE, {"title": ""}),
    (CREATE, {"title": "x" * 201}),
    (CREATE, {"title": "x", "owner": "alice"}),
    (CREATE, {"title": "x", "due_date": "next friday"}),
    (CREATE, {"title": "x", "assignee": "U0BOB"}),
    (COMPLETE, {"task_id": 0}),
    (COMPLETE, {"task_id": "twelve"}),
    (COMPLETE, {}),
])
def test_task_bad_arguments(connector: Connector, raw: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        connector.parse(raw)


def test_create_task_parses_the_date() -> None:
    args = CREATE.parse({"title": "x", "due_date": "2026-11-27"})
    assert args.due_date == date(2026, 11, 27)  # type: ignore[attr-defined]


# -- memory.remember -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("scope", "risk", "about"), [
    (None, Risk.LOW, "Remember for <#C0OPS>:"),
    ("channel", Risk.LOW, "Remember for <#C0OPS>:"),
    ("user", Risk.LOW, "Remember about <@U0ALICE>:"),
    ("workspace", Risk.MEDIUM, "Remember for the whole workspace:"),
])
def test_remember_risk_and_preview(scope: str | None, risk: Risk, about: str) -> None:
    raw: dict[str, Any] = {"text": "Deploys freeze on Fridays"}
    if scope:
        raw["scope"] = scope
    assert judged(REMEMBER, raw) == (risk, f"{about}\n> Deploys freeze on Fridays")


@pytest.mark.parametrize("raw", [{"text": ""}, {"text": "x" * 1001}, {"text": "x", "scope": "team"}])
def test_remember_bad_arguments(raw: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        REMEMBER.parse(raw)


# -- http.webhook ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    "https://allowed.example.com/hooks/deploy",
    "https://allowed.example.com/hooks/",
    "https://ALLOWED.example.com/hooks/deploy?env=prod",
    "https://allowed.example.com:443/hooks/a/b",
    "http://127.0.0.1:8080/in",
    "http://127.0.0.1:8080/in/sub",
])
def test_webhook_allowed_urls(url: str) -> None:
    risk, preview = judged(WEBHOOK, {"url": url, "payload": {"a": 1}})
    assert risk is Risk.HIGH
    assert preview.startswith(f"POST to `{url}` (an external system, 7 bytes of JSON)")


@pytest.mark.parametrize("url", [
    "https://allowed.example.com.evil.com/hooks/",            # a longer host
    "https://evil.com/?https://allowed.example.com/hooks/",   # the prefix in the query
    "https://evil.com/https://allowed.example.com/hooks/",    # the prefix in the path
    "https://allowed.example.com@evil.com/hooks/",            # userinfo
    "https://allowed.example.com:pw@evil.com/hooks/",
    "https://user@allowed.example.com/hooks/",
    "http://allowed.example.com/hooks/x",                     # http instead of https
    "https://allowed.example.com:8443/hooks/x",               # another port
    "https://allowed.example.com/hooksx",                     # not at a path boundary
    "https://allowed.example.com/hook",
    "https://allowed.example.com/other/",
    "https://allowed.example.com/hooks/../admin",             # dot segments
    "https://allowed.example.com/hooks/%2e%2E/admin",
    "https://allowed.example.com/hooks/..;/admin",
    "https://allowed.example.com\\@evil.com/hooks/",          # backslash
    "https://allowed.example.com\t.evil.com/hooks/",          # whitespace urlsplit would drop
    "https://allowed.example.com /hooks/",
    "https://allowed.example.com。evil.com/hooks/",            # non-ASCII (IDNA full stop)
    "https://allowed%2eexample.com/hooks/",
    "https://allowed.example.com:99999/hooks/",
    "ftp://allowed.example.com/hooks/",
    "//allowed.example.com/hooks/",
    "/hooks/",
    "http://127.0.0.1:8081/in",
    "http://127.0.0.1:8080/inside",
    "http://localhost:8080/in",
])
def test_webhook_urls_outside_the_allowlist_fail_parse(url: str) -> None:
    with pytest.raises(ValidationError):
        WEBHOOK.parse({"url": url, "payload": {}})
    assert not url_allowed(url, (ALLOWED, "http://127.0.0.1:8080/in"))


def test_webhook_without_allowlist_allows_nothing() -> None:
    closed = Webhook(allowlist=(), secret=None)
    with pytest.raises(ValidationError, match="allow-listed"):
        closed.parse({"url": ALLOWED + "x", "payload": {}})
    with pytest.raises(ValidationError, match="allow-listed"):  # the bare model has no allow-list either
        closed.args_model.model_validate({"url": ALLOWED + "x", "payload": {}})


@pytest.mark.parametrize("entry", ["https://user@allowed.example.com/", "https://a.example.com/?x=1",
                                   "https://a.example.com/#top", "ftp://a.example.com/", "a.example.com/hooks"])
def test_bad_allowlist_entries_fail_at_start(entry: str) -> None:
    with pytest.raises(ValueError, match="allow-list entry"):
        check_allowlist((entry,))


@pytest.mark.parametrize(("payload", "problem"), [
    ({"blob": "x" * (16 * 1024)}, "limit is 16384"),
    ({"n": float("nan")}, "must be JSON"),
    ([1, 2], "dictionary"),
])
def test_webhook_payload_must_be_a_small_json_object(payload: Any, problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        WEBHOOK.parse({"url": ALLOWED + "x", "payload": payload})


def test_webhook_payload_just_under_the_limit_is_fine() -> None:
    WEBHOOK.parse({"url": ALLOWED + "x", "payload": {"blob": "x" * (16 * 1024 - 11)}})


def test_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    # printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac s3cret
    assert signature("s3cret", "1700000000", b'{"a":1}') == (
        "sha256=1698a50bc74d1ff1db85c4e0a5297c2ad9fdba245d5737cdb789e4cc6e098940")


# -- catalogue -------------------------------------------------------------------------------------------


def test_every_connector_is_described_for_the_planner() -> None:
    registry = ConnectorRegistry([POST, SCHEDULE, CREATE, COMPLETE, WEBHOOK, REMEMBER])
    assert registry.actions == ["http.webhook", "memory.remember", "slack.post_message", "slack.schedule_message",
                                "tasks.complete", "tasks.create"]
    catalogue = {entry["action"]: entry for entry in registry.catalogue()}
    assert set(catalogue["slack.post_message"]["args_schema"]["properties"]) == {"channel", "text", "in_thread"}
    assert set(catalogue["slack.schedule_message"]["args_schema"]["properties"]) == {"channel", "text", "post_at"}
    assert set(catalogue["tasks.create"]["args_schema"]["properties"]) == {"title", "owner", "due_date"}
    assert set(catalogue["tasks.complete"]["args_schema"]["properties"]) == {"task_id"}
    assert set(catalogue["http.webhook"]["args_schema"]["properties"]) == {"url", "payload"}
    assert set(catalogue["memory.remember"]["args_schema"]["properties"]) == {"text", "scope", "kind", "replaces"}
    assert all(entry["args_schema"]["additionalProperties"] is False for entry in catalogue.values())
    assert [a for a, e in catalogue.items() if e["compensable"]] == [
        "memory.remember", "slack.post_message", "slack.schedule_message", "tasks.complete", "tasks.create"]
    assert registry.plan_json_schema()["properties"]["steps"]["items"]["anyOf"]


@pytest.mark.parametrize("connector", [POST, SCHEDULE, CREATE, COMPLETE, WEBHOOK, REMEMBER])
def test_arguments_round_trip_through_json(connector: Connector) -> None:
    samples: dict[str, dict[str, Any]] = {
        "slack.post_message": {"channel": "C0OPS", "text": "hi", "in_thread": True},
        "slack.schedule_message": in_an_hour(channel="C0OPS"),
        "tasks.create": {"title": "x", "owner": "U0BOB", "due_date": "2026-11-27"},
        "tasks.complete": {"task_id": 3},
        "http.webhook": {"url": ALLOWED + "x", "payload": {"nested": {"ok": True}}},
        "memory.remember": {"text": "x", "scope": "user"},
    }
    args: Args = connector.parse(samples[connector.action])
    # Stored as JSON in plan_steps.args, parsed again by the executor: it must come back equal.
    assert connector.parse(args.model_dump(mode="json")) == args


# -- Slack error mapping ---------------------------------------------------------------------------------


def slack_api_error(code: str, *, status: int = 200, headers: dict[str, str] | None = None) -> SlackApiError:
    response = SlackResponse(client=None, http_verb="POST", api_url="https://slack.com/api/chat.postMessage",
                             req_args={}, data={"ok": False, "error": code}, headers=headers or {},
                             status_code=status)
    return SlackApiError(f"The request to the Slack API failed: {code}", response)


@pytest.mark.parametrize(("error", "kind", "retry_after", "reason"), [
    (slack_api_error("ratelimited", status=429, headers={"retry-after": "9"}), RetryableError, 9.0, "rate-limiting"),
    (slack_api_error("ratelimited", status=429), RetryableError, 1.0, "rate-limiting"),
    (slack_api_error("internal_error", status=500), RetryableError, None, "internal problem"),
    (slack_api_error("http_502", status=502), RetryableError, None, "HTTP 502"),
    (slack_api_error("fatal_error"), RetryableError, None, "internal problem"),
    (slack_api_error("request_timeout"), RetryableError, None, "timed out"),
    (slack_api_error("service_unavailable", headers={"Retry-After": "4"}), RetryableError, 4.0, "unavailable"),
    (slack_api_error("channel_not_found"), PermanentError, None, "does not exist"),
    (slack_api_error("not_in_channel"), PermanentError, None, "/invite"),
    (slack_api_error("is_archived"), PermanentError, None, "archived"),
    (slack_api_error("invalid_blocks"), PermanentError, None, "layout"),
    (slack_api_error("msg_too_long"), PermanentError, None, "too long"),
    (slack_api_error("no_text"), PermanentError, None, "empty"),
    (slack_api_error("invalid_auth"), PermanentError, None, "token"),
    (slack_api_error("something_new"), PermanentError, None, "Slack refused"),
    (urllib.error.URLError(ConnectionRefusedError(111, "Connection refused")), RetryableError, None, "could not reach"),
    (urllib.error.URLError(TimeoutError("timed out")), RetryableError, None, "in time"),
    (urllib.error.URLError(ssl.SSLCertVerificationError("bad cert")), PermanentError, None, "certificate"),
    (TimeoutError("timed out"), RetryableError, None, "in time"),
    (ConnectionResetError(104, "reset"), RetryableError, None, "could not reach"),
    (SlackRequestError("Either channel or users must be provided."), PermanentError, None, "must be provided"),
])
def test_slack_errors_map_to_retryable_or_permanent(error: Any, kind: type[Exception], retry_after: float | None,
                                                    reason: str) -> None:
    mapped = slack_error(error, doing="posting to <#C1>")
    assert type(mapped) is kind
    assert str(mapped).startswith("posting to <#C1>: ") and reason in str(mapped)
    assert getattr(mapped, "retry_after", None) == retry_after
    if isinstance(error, SlackApiError):
        assert f"({error.response['error']})" in str(mapped)
