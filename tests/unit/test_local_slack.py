"""The local Slack workspace, driven by the real slack_sdk client; deliveries go to a real HTTP receiver."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier

from localslack import LocalSlack, NotReady, UnknownObject, signed_headers, slack_signature

if TYPE_CHECKING:
    from tests.fakes.slack_api import EventReceiver

# Registering the same plugin again from the root conftest is harmless (pytest loads it once).
pytest_plugins = ["tests.fakes.slack_api"]

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "slack"
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))
BUTTONS = [
    {"type": "section", "block_id": "summary", "text": {"type": "mrkdwn", "text": "Restart *api*?"}},
    {"type": "actions", "block_id": "decide", "elements": [
        {"type": "button", "action_id": "approve", "value": "plan-1", "style": "primary",
         "text": {"type": "plain_text", "text": "Approve"}},
        {"type": "button", "action_id": "reject", "value": "plan-1",
         "text": {"type": "plain_text", "text": "Reject"}},
    ]},
]


def fixture(relative: str) -> Any:
    return json.loads((FIXTURES / relative).read_text())


def api_error(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as caught:
        call()
    return caught.value


def verify(workspace: LocalSlack, request: Any) -> bool:
    verifier = SignatureVerifier(workspace.signing_secret)
    return verifier.is_valid(request.body, request.headers["x-slack-request-timestamp"],
                             request.headers["x-slack-signature"])


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def button(action_id: str, text: str = "Go") -> dict[str, Any]:
    return {"type": "button", "action_id": action_id, "text": {"type": "plain_text", "text": text}}


def test_public_surface() -> None:
    import localslack as package

    assert sorted(package.__all__) == [
        "DeliveriesPending", "Delivery", "DeliveryResponse", "Injection", "LocalSlack", "LocalSlackError",
        "NotReady", "RecordedCall", "UnknownObject", "signed_headers", "slack_signature"]
    assert all(getattr(package, name).__doc__ for name in package.__all__)


# -- signing -----------------------------------------------------------------------------------------


def test_signature_matches_slack_test_vector() -> None:
    vector = fixture("signing/signature_test_vector.json")
    stamp = vector["headers"]["X-Slack-Request-Timestamp"]
    expected = vector["headers"]["X-Slack-Signature"]
    assert slack_signature(vector["signing_secret"], stamp, vector["raw_body"]) == expected
    assert slack_signature(vector["signing_secret"], int(stamp), vector["raw_body"].encode()) == expected
    headers = signed_headers(vector["signing_secret"], vector["raw_body"], timestamp=stamp,
                             content_type="application/x-www-form-urlencoded")
    assert headers == {"Content-Type": "application/x-www-form-urlencoded",
                       "X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": expected}


def test_signed_headers_verify_with_slack_sdk() -> None:
    body = '{"type":"event_callback"}'
    headers = signed_headers("s3cret", body)
    assert headers["Content-Type"] == "application/json"
    assert SignatureVerifier("s3cret").is_valid_request(body, headers)
    assert not SignatureVerifier("other").is_valid_request(body, headers)


# -- auth and plumbing --------------------------------------------------------------------------------


def test_auth_test_and_tokens(local_slack: LocalSlack, slack_client: WebClient) -> None:
    assert local_slack.api_url.startswith("http://127.0.0.1:") and local_slack.api_url.endswith("/api/")
    answer = slack_client.auth_test()
    assert answer["user_id"] == "U0BATON" and answer["bot_id"] == "B0BATON" and answer["team_id"] == "T0LOCAL"
    wrong = WebClient(token="xoxb-wrong", base_url=local_slack.api_url)
    assert api_error(wrong.auth_test).response["error"] == "invalid_auth"
    anonymous = WebClient(base_url=local_slack.api_url)
    assert api_error(anonymous.auth_test).response["error"] == "not_authed"
    form_token = anonymous.api_call("auth.test", params={"token": local_slack.bot_token})
    assert form_token["ok"]
    assert local_slack.calls_to("auth.test")[0].headers["Authorization"] == f"Bearer {local_slack.bot_token}"
    assert [c.status for c in local_slack.calls] == [200, 200, 200, 200]


def test_unknown_method(slack_client: WebClient) -> None:
    assert api_error(lambda: slack_client.api_call("chat.nope")).response["error"] == "unknown_method"
    hook_by_api = api_error(lambda: slack_client.api_call("response_url", json={"hook_id": "x"}))
    assert hook_by_api.response["error"] == "unknown_method"


def test_form_encoded_blocks_are_parsed(local_slack: LocalSlack, slack_client: WebClient) -> None:
    slack_client.api_call("chat.postMessage", params={"channel": "C0OPS", "text": "hi",
                                                      "blocks": json.dumps([section("hi")])})
    call = local_slack.calls_to("chat.postMessage")[0]
    assert call.params["blocks"] == [section("hi")]
    assert local_slack.messages("C0OPS")[0]["blocks"] == [section("hi")]
    bad = api_error(lambda: slack_client.api_call("chat.postMessage", params={
        "channel": "C0OPS", "text": "hi", "blocks": "[not json"}))
    assert bad.response["error"] == "invalid_blocks_format"


def test_ts_values_are_unique_and_increasing(slack_client: WebClient) -> None:
    stamps = [slack_client.chat_postMessage(channel="C0OPS", text=str(i))["ts"] for i in range(20)]
    assert len(set(stamps)) == 20
    assert [float(s) for s in stamps] == sorted(float(s) for s in stamps)
    assert all(len(s.split(".")[1]) == 6 for s in stamps)


# -- chat.* ------------------------------------------------------------------------------------------


def test_post_message_is_stored_answered_and_echoed(local_slack: LocalSlack, slack_client: WebClient,
                                                    event_receiver: EventReceiver) -> None:
    answer = slack_client.chat_postMessage(channel="C0GENERAL", text="Deploy done", blocks=[section("Done")])
    assert set(answer.data) >= set(fixture("web_api/chat.postMessage.ok.docs.json"))
    message = answer["message"]
    assert (message["bot_id"], message["user"], message["text"]) == ("B0BATON", "U0BATON", "Deploy done")
    assert local_slack.messages("C0GENERAL") == [message]
    assert local_slack.messages("general") == [message]

    local_slack.wait_for_deliveries()
    [request] = event_receiver.requests
    assert verify(local_slack, request)
    envelope = request.json
    reference = fixture("events/message_thread_reply_by_bot.slack-web-capture.json")
    assert set(envelope) == set(reference)
    event = envelope["event"]
    assert set(reference["event"]) - set(event) == {"thread_ts", "parent_user_id"}
    assert (event["type"], event["bot_id"], event["channel"], event["channel_type"]) == (
        "message", "B0BATON", "C0GENERAL", "channel")
    assert event["bot_profile"]["id"] == "B0BATON" and event["ts"] == answer["ts"]
    assert envelope["authorizations"][0]["user_id"] == "U0BATON"


def test_thread_replies_and_dm_by_user_id(local_slack: LocalSlack, slack_client: WebClient) -> None:
    root = local_slack.post_as_user("U0ALICE", "C0OPS", "api is down")
    reply = slack_client.chat_postMessage(channel="C0OPS", text="Looking", thread_ts=root.ts)
    assert reply["message"]["thread_ts"] == root.ts and reply["message"]["parent_user_id"] == "U0ALICE"
    parent = local_slack.messages("C0OPS")[0]
    assert (parent["reply_count"], parent["reply_users"]) == (1, ["U0BATON"])
    assert parent["latest_reply"] == reply["ts"]
    dm = slack_client.chat_postMessage(channel="U0BOB", text="psst")
    assert dm["channel"] == "D0BOB"


@pytest.mark.parametrize(("channel", "error"), [
    ("C0NOPE", "channel_not_found"), ("C0ARCHIVE", "is_archived"), ("C0OUTSIDE", "not_in_channel"),
])
def test_post_message_channel_errors(local_slack: LocalSlack, slack_client: WebClient, channel: str,
                                     error: str) -> None:
    local_slack.add_channel("C0ARCHIVE", "old", is_archived=True)
    local_slack.add_channel("C0OUTSIDE", "random", is_member=False)
    failure = api_error(lambda: slack_client.chat_postMessage(channel=channel, text="hi"))
    assert failure.response.status_code == 200
    assert failure.response.data == {"ok": False, "error": error}
    assert local_slack.calls[-1].response == {"ok": False, "error": error}


def test_post_message_without_text_or_blocks(slack_client: WebClient) -> None:
    assert api_error(lambda: slack_client.api_call(
        "chat.postMessage", json={"channel": "C0OPS"})).response["error"] == "no_text"


def test_section_text_over_3000_is_invalid_blocks_like_slack(local_slack: LocalSlack,
                                                            slack_client: WebClient) -> None:
    failure = api_error(lambda: slack_client.chat_postMessage(channel="C0OPS", text="x",
                                                              blocks=[section("x" * 3001)]))
    expected = fixture("web_api/chat.postMessage.invalid_blocks_section_text_over_3000.json")
    assert failure.response["error"] == "invalid_blocks"
    assert failure.response["response_metadata"] == expected["response_metadata"]
    assert local_slack.messages("C0OPS") == []
    slack_client.chat_postMessage(channel="C0OPS", text="x", blocks=[section("x" * 3000)])


LONG_ID = "a" * 256


@pytest.mark.parametrize(("blocks", "problem"), [
    ({"type": "section"}, "must be an array [json-pointer:/blocks]"),
    ([{"type": "divider"}] * 51, "no more than 50 items allowed [json-pointer:/blocks]"),
    ([{"type": "banner"}], "unsupported type: banner [json-pointer:/blocks/0/type]"),
    ([{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}],
     "must be less than 151 characters [json-pointer:/blocks/0/text/text]"),
    ([{"type": "actions", "elements": [button(f"b{i}") for i in range(26)]}],
     "no more than 25 items allowed [json-pointer:/blocks/0/elements]"),
    ([{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}],
     "no more than 10 items allowed [json-pointer:/blocks/0/elements]"),
    ([{"type": "actions", "elements": [button("go", "b" * 76)]}],
     "must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]"),
    ([{"type": "actions", "elements": [button(LONG_ID)]}],
     "must be less than 256 characters [json-pointer:/blocks/0/elements/0/action_id]"),
    ([{"type": "divider", "block_id": LONG_ID}],
     "must be less than 256 characters [json-pointer:/blocks/0/block_id]"),
    ([{"type": "actions", "elements": [button("go"), button("go")]}],
     "duplicate action_id: go [json-pointer:/blocks/0/elements/1/action_id]"),
])
def test_invalid_blocks(slack_client: WebClient, blocks: Any, problem: str) -> None:
    failure = api_error(lambda: slack_client.chat_postMessage(channel="C0OPS", text="x", blocks=blocks))
    assert failure.response["error"] == "invalid_blocks"
    assert f"[ERROR] {problem}" in failure.response["response_metadata"]["messages"]
    assert problem in failure.response["errors"]


def test_text_over_40000_is_truncated_with_warning(local_slack: LocalSlack, slack_client: WebClient) -> None:
    answer = slack_client.chat_postMessage(channel="C0OPS", text="y" * 40_001)
    expected = fixture("web_api/chat.postMessage.message_truncated_warning.docs.json")["response_metadata"]
    assert answer["response_metadata"] == expected
    assert len(answer["message"]["text"]) == 40_000
    assert len(local_slack.messages("C0OPS")[0]["text"]) == 40_000


def test_update_and_delete(local_slack: LocalSlack, slack_client: WebClient) -> None:
    posted = slack_client.chat_postMessage(channel="C0OPS", text="Plan", blocks=BUTTONS)
    updated = slack_client.chat_update(channel="C0OPS", ts=posted["ts"], text="Approved", blocks=[])
    assert updated["ts"] == posted["ts"] and updated["text"] == "Approved"
    [stored] = local_slack.messages("C0OPS")
    assert stored["text"] == "Approved" and "blocks" not in stored and stored["edited"]["user"] == "U0BATON"
    too_long = api_error(lambda: slack_client.chat_update(channel="C0OPS", ts=posted["ts"],
                                                          text="z" * 40_001))
    assert too_long.response.data == fixture("web_api/chat.update.msg_too_long.json")
    missing = api_error(lambda: slack_client.chat_update(channel="C0OPS", ts="1.000001", text="x"))
    assert missing.response["error"] == "message_not_found"
    theirs = local_slack.post_as_user("U0BOB", "C0OPS", "mine")
    assert api_error(lambda: slack_client.chat_update(channel="C0OPS", ts=theirs.ts, text="x")).response[
        "error"] == "cant_update_message"
    assert slack_client.chat_delete(channel="C0OPS", ts=posted["ts"])["ts"] == posted["ts"]
    assert [m["ts"] for m in local_slack.messages("C0OPS")] == [theirs.ts]
    again = api_error(lambda: slack_client.chat_delete(channel="C0OPS", ts=posted["ts"]))
    assert again.response["error"] == "message_not_found"


def test_ephemeral_permalink_and_schedule(local_slack: LocalSlack, slack_client: WebClient) -> None:
    ephemeral = slack_client.chat_postEphemeral(channel="C0OPS", user="U0ALICE", text="only you")
    [shown] = local_slack.ephemeral_messages("C0OPS")
    assert shown["ts"] == ephemeral["message_ts"] and shown["recipient"] == "U0ALICE"
    assert local_slack.messages("C0OPS") == []
    wrong_dm = api_error(lambda: slack_client.chat_postEphemeral(channel="D0BOB", user="U0ALICE", text="x"))
    assert wrong_dm.response["error"] == "user_not_in_channel"

    posted = slack_client.chat_postMessage(channel="C0OPS", text="link me")
    link = slack_client.chat_getPermalink(channel="C0OPS", message_ts=posted["ts"])["permalink"]
    assert link.endswith(f"/archives/C0OPS/p{posted['ts'].replace('.', '')}")

    post_at = int(time.time()) + 3600
    scheduled = slack_client.chat_scheduleMessage(channel="C0OPS", text="later", post_at=post_at)
    assert scheduled["scheduled_message_id"].startswith("Q") and scheduled["post_at"] == post_at
    assert local_slack.scheduled_messages()[0]["text"] == "later"
    past = api_error(lambda: slack_client.chat_scheduleMessage(channel="C0OPS", text="x", post_at=10))
    assert past.response["error"] == "time_in_past"


def test_reactions_add_twice(local_slack: LocalSlack, slack_client: WebClient) -> None:
    ts = local_slack.post_as_user("U0ALICE", "C0OPS", "ship it").ts
    assert slack_client.reactions_add(channel="C0OPS", timestamp=ts, name="eyes")["ok"]
    again = api_error(lambda: slack_client.reactions_add(channel="C0OPS", timestamp=ts, name="eyes"))
    assert again.response["error"] == "already_reacted"
    [reaction] = local_slack.messages("C0OPS")[0]["reactions"]
    assert reaction == {"name": "eyes", "users": ["U0BATON"], "count": 1}


# -- reading -----------------------------------------------------------------------------------------


def test_conversations_info_history_replies(local_slack: LocalSlack, slack_client: WebClient) -> None:
    info = slack_client.conversations_info(channel="C0GENERAL")["channel"]
    assert (info["name"], info["is_member"], info["is_channel"]) == ("general", True, True)
    assert info["purpose"]["value"]
    assert slack_client.conversations_info(channel="D0ALICE")["channel"]["user"] == "U0ALICE"
    first = local_slack.post_as_user("U0ALICE", "C0GENERAL", "one").ts
    local_slack.post_as_user("U0BOB", "C0GENERAL", "reply", thread_ts=first)
    last = local_slack.post_as_user("U0BOB", "C0GENERAL", "two").ts
    history = slack_client.conversations_history(channel="C0GENERAL", limit=1)
    assert [m["ts"] for m in history["messages"]] == [last] and history["has_more"]
    rest = slack_client.conversations_history(channel="C0GENERAL",
                                              cursor=history["response_metadata"]["next_cursor"])
    assert [m["ts"] for m in rest["messages"]] == [first] and rest["messages"][0]["reply_count"] == 1
    thread = slack_client.conversations_replies(channel="C0GENERAL", ts=first)["messages"]
    assert [m["text"] for m in thread] == ["one", "reply"]
    missing = api_error(lambda: slack_client.conversations_replies(channel="C0GENERAL", ts="1.000002"))
    assert missing.response["error"] == "thread_not_found"
    unknown = api_error(lambda: slack_client.conversations_info(channel="C0NOPE"))
    assert unknown.response["error"] == "channel_not_found"


def test_users_info_and_list(local_slack: LocalSlack, slack_client: WebClient) -> None:
    alice = slack_client.users_info(user="U0ALICE")["user"]
    assert (alice["name"], alice["real_name"], alice["tz"]) == ("alice", "Alice Example", "Europe/Berlin")
    assert alice["tz_offset"] in (3600, 7200)
    assert slack_client.users_info(user="U0BATON")["user"]["is_bot"]
    assert api_error(lambda: slack_client.users_info(user="U0NOPE")).response["error"] == "user_not_found"
    local_slack.add_user("U0CAROL", "carol", tz="Asia/Tokyo")
    names = [m["name"] for m in slack_client.users_list()["members"]]
    assert names == ["alice", "bob", "baton", "carol"]
    assert slack_client.conversations_info(channel="D0CAROL")["channel"]["user"] == "U0CAROL"


# -- files -------------------------------------------------------------------------------------------


def test_upload_info_and_download(local_slack: LocalSlack, slack_client: WebClient,
                                  event_receiver: EventReceiver) -> None:
    content = b"09:00 alice: standup\n09:01 bob: api is slow\n"
    file_id = local_slack.upload_file("U0ALICE", "D0ALICE", name="standup.txt", content=content,
                                initial_comment="transcript")
    [envelope] = event_receiver.events()
    reference = fixture("events/message_file_share_txt_snippet_im.slack-web-capture.json")
    event = envelope["event"]
    assert (event["subtype"], event["channel_type"], event["text"]) == ("file_share", "im", "transcript")
    assert set(reference["event"]["files"][0]) <= set(event["files"][0])
    assert set(reference["event"]) - set(event) == set()

    info = slack_client.files_info(file=file_id)
    assert set(fixture("web_api/files.info.ok.docs.json")) <= set(info.data)
    file = info["file"]
    assert (file["id"], file["size"], file["mimetype"], file["mode"]) == (file_id, len(content), "text/plain",
                                                                          "snippet")
    assert file["ims"] == ["D0ALICE"]
    for url in (file["url_private"], file["url_private_download"]):
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {local_slack.bot_token}"})
        with NO_PROXY.open(request, timeout=5) as response:
            assert response.status == 200 and response.read() == content
        with NO_PROXY.open(url, timeout=5) as response:
            assert response.status == 200 and b"Sign in" in response.read()
            assert response.headers["Content-Type"].startswith("text/html")
    missing = api_error(lambda: slack_client.files_info(file="F0NOPE"))
    assert missing.response["error"] == "file_not_found"


# -- views -------------------------------------------------------------------------------------------

MODAL = {"type": "modal", "callback_id": "why", "title": {"type": "plain_text", "text": "Reject plan"},
         "submit": {"type": "plain_text", "text": "Send"},
         "blocks": [{"type": "input", "block_id": "reason", "label": {"type": "plain_text", "text": "Why?"},
                     "element": {"type": "plain_text_input", "action_id": "text"}}]}


def test_views_open_update_publish(local_slack: LocalSlack, slack_client: WebClient,
                                   event_receiver: EventReceiver) -> None:
    posted = slack_client.chat_postMessage(channel="C0OPS", text="Plan", blocks=BUTTONS)
    local_slack.click("U0ALICE", channel="C0OPS", message_ts=posted["ts"], action_id="reject")
    trigger_id = event_receiver.interactions()[-1]["trigger_id"]
    missing = api_error(lambda: slack_client.views_open(trigger_id="", view=MODAL))
    assert missing.response["error"] == "invalid_arguments"
    long_title = {**MODAL, "title": {"type": "plain_text", "text": "t" * 25}}
    too_long = api_error(lambda: slack_client.views_open(trigger_id=trigger_id, view=long_title))
    assert too_long.response["response_metadata"]["messages"] == [
        "[ERROR] must be less than 25 characters [json-pointer:/view/title/text]"]
    view = slack_client.views_open(trigger_id=trigger_id, view=MODAL)["view"]
    assert view["id"].startswith("V") and view["callback_id"] == "why" and view["state"] == {"values": {}}
    reused = api_error(lambda: slack_client.views_open(trigger_id=trigger_id, view=MODAL))
    assert reused.response["error"] == "exchanged_trigger_id"
    invented = api_error(lambda: slack_client.views_open(trigger_id="123.456.abc", view=MODAL))
    assert invented.response["error"] == "invalid_trigger_id"

    updated = slack_client.views_update(view_id=view["id"], hash=view["hash"], view=MODAL)["view"]
    assert updated["id"] == view["id"]
    stale = api_error(lambda: slack_client.views_update(view_id=view["id"], hash=view["hash"], view=MODAL))
    assert stale.response["error"] == "hash_conflict"
    home = slack_client.views_publish(user_id="U0ALICE", view={"type": "home", "blocks": [section("Hi")]})
    assert home["view"]["type"] == "home"

    values = {"reason": {"text": {"type": "plain_text_input", "value": "too risky"}}}
    local_slack.submit_view("U0ALICE", view["id"], values=values)
    submission = event_receiver.interactions()[-1]
    reference = fixture("interactivity/view_submission.bolt-python.json")
    assert set(reference) <= set(submission) and set(reference["view"]) <= set(submission["view"])
    assert submission["view"]["state"]["values"] == values


def test_trigger_expires_after_three_seconds(_session_receiver: EventReceiver) -> None:
    now = [1_700_000_000.0]
    with LocalSlack(clock=lambda: now[0]) as workspace:
        client = WebClient(token=workspace.bot_token, base_url=workspace.api_url)
        workspace.events_url = _session_receiver.url
        posted = client.chat_postMessage(channel="C0OPS", text="Plan", blocks=BUTTONS)
        assert posted["ts"] == "1700000000.000000"
        workspace.click("U0BOB", channel="C0OPS", message_ts=posted["ts"], action_id="reject")
        trigger_id = _session_receiver.interactions()[-1]["trigger_id"]
        now[0] += 3.5
        expired = api_error(lambda: client.views_open(trigger_id=trigger_id, view=MODAL))
        assert expired.response["error"] == "expired_trigger_id"
        assert client.chat_postMessage(channel="C0OPS", text="x")["ts"] == "1700000003.500000"
        workspace.wait_for_deliveries()


# -- injected failures -------------------------------------------------------------------------------


def test_429_with_retry_after_reaches_the_client(local_slack: LocalSlack, slack_client: WebClient) -> None:
    local_slack.inject("chat.postMessage", status=429, retry_after=7)
    failure = api_error(lambda: slack_client.chat_postMessage(channel="C0OPS", text="hi"))
    assert failure.response.status_code == 429
    assert failure.response.headers["Retry-After"] == "7"
    expected = fixture("web_api/chat.postMessage.ratelimited_429.json")["body"]
    assert failure.response.data == expected
    assert local_slack.calls[-1].status == 429 and local_slack.messages("C0OPS") == []
    assert slack_client.chat_postMessage(channel="C0OPS", text="hi")["ok"]


def test_429_is_retried_by_slack_sdk_rate_limit_handler(local_slack: LocalSlack) -> None:
    client = WebClient(token=local_slack.bot_token, base_url=local_slack.api_url,
                       retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)])
    local_slack.inject("chat.postMessage", status=429, retry_after=0)
    assert client.chat_postMessage(channel="C0OPS", text="hi")["ok"]
    assert [c.status for c in local_slack.calls_to("chat.postMessage")] == [429, 200]


def test_500_and_error_injection(local_slack: LocalSlack, slack_client: WebClient) -> None:
    local_slack.inject("chat.update", status=500)
    local_slack.inject("conversations.info", error="channel_not_found", times=2)
    failure = api_error(lambda: slack_client.chat_update(channel="C0OPS", ts="1.0", text="x"))
    assert failure.response.status_code == 500
    for _ in range(2):
        failure = api_error(lambda: slack_client.conversations_info(channel="C0OPS"))
        assert (failure.response.status_code, failure.response["error"]) == (200, "channel_not_found")
    assert slack_client.conversations_info(channel="C0OPS")["ok"]


def test_delay_injection(local_slack: LocalSlack, slack_client: WebClient) -> None:
    local_slack.inject("users.info", delay=0.3)
    started = time.monotonic()
    assert slack_client.users_info(user="U0BOB")["ok"]
    assert time.monotonic() - started >= 0.3
    local_slack.inject("users.info", delay=0.5)
    impatient = WebClient(token=local_slack.bot_token, base_url=local_slack.api_url, timeout=0.1)
    with pytest.raises(TimeoutError):
        impatient.users_info(user="U0BOB")


def test_reset_restores_seed(local_slack: LocalSlack, slack_client: WebClient) -> None:
    local_slack.add_user("U0CAROL", "carol")
    local_slack.add_channel("C0TEMP", "temp")
    slack_client.chat_postMessage(channel="C0TEMP", text="x")
    local_slack.inject("auth.test", status=500)
    local_slack.reset()
    assert local_slack.calls == [] and local_slack.messages("C0TEMP") == []
    assert slack_client.auth_test()["ok"]
    assert api_error(lambda: slack_client.users_info(user="U0CAROL")).response["error"] == "user_not_found"
    for channel in ("C0GENERAL", "C0OPS", "D0ALICE", "D0BOB"):
        assert slack_client.conversations_info(channel=channel)["channel"]["id"] == channel


# -- deliveries to the bot ----------------------------------------------------------------------------


def test_mention_delivers_message_and_app_mention(local_slack: LocalSlack,
                                                  event_receiver: EventReceiver) -> None:
    delivery = local_slack.post_as_user("U0ALICE", "C0GENERAL", "<@U0BATON> restart api")
    assert [r.status for r in delivery.responses] == [200, 200]
    assert all(verify(local_slack, r) for r in event_receiver.requests)
    message, mention = event_receiver.events()
    assert set(message) == set(fixture("events/message_im.slack-web-capture.json"))
    assert (message["event"]["type"], message["event"]["channel_type"]) == ("message", "channel")
    assert mention["event"]["type"] == "app_mention" and mention["event"]["ts"] == delivery.ts
    assert set(fixture("events/app_mention.docs.json")["event"]) <= set(mention["event"])
    assert message["event_id"] != mention["event_id"]
    first_element = message["event"]["blocks"][0]["elements"][0]["elements"][0]
    assert first_element == {"type": "user", "user_id": "U0BATON"}
    assert event_receiver.requests[0].headers["user-agent"].startswith("Slackbot")


def test_dm_and_non_member_channel(local_slack: LocalSlack, event_receiver: EventReceiver) -> None:
    local_slack.post_as_user("U0BOB", "D0BOB", "<@U0BATON> hi")
    [dm] = event_receiver.events()
    assert (dm["event"]["channel_type"], dm["event"]["channel"]) == ("im", "D0BOB")
    local_slack.add_channel("C0OUTSIDE", "random", is_member=False)
    assert local_slack.post_as_user("U0BOB", "C0OUTSIDE", "<@U0BATON> hi").responses == ()
    assert len(event_receiver.requests) == 1


def test_deliver_event_with_retry_headers(local_slack: LocalSlack, event_receiver: EventReceiver) -> None:
    event = {"type": "message", "user": "U0ALICE", "text": "hi", "ts": "1700000000.000100",
             "channel": "C0OPS", "channel_type": "channel"}
    first = local_slack.deliver_event(event)
    event_id = event_receiver.events()[0]["event_id"]
    event_receiver.status = 500
    retried = local_slack.deliver_event(event, retry_num=1, event_id=event_id)
    assert (first.status, retried.status) == (200, 500)
    again = event_receiver.requests[1]
    assert again.json["event_id"] == event_id and again.json["event"]["event_ts"] == "1700000000.000100"
    assert again.headers["x-slack-retry-num"] == "1"
    assert again.headers["x-slack-retry-reason"] == "http_timeout"
    assert "x-slack-retry-num" not in event_receiver.requests[0].headers


def test_click_payload_shape_and_response_url(local_slack: LocalSlack, slack_client: WebClient,
                                              event_receiver: EventReceiver) -> None:
    posted = slack_client.chat_postMessage(channel="C0OPS", text="Plan", blocks=BUTTONS)
    answer = local_slack.click("U0ALICE", channel="C0OPS", message_ts=posted["ts"], action_id="approve")
    assert answer.status == 200
    local_slack.wait_for_deliveries()
    [request] = [r for r in event_receiver.requests if "payload" in r.form]
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert verify(local_slack, request)
    payload = request.json
    reference = fixture("interactivity/block_actions_button.bolt-python.json")
    assert set(reference) <= set(payload)
    assert payload["container"] == {"type": "message", "message_ts": posted["ts"], "channel_id": "C0OPS",
                                    "is_ephemeral": False}
    assert payload["message"]["blocks"] == BUTTONS and payload["user"]["id"] == "U0ALICE"
    [action] = payload["actions"]
    assert set(reference["actions"][0]) <= set(action)
    assert (action["action_id"], action["block_id"], action["value"], action["type"]) == (
        "approve", "decide", "plan-1", "button")
    with pytest.raises(UnknownObject):
        local_slack.click("U0ALICE", channel="C0OPS", message_ts=posted["ts"], action_id="nope")

    hook = urllib.request.Request(payload["response_url"], method="POST",
                                  data=json.dumps({"replace_original": True, "text": "Approved"}).encode(),
                                  headers={"Content-Type": "application/json"})
    with NO_PROXY.open(hook, timeout=5) as response:
        assert json.loads(response.read()) == {"ok": True}
    assert local_slack.messages("C0OPS")[0]["text"] == "Approved"
    assert local_slack.calls[-1].method == "response_url"


def test_slash_command_body(local_slack: LocalSlack, event_receiver: EventReceiver) -> None:
    assert local_slack.slash_command("U0BOB", "C0OPS", "/baton", "status api").status == 200
    [request] = event_receiver.requests
    assert verify(local_slack, request)
    form = request.form
    assert list(fixture("interactivity/slash_command.docs-signing-example.json")["parsed"]) == [
        k for k in form if k not in ("api_app_id", "is_enterprise_install")]
    assert (form["command"], form["text"], form["user_id"], form["channel_name"]) == (
        "/baton", "status api", "U0BOB", "ops")
    assert form["response_url"].startswith(local_slack.base_url)


def test_url_verification(local_slack: LocalSlack, event_receiver: EventReceiver) -> None:
    answer = local_slack.url_verification("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P")
    assert answer.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}
    body = event_receiver.requests[-1].json
    assert set(body) == set(fixture("events/url_verification.docs.json"))


def test_on_post_callback(local_slack: LocalSlack, slack_client: WebClient) -> None:
    seen: list[dict[str, Any]] = []
    unsubscribe = local_slack.on_post(seen.append)
    try:
        posted = slack_client.chat_postMessage(channel="C0OPS", text="one")
        slack_client.chat_update(channel="C0OPS", ts=posted["ts"], text="two")
        slack_client.chat_postEphemeral(channel="C0OPS", user="U0BOB", text="psst")
        slack_client.reactions_add(channel="C0OPS", timestamp=posted["ts"], name="eyes")
        local_slack.wait_for_deliveries()
    finally:
        unsubscribe()
    assert [(e["method"], e["message"]["text"]) for e in seen] == [
        ("chat.postMessage", "one"), ("chat.update", "two"), ("chat.postEphemeral", "psst")]
    assert seen[2]["user"] == "U0BOB"


def test_driving_without_events_url_or_unknown_things(local_slack: LocalSlack) -> None:
    local_slack.events_url = None
    stored = local_slack.post_as_user("U0ALICE", "C0OPS", "no bot listening")
    assert stored.responses == () and local_slack.messages("C0OPS")[0]["ts"] == stored.ts
    with pytest.raises(NotReady):
        local_slack.url_verification("x")
    with pytest.raises(UnknownObject):
        local_slack.post_as_user("U0NOPE", "C0OPS", "x")
    with pytest.raises(UnknownObject):
        local_slack.post_as_user("U0ALICE", "C0NOPE", "x")
