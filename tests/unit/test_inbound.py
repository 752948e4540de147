"""The endpoint's first two steps, pure: Slack's signature on raw bytes, and reading a body's shape."""

from __future__ import annotations

import json

import pytest

from bot.inbound import Malformed, Unknown, read_body
from bot.signature import signature_problem
from tests.conftest import FIXTURES, load_fixture

FORM = "application/x-www-form-urlencoded"


def test_slacks_published_test_vector_verifies():
    vector = load_fixture("slack/signing/signature_test_vector.json")
    headers = {k.lower(): v for k, v in vector["headers"].items()}
    body = vector["raw_body"].encode()
    ok = signature_problem(signing_secret=vector["signing_secret"], body=body, headers=headers,
                           now=vector["verifier_clock_now"])
    assert ok is None
    assert signature_problem(signing_secret=vector["signing_secret"], body=body + b"x", headers=headers,
                             now=vector["verifier_clock_now"]) == "bad signature"
    assert signature_problem(signing_secret=vector["signing_secret"], body=body, headers=headers,
                             now=vector["verifier_clock_now"] + 301) == "stale timestamp"


@pytest.mark.parametrize(("timestamp", "signature"), [
    (None, "v0=0"), ("1531420618", None), ("abc", "v0=0"), ("-1", "v0=0"), ("١٥٣١٤٢٠٦١٨", "v0=0"),
    ("1531420618", "v0=é"), ("1531420618", ""),
])
def test_hostile_signature_headers_are_refused_not_raised(timestamp, signature):
    headers = {k: v for k, v in {"x-slack-request-timestamp": timestamp, "x-slack-signature": signature}.items()
               if v is not None}
    assert signature_problem(signing_secret="s", body=b"\xff\x00", headers=headers, now=1531420618) is not None


@pytest.mark.parametrize("name", sorted(p.name for p in (FIXTURES / "slack" / "events").glob("*.json")))
def test_every_real_event_sample_reads(name):
    body = (FIXTURES / "slack" / "events" / name).read_bytes()
    assert read_body(body, content_type="application/json").body == json.loads(body)


@pytest.mark.parametrize("name", ["block_actions_button.bolt-python.json", "view_submission.bolt-python.json"])
def test_real_interaction_samples_read(name):
    from urllib.parse import quote

    payload = load_fixture(f"slack/interactivity/{name}")
    inbound = read_body(("payload=" + quote(json.dumps(payload))).encode(), content_type=FORM)
    assert (inbound.kind, inbound.body) == ("interaction", payload)


def test_real_slash_command_samples_read():
    for name in ("slash_command.bolt-python.json", "slash_command.docs-signing-example.json"):
        sample = load_fixture(f"slack/interactivity/{name}")
        inbound = read_body(sample["raw_body"].encode(), content_type=FORM)
        assert (inbound.kind, inbound.body) == ("command", sample["parsed"])


@pytest.mark.parametrize(("body", "content_type", "refusal"), [
    (b"\xff", "application/json", Malformed),
    (b"{", "application/json", Malformed),
    (b"[]", "application/json", Malformed),
    (b'{"type": 1}', "application/json", Malformed),
    (b'{"type": "event_callback", "event": 1}', "application/json", Malformed),
    (b'{"type": "event_callback", "event": {"type": "message", "text": 5}}', "application/json", Malformed),
    (b'{"type": "event_callback", "event": {"type": "message"}, "authorizations": "x"}', "application/json",
     Malformed),
    (b'{"type": "url_verification"}', "application/json", Malformed),
    (b'{"x": 1e999}', "application/json", Malformed),
    (b'{"x": ' + b"9" * 5000 + b"}", "application/json", Malformed),
    (b"text=hi", FORM, Malformed),
    (b"payload=%7B%22type%22%3A%22block_actions%22%7D", FORM, Malformed),  # no user, no actions
    (b'{"type": "event_callback"}', "application/json", Unknown),
    (b'{"type": "event_callback", "event": {"text": "hi"}}', "application/json", Unknown),
    (b'{"type": "something_new"}', "application/json", Unknown),
    (b"payload=%7B%22type%22%3A%22block_suggestion%22%7D", FORM, Unknown),
])
def test_refusals(body, content_type, refusal):
    with pytest.raises(refusal) as raised:
        read_body(body, content_type=content_type)
    assert type(raised.value) is refusal


def test_reasons_name_fields_never_values():
    body = json.dumps({"type": "event_callback", "event": {"type": "message", "text": {"SECRET": "SECRET"}}})
    with pytest.raises(Malformed) as raised:
        read_body(body.encode(), content_type="application/json")
    assert "SECRET" not in raised.value.reason
    assert "event: text" in raised.value.reason


def test_a_read_body_is_cleaned():
    body = json.dumps({"type": "event_callback", "event": {"type": "message", "text": "a\x00b\ud800"}})
    assert read_body(body.encode(), content_type="application/json").body["event"]["text"] == "a\ufffdb\ufffd"
