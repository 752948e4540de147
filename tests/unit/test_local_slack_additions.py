"""The local Slack workspace's message metadata, conversations.open, scheduled-message listing and deletion,
driven by the real slack_sdk client (the calls Baton's connectors make)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from localslack import LocalSlack

KEYED = {"event_type": "baton_effect", "event_payload": {"key": "baton-plan-1-step-0"}}


@pytest.fixture
def slack(local_slack: LocalSlack) -> Any:
    """The workspace with deliveries to the bot switched off (these tests only use the Web API)."""
    previous, local_slack.events_url = local_slack.events_url, None
    yield local_slack
    local_slack.wait_for_deliveries()
    local_slack.events_url = previous


@pytest.fixture
def client(slack: LocalSlack) -> WebClient:
    return WebClient(token=slack.bot_token, base_url=slack.api_url, timeout=5)


def error_of(call: Callable[[], Any]) -> str:
    with pytest.raises(SlackApiError) as caught:
        call()
    return str(caught.value.response["error"])


# -- metadata --------------------------------------------------------------------------------------


def test_metadata_is_stored_and_listed_only_with_include_all_metadata(slack: LocalSlack, client: WebClient) -> None:
    posted = client.chat_postMessage(channel="C0OPS", text="keyed", metadata=KEYED)
    assert slack.messages("C0OPS")[0]["metadata"] == KEYED
    plain = client.conversations_history(channel="C0OPS")["messages"]
    assert [m["ts"] for m in plain] == [posted["ts"]] and "metadata" not in plain[0]
    off = client.conversations_history(channel="C0OPS", include_all_metadata=False)["messages"]
    assert "metadata" not in off[0]
    full = client.conversations_history(channel="C0OPS", include_all_metadata=True)["messages"]
    assert full[0]["metadata"] == KEYED


def test_thread_reply_metadata_in_replies(slack: LocalSlack, client: WebClient) -> None:
    root = slack.post_as_user("U0ALICE", "C0OPS", "please do it").ts
    reply = client.chat_postMessage(channel="C0OPS", text="done", thread_ts=root, metadata=KEYED)
    plain = client.conversations_replies(channel="C0OPS", ts=root)["messages"]
    assert [m["ts"] for m in plain] == [root, reply["ts"]] and all("metadata" not in m for m in plain)
    full = client.conversations_replies(channel="C0OPS", ts=root, include_all_metadata=True)["messages"]
    assert full[1]["metadata"] == KEYED and "metadata" not in full[0]
    # A reply is not top-level: history does not list it, with or without metadata.
    history = client.conversations_history(channel="C0OPS", include_all_metadata=True)["messages"]
    assert [m["ts"] for m in history] == [root]


@pytest.mark.parametrize(("metadata", "error"), [
    ({"event_type": "x"}, "invalid_metadata_schema"),
    ({"event_type": "", "event_payload": {}}, "invalid_metadata_schema"),
    ({"event_type": "x", "event_payload": "nope"}, "invalid_metadata_schema"),
    ({"event_type": "x", "event_payload": {"blob": "y" * 9000}}, "metadata_too_large"),
])
def test_bad_metadata_is_refused(client: WebClient, slack: LocalSlack, metadata: Any, error: str) -> None:
    assert error_of(lambda: client.chat_postMessage(channel="C0OPS", text="x", metadata=metadata)) == error
    assert slack.messages("C0OPS") == []


def test_metadata_that_is_not_json_is_invalid_format(client: WebClient, slack: LocalSlack) -> None:
    call = lambda: client.api_call("chat.postMessage",  # noqa: E731
                                   data={"channel": "C0OPS", "text": "x", "metadata": "{not json"})
    assert error_of(call) == "invalid_metadata_format"


# -- conversations.open ----------------------------------------------------------------------------


def test_conversations_open_finds_the_dm_with_a_person(client: WebClient) -> None:
    opened = client.conversations_open(users="U0BOB")
    assert opened["channel"] == {"id": "D0BOB"} and opened["already_open"] is True
    full = client.conversations_open(users=["U0ALICE"], return_im=True)["channel"]
    assert (full["id"], full["is_im"], full["user"]) == ("D0ALICE", True, "U0ALICE")
    assert client.conversations_open(channel="D0BOB")["channel"]["id"] == "D0BOB"


def test_conversations_open_errors(client: WebClient, slack: LocalSlack) -> None:
    slack.add_user("U0CAROL", "carol")
    assert client.conversations_open(users="U0CAROL")["channel"]["id"] == "D0CAROL"
    assert error_of(lambda: client.conversations_open(users="U0NOBODY")) == "user_not_found"
    assert error_of(lambda: client.conversations_open(users="U0BATON")) == "cannot_dm_bot"
    assert error_of(lambda: client.conversations_open(users="U0ALICE,U0BOB")) == (
        "method_not_supported_for_channel_type")
    assert error_of(lambda: client.conversations_open(channel="C0OPS")) == "method_not_supported_for_channel_type"
    assert error_of(lambda: client.api_call("conversations.open", params={})) == "users_list_not_supplied"


def test_opened_dm_is_where_a_post_to_the_user_lands(client: WebClient, slack: LocalSlack) -> None:
    dm = client.conversations_open(users="U0BOB")["channel"]["id"]
    posted = client.chat_postMessage(channel="U0BOB", text="hi Bob")
    assert posted["channel"] == dm
    assert [m["text"] for m in slack.messages(dm)] == ["hi Bob"]


# -- scheduled messages ------------------------------------------------------------------------------


def test_scheduled_messages_list_shows_what_schedule_stored(client: WebClient, slack: LocalSlack) -> None:
    soon, later = int(time.time()) + 600, int(time.time()) + 7200
    second = client.chat_scheduleMessage(channel="C0OPS", text="later", post_at=later)
    first = client.chat_scheduleMessage(channel="C0OPS", text="soon", post_at=soon)
    elsewhere = client.chat_scheduleMessage(channel="U0BOB", text="psst", post_at=soon)
    assert elsewhere["channel"] == "D0BOB"
    listed = client.chat_scheduledMessages_list(channel="C0OPS")["scheduled_messages"]
    assert [(m["id"], m["text"], m["post_at"], m["channel_id"]) for m in listed] == [
        (first["scheduled_message_id"], "soon", soon, "C0OPS"),
        (second["scheduled_message_id"], "later", later, "C0OPS")]
    assert set(listed[0]) == {"id", "channel_id", "post_at", "date_created", "text"}
    everything = client.chat_scheduledMessages_list()["scheduled_messages"]
    assert len(everything) == 3
    window = client.chat_scheduledMessages_list(oldest=soon + 1, latest=later)["scheduled_messages"]
    assert [m["text"] for m in window] == ["later"]
    paged = client.chat_scheduledMessages_list(limit=2)
    assert len(paged["scheduled_messages"]) == 2 and paged["response_metadata"]["next_cursor"]
    rest = client.chat_scheduledMessages_list(limit=2, cursor=paged["response_metadata"]["next_cursor"])
    assert len(rest["scheduled_messages"]) == 1
    assert error_of(lambda: client.chat_scheduledMessages_list(channel="C0NOPE")) == "channel_not_found"


def test_schedule_keeps_metadata_and_validates_it(client: WebClient, slack: LocalSlack) -> None:
    client.chat_scheduleMessage(channel="C0OPS", text="keyed", post_at=int(time.time()) + 60, metadata=KEYED)
    assert slack.scheduled_messages()[0]["message"]["metadata"] == KEYED
    assert error_of(lambda: client.chat_scheduleMessage(
        channel="C0OPS", text="x", post_at=int(time.time()) + 60, metadata={"event_type": "x"})) == (
        "invalid_metadata_schema")


def test_delete_scheduled_message(client: WebClient, slack: LocalSlack) -> None:
    post_at = int(time.time()) + 600
    scheduled = client.chat_scheduleMessage(channel="C0OPS", text="soon", post_at=post_at)
    ident = scheduled["scheduled_message_id"]
    wrong_channel = lambda: client.chat_deleteScheduledMessage(channel="C0GENERAL", scheduled_message_id=ident)  # noqa: E731
    assert error_of(wrong_channel) == "invalid_scheduled_message_id"
    assert client.chat_deleteScheduledMessage(channel="C0OPS", scheduled_message_id=ident)["ok"]
    assert slack.scheduled_messages() == []
    assert client.chat_scheduledMessages_list(channel="C0OPS")["scheduled_messages"] == []
    again = lambda: client.chat_deleteScheduledMessage(channel="C0OPS", scheduled_message_id=ident)  # noqa: E731
    assert error_of(again) == "invalid_scheduled_message_id"
    unknown = lambda: client.chat_deleteScheduledMessage(channel="C0NOPE", scheduled_message_id=ident)  # noqa: E731
    assert error_of(unknown) == "channel_not_found"


# -- chat.delete -----------------------------------------------------------------------------------


def test_chat_delete_of_the_bots_own_message_only(client: WebClient, slack: LocalSlack) -> None:
    root = slack.post_as_user("U0ALICE", "C0OPS", "thread me").ts
    reply = client.chat_postMessage(channel="C0OPS", text="bot reply", thread_ts=root, metadata=KEYED)
    assert slack.messages("C0OPS")[0]["reply_count"] == 1
    assert error_of(lambda: client.chat_delete(channel="C0OPS", ts=root)) == "cant_delete_message"
    assert client.chat_delete(channel="C0OPS", ts=reply["ts"])["ok"]
    [left] = slack.messages("C0OPS")
    assert left["ts"] == root and left["reply_count"] == 0
    assert error_of(lambda: client.chat_delete(channel="C0OPS", ts=reply["ts"])) == "message_not_found"
