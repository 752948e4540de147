"""Hostile input through the real endpoint: every request gets a status below 500 and, where a person
sent it, a reply; nothing that fails the signature check, or is malformed, fills the logs.

One test per case an outside tester reproduced, then a property test fuzzing the three kinds of body.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any
from urllib.parse import quote, urlencode

import pytest

from slackui import plan_card, replies
from tests.scenario.loop_helpers import ephemerals_to, eventually

FORM = "application/x-www-form-urlencoded"


def envelope(event: Any, *, event_id: str = "EvHOSTILE1") -> dict[str, Any]:
    return {"type": "event_callback", "team_id": "T0LOCAL", "api_app_id": "A0BATON", "event_id": event_id,
            "event_time": int(time.time()), "event": event}


def mention(text: str, *, ts: str = "1700000200.000100") -> dict[str, Any]:
    return {"type": "app_mention", "channel": "C0GENERAL", "channel_type": "channel", "user": "U0ALICE",
            "text": text, "ts": ts, "event_ts": ts}


def payload_form(payload: Any) -> str:
    return "payload=" + quote(json.dumps(payload))


def block_actions(action_id: str, *, value: str = "1") -> dict[str, Any]:
    return {"type": "block_actions", "team": {"id": "T0LOCAL"}, "user": {"id": "U0ALICE", "team_id": "T0LOCAL"},
            "channel": {"id": "C0GENERAL"}, "container": {"type": "message", "channel_id": "C0GENERAL",
                                                          "message_ts": "1700000000.000100"},
            "trigger_id": "1.2.abc", "actions": [{"type": "button", "action_id": action_id, "value": value,
                                                   "block_id": "b1", "action_ts": "1700000300.1"}]}


def view_submission(callback_id: str, *, view_type: str | None = "modal", state: Any = None) -> dict[str, Any]:
    view: dict[str, Any] = {"id": "V0FORGED", "callback_id": callback_id, "private_metadata": "1",
                            "state": {"values": state or {}}}
    if view_type is not None:
        view["type"] = view_type
    return {"type": "view_submission", "team": {"id": "T0LOCAL"}, "user": {"id": "U0ALICE", "team_id": "T0LOCAL"},
            "trigger_id": "1.2.abc", "view": view}


def errors_with_tracebacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


# -- 1. a lone surrogate --------------------------------------------------------------------------
def test_a_lone_surrogate_is_recorded_replaced_and_answered(bot, db):
    # JSON text with an escaped lone surrogate, as the tester sent it (json.dumps escapes it as \ud800).
    body = json.dumps(envelope(mention("<@U0BATON> post hello \ud800 world")))
    assert "\\ud800" in body
    response = bot.post_signed(body)
    assert response.status == 200, response.body
    stored = db.execute("SELECT payload::text AS p FROM slack_events").fetchone()["p"]
    assert "hello \ufffd world" in json.loads(stored)["event"]["text"]
    request = db.execute("SELECT text FROM requests").fetchone()
    assert request["text"] == "post hello \ufffd world"
    assert bot.run_jobs(wait_for=1) == 1
    replies_in_thread = [c for c in bot.slack.calls_to("chat.postMessage") if c.params.get("thread_ts")]
    assert len(replies_in_thread) == 1


def test_nul_and_surrogates_in_a_slash_command_and_a_shortcut_are_replaced(bot, db):
    form = urlencode([("command", "/baton"), ("text", "post \x00 and \ud800 here"), ("team_id", "T0LOCAL"),
                      ("channel_id", "C0GENERAL"), ("user_id", "U0ALICE"), ("trigger_id", "1.2.cmd")],
                     errors="surrogatepass")
    response = bot.post_signed(form, content_type=FORM)
    assert response.status == 200, response.body
    shortcut = {"type": "message_action", "callback_id": "ask_baton", "trigger_id": "1.2.sc",
                "team": {"id": "T0LOCAL"}, "user": {"id": "U0ALICE"}, "channel": {"id": "C0GENERAL"},
                "message": {"type": "message", "user": "U0BOB", "ts": "1700000000.000200", "text": "x\ud83d\x00y"}}
    assert bot.post_signed(payload_form(shortcut), content_type=FORM).status == 200
    texts = [row["text"] for row in db.execute("SELECT text FROM requests ORDER BY id").fetchall()]
    # In a form the surrogate arrives as three bytes that are not UTF-8 (%ED%A0%80): one U+FFFD for each.
    assert texts == ["post \ufffd and \ufffd\ufffd\ufffd here", "x\ufffd\ufffdy"]


# -- 2. malformed bodies: 401 unsigned, 400 signed, and never an ERROR or a traceback ------------------
MALFORMED = {
    "garbage JSON": (b'{"type": "event_callback", "event": {', "application/json"),
    "binary": (b"\xff\xfe\x00\x81binary\x00", "application/octet-stream"),
    "binary claiming JSON": (b"{\xff\xfe}", "application/json"),
    "payload= not JSON": (b"payload=%7Bnot%20json", FORM),
    "payload= a JSON list": (b"payload=%5B1%2C2%5D", FORM),
    "a JSON list": (b"[1, 2, 3]", "application/json"),
    "event as a string": (json.dumps(envelope("hello")).encode(), "application/json"),
    "view_submission without view.type": (payload_form(view_submission(plan_card.REJECT_MODAL, view_type=None))
                                          .encode(), FORM),
    "actions not a list": (payload_form({**block_actions("x"), "actions": "x"}).encode(), FORM),
    "a NaN": (b'{"type": "event_callback", "event": {"type": "message", "ts": NaN}}', "application/json"),
    "nested too deep": (b'{"type": "event_callback", "event": ' + b"[" * 5000 + b"]" * 5000 + b"}",
                        "application/json"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_signed_malformed_body_gets_400_without_a_traceback(bot, db, caplog, case):
    body, content_type = MALFORMED[case]
    with caplog.at_level(logging.INFO):
        response = bot.post_signed(body, content_type=content_type)
    assert response.status == 400, response.body
    assert errors_with_tracebacks(caplog) == []
    assert db.execute("SELECT count(*) AS n FROM slack_events").fetchone()["n"] == 0


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_an_unsigned_malformed_body_gets_401_without_a_traceback(bot, db, caplog, case):
    from tests.conftest import http

    body, content_type = MALFORMED[case]
    with caplog.at_level(logging.INFO):
        response = http("POST", bot.url + "/slack/events", body=body, headers={"Content-Type": content_type})
    assert response.status == 401
    assert errors_with_tracebacks(caplog) == []


def test_garbage_signature_headers_get_401(bot):
    from tests.conftest import http

    for timestamp, signature in [("abc", "v0=00"), ("1e9", "v0=é"), (str(int(time.time())), "v0=\u00e9\u00e9")]:
        headers = {"Content-Type": "application/json", "X-Slack-Request-Timestamp": timestamp,
                   "X-Slack-Signature": signature}
        assert http("POST", bot.url + "/slack/events", body=b"{}", headers=headers).status == 401


# -- well-formed but unknown: 200, and a reply to the person ------------------------------------------
def test_a_forged_action_id_is_acked_and_the_clicker_told_it_is_no_longer_valid(bot, db):
    response = bot.post_signed(payload_form(block_actions("no_such_button")), content_type=FORM)
    assert response.status == 200, response.body
    assert eventually(lambda: ephemerals_to(bot, "U0ALICE")) == [replies.STALE_BUTTON]


def test_an_unknown_modal_is_acked_and_the_submitter_told_it_is_no_longer_valid(bot, db):
    response = bot.post_signed(payload_form(view_submission("no_such_modal")), content_type=FORM)
    assert response.status == 200, response.body
    assert json.loads(response.body)["response_action"] == "update"
    assert replies.STALE_FORM in response.body


def test_an_unknown_slash_command_is_answered(bot, db):
    form = urlencode([("command", "/nope"), ("text", "hi"), ("team_id", "T0LOCAL"), ("channel_id", "C0GENERAL"),
                      ("user_id", "U0ALICE"), ("trigger_id", "1.2.x")])
    response = bot.post_signed(form, content_type=FORM)
    assert response.status == 200
    assert replies.UNKNOWN_COMMAND in response.body


@pytest.mark.parametrize("event", [None, {}, {"type": 7}, {"text": "no type"}])
def test_an_event_callback_without_a_usable_event_is_acked(bot, db, event):
    body = envelope(event)
    if event is None:
        del body["event"]
    response = bot.post_event(body)
    assert response.status == 200, response.body
    assert db.execute("SELECT count(*) AS n FROM slack_events").fetchone()["n"] == 0


def test_an_unexpected_error_in_a_listener_answers_400_logged_once_without_the_body(bot, db, caplog):
    # A Review submit whose option value is not a step number raises in our listener before it acks.
    state = {"steps": {"steps": {"type": "checkboxes", "selected_options": [{"value": "MARKER-not-a-number"}]}}}
    with caplog.at_level(logging.INFO):
        response = bot.post_signed(payload_form(view_submission(plan_card.REVIEW_MODAL, state=state)),
                                   content_type=FORM)
    assert response.status == 400
    failures = [r for r in caplog.records if r.exc_info]
    assert len(failures) == 1
    assert all("MARKER" not in record.getMessage() for record in caplog.records if record is not failures[0])


# -- 3. a failed signature check logs no body ------------------------------------------------------------
def test_a_failed_signature_check_logs_no_body_content(bot, db, caplog):
    marker = "HOSTILE-MARKER-7f3a"
    body = json.dumps(envelope(mention(f"<@U0BATON> {marker}")))
    # Bolt's loggers copy the root level when the app is built (INFO in production): open them all up.
    bolt_loggers = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)
                    if name.startswith("slack_bolt")]
    levels = [logger.level for logger in bolt_loggers]
    with caplog.at_level(logging.DEBUG):
        for logger in bolt_loggers:
            logger.setLevel(logging.DEBUG)
        try:
            assert bot.post_signed(body, secret="not-the-signing-secret").status == 401
            assert bot.post_signed(body, timestamp=int(time.time()) - 3600).status == 401
        finally:
            for logger, level in zip(bolt_loggers, levels, strict=True):
                logger.setLevel(level)
    assert caplog.records, "the refusal is logged (size and hash)"
    for record in caplog.records:
        text = record.getMessage() + repr(record.args)
        assert marker not in text
        assert "app_mention" not in text


# -- property: fuzzed bodies of every kind through the real endpoint ------------------------------------------
from hypothesis import HealthCheck, given, settings  # noqa: E402  (the property tests' own imports)
from hypothesis import strategies as st  # noqa: E402

#: Text with NUL, lone surrogates (either half) and anything else Unicode holds.
HOSTILE_TEXT = st.text(st.one_of(st.characters(codec=None, categories=None), st.sampled_from("\x00\ud800\udfff")),
                       max_size=12)
JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | HOSTILE_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(HOSTILE_TEXT, inner, max_size=3),
    max_leaves=8,
)


def maybe(value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly the plausible value, sometimes any JSON value at all."""
    return st.sampled_from([True] * 7 + [False]).flatmap(lambda plausible: value if plausible else JSON_VALUE)


EVENTS = st.fixed_dictionaries(
    {"type": maybe(st.sampled_from(["message", "app_mention", "reaction_added", "app_home_opened"])),
     "channel": maybe(st.sampled_from(["C0GENERAL", "D0ALICE"])),
     "user": maybe(st.sampled_from(["U0ALICE", "U0BOB"])),
     "text": maybe(HOSTILE_TEXT.map(lambda text: "<@U0BATON> " + text)),
     "ts": maybe(st.integers(1, 10**6).map(lambda n: f"1700000000.{n:06d}")),
     "channel_type": maybe(st.sampled_from(["channel", "im"]))},
    optional={"subtype": maybe(st.sampled_from(["message_changed", "message_deleted", "file_share"])),
              "thread_ts": maybe(st.just("1700000000.000001")),
              "message": JSON_VALUE, "files": JSON_VALUE, "blocks": JSON_VALUE},
)
EVENT_CALLBACKS = st.fixed_dictionaries(
    {"type": maybe(st.just("event_callback")), "team_id": maybe(st.just("T0LOCAL")),
     "event_id": maybe(st.uuids().map(lambda u: f"Ev{u.hex[:12]}")), "event": maybe(EVENTS)},
    optional={"authorizations": JSON_VALUE, "team": JSON_VALUE},
)
USERS = maybe(st.fixed_dictionaries({"id": maybe(st.just("U0ALICE")), "team_id": maybe(st.just("T0LOCAL"))}))
BLOCK_ACTIONS = st.fixed_dictionaries(
    {"type": maybe(st.just("block_actions")), "user": USERS, "team": maybe(st.just({"id": "T0LOCAL"})),
     "channel": maybe(st.just({"id": "C0GENERAL"})), "trigger_id": maybe(HOSTILE_TEXT),
     "actions": maybe(st.lists(st.fixed_dictionaries(
         {"action_id": maybe(st.sampled_from([plan_card.APPROVE, plan_card.REJECT, "no_such_button"]) | HOSTILE_TEXT),
          "value": maybe(st.sampled_from(["1", "12", ""]) | HOSTILE_TEXT)}), min_size=1, max_size=2))},
)
VIEW_SUBMISSIONS = st.fixed_dictionaries(
    {"type": maybe(st.sampled_from(["view_submission", "view_closed"])), "user": USERS,
     "team": maybe(st.just({"id": "T0LOCAL"})),
     "view": maybe(st.fixed_dictionaries(
         {"type": maybe(st.just("modal")),
          "callback_id": maybe(st.sampled_from([plan_card.REJECT_MODAL, plan_card.REVIEW_MODAL, "gone"])),
          "private_metadata": maybe(st.sampled_from(["1", "x", ""]) | HOSTILE_TEXT),
          "state": maybe(st.fixed_dictionaries({"values": JSON_VALUE}))}))},
)
COMMANDS = st.fixed_dictionaries(
    {"command": st.sampled_from(["/baton", "/other"]) | HOSTILE_TEXT, "text": HOSTILE_TEXT,
     "team_id": st.just("T0LOCAL"), "channel_id": st.sampled_from(["C0GENERAL", "D0ALICE"]) | HOSTILE_TEXT,
     "user_id": st.sampled_from(["U0ALICE", "U0BOB"]) | HOSTILE_TEXT, "trigger_id": HOSTILE_TEXT},
)


def as_json(body: Any, ascii_only: bool) -> bytes:
    # ensure_ascii escapes surrogates as \udxxx; without it they become bytes that are not UTF-8.
    return json.dumps(body, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


REQUESTS = st.one_of(
    st.tuples(EVENT_CALLBACKS, st.booleans()).map(lambda t: (as_json(*t), "application/json")),
    st.tuples(BLOCK_ACTIONS | VIEW_SUBMISSIONS, st.booleans()).map(
        lambda t: (b"payload=" + quote(as_json(*t)).encode(), FORM)),
    COMMANDS.map(lambda form: (urlencode(form, errors="surrogatepass").encode(), FORM)),
)


def storable(value: Any) -> bool:
    """Every string in ``value`` is valid UTF-8 without NUL."""
    if isinstance(value, str):
        return "\x00" not in value and value.encode("utf-8", "strict") is not None
    if isinstance(value, dict):
        return all(storable(k) and storable(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return all(storable(item) for item in value)
    return True


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(request=REQUESTS, signed=st.sampled_from([True, True, True, False]))
def test_no_fuzzed_body_gets_a_5xx_and_everything_stored_is_clean_text(bot, db, request, signed):
    body, content_type = request
    response = bot.post_signed(body, content_type=content_type, secret=None if signed else "forged")
    assert response.status < 500
    if not signed:
        assert response.status == 401
    for table in ("slack_events", "channel_messages", "requests"):
        for row in db.execute(f"SELECT * FROM {table}").fetchall():
            assert storable(row), table
    from tests.conftest import http

    assert http("GET", bot.url + "/healthz").status == 200
