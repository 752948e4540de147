"""Socket Mode, pure parts: envelope payloads read like the HTTP bodies they stand for, the reconnect
backoff, and the settings that turn Socket Mode on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.inbound import Malformed, Unknown, read_body, read_envelope
from bot.socket_mode import SocketOptions
from core.settings import SettingsError, load_settings
from tests.conftest import FIXTURES, load_fixture

HOME = Path("/var/lib/baton-test")


@pytest.mark.parametrize(
    "name",
    sorted(p.name for p in (FIXTURES / "slack" / "events").glob("*.json") if p.name != "url_verification.docs.json"),
)
def test_every_real_event_sample_reads_as_an_envelope_as_over_http(name):
    body = (FIXTURES / "slack" / "events" / name).read_bytes()
    assert read_envelope("events_api", json.loads(body)) == read_body(body, content_type="application/json")


@pytest.mark.parametrize("name", ["block_actions_button.bolt-python.json", "view_submission.bolt-python.json"])
def test_real_interaction_samples_read_as_envelopes(name):
    payload = load_fixture(f"slack/interactivity/{name}")
    inbound = read_envelope("interactive", payload)
    assert (inbound.kind, inbound.body) == ("interaction", payload)


def test_real_slash_command_samples_read_as_envelopes():
    for name in ("slash_command.bolt-python.json", "slash_command.docs-signing-example.json"):
        sample = load_fixture(f"slack/interactivity/{name}")
        inbound = read_envelope("slash_commands", sample["parsed"])
        assert (inbound.kind, inbound.body) == ("command", sample["parsed"])


def test_strings_are_cleaned_in_envelopes_as_in_bodies():
    payload = {"command": "/baton", "text": "post \x00 and \ud800 here", "user_id": "U\x001"}
    body = read_envelope("slash_commands", payload).body
    assert body["text"] == "post \ufffd and \ufffd here" and body["user_id"] == "U\ufffd1"


@pytest.mark.parametrize(
    ("kind", "payload", "refusal"),
    [
        ("events_api", [], Malformed),
        ("events_api", "text", Malformed),
        ("events_api", {"type": "event_callback", "event": {"type": "message", "text": 5}}, Malformed),
        ("events_api", {"type": "event_callback", "event": {"type": "message"}, "x": float("nan")}, Malformed),
        ("events_api", {"type": "event_callback", "event": {"type": "message"}, "x": float("inf")}, Malformed),
        ("events_api", {"type": "url_verification", "challenge": "c"}, Unknown),  # HTTP only
        ("interactive", {"type": "block_actions", "user": {"id": "U1"}, "actions": []}, Malformed),
        ("interactive", {"type": "view_submission", "user": {"id": "U1"}, "view": {"callback_id": "x"}}, Malformed),
        ("interactive", {"type": "block_suggestion", "user": {"id": "U1"}}, Unknown),
        ("slash_commands", {"text": "hi"}, Malformed),
        ("slash_commands", {"command": "/baton", "text": 5}, Malformed),
        ("hello", {}, Unknown),
    ],
)
def test_envelope_refusals(kind, payload, refusal):
    with pytest.raises(refusal):
        read_envelope(kind, payload)


def test_deeply_nested_envelopes_are_refused():
    deep: dict[str, object] = {}
    for _ in range(5000):
        deep = {"a": deep}
    with pytest.raises(Malformed):
        read_envelope("events_api", {"type": "event_callback", "event": {"type": "message"}, "x": deep})


def test_backoff_doubles_to_its_cap_with_jitter():
    options = SocketOptions(backoff_first=1.0, backoff_cap=10.0)
    assert options.backoff(0) == 0.0
    assert [options.backoff(n, rand=lambda: 1.0) for n in (1, 2, 3, 4, 5, 50)] == [1, 2, 4, 8, 10, 10]
    assert [options.backoff(n, rand=lambda: 0.0) for n in (1, 2, 5)] == [0.5, 1, 5]


def test_an_app_token_turns_socket_mode_on_unless_it_is_turned_off():
    env = {"SLACK_APP_TOKEN": "xapp-1-A1-123-abc"}
    assert load_settings(env, default_home=HOME).socket_mode
    assert not load_settings({**env, "BATON_SOCKET_MODE": "false"}, default_home=HOME).socket_mode
    assert not load_settings({}, default_home=HOME).socket_mode
    assert load_settings({}, default_home=HOME, socket_mode=True).socket_mode  # --socket-mode
    shown = load_settings(env, default_home=HOME).masked()  # what `baton config` prints: masked like a secret
    assert shown["slack_app_token"] == "xapp-****-abc" and "xapp-1-A1-123-abc" not in str(shown)


def test_socket_mode_settings_fail_with_the_variable_and_the_fix():
    with pytest.raises(SettingsError, match=r"SLACK_APP_TOKEN .*xapp-"):
        load_settings({"SLACK_APP_TOKEN": "xoxb-123"}, default_home=HOME)
    with pytest.raises(SettingsError, match="BATON_SOCKET_MODE"):
        load_settings({"BATON_SOCKET_MODE": "maybe"}, default_home=HOME)
    no_token = load_settings({"SLACK_BOT_TOKEN": "xoxb-1"}, default_home=HOME, socket_mode=True)
    with pytest.raises(SettingsError, match="SLACK_APP_TOKEN is not set but Socket Mode is on"):
        no_token.require_slack()
    # Socket Mode needs no signing secret: nothing it receives is signed.
    load_settings({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}, default_home=HOME).require_slack()
    with pytest.raises(SettingsError, match="SLACK_SIGNING_SECRET"):
        load_settings({"SLACK_BOT_TOKEN": "xoxb-1"}, default_home=HOME).require_slack()
