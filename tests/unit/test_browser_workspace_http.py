"""The browser workspace's routes on a bare local workspace (no bot): what each person's page is sent."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from localslack import LocalSlack


@pytest.fixture
def slack() -> Iterator[LocalSlack]:
    with LocalSlack() as workspace:
        yield workspace


def page_state(slack: LocalSlack, viewer: str, channel: str = "C0GENERAL") -> dict:
    with urllib.request.urlopen(f"{slack.base_url}ui/state?as={viewer}&c={channel}", timeout=10) as reply:
        return json.loads(reply.read())


def test_a_refused_post_is_shown_in_its_channel_with_slacks_reasons(slack):
    web = WebClient(token=slack.bot_token, base_url=slack.api_url)
    with pytest.raises(SlackApiError):
        web.chat_postMessage(channel="C0GENERAL", text="x", blocks=[{"type": "section"}])
    shown = page_state(slack, "U0ALICE")["messages"]
    assert "Slack refused the app" in shown and "invalid_blocks" in shown
    assert "Slack refused the app" not in page_state(slack, "U0ALICE", "C0OPS")["messages"]
    assert shown == page_state(slack, "U0ALICE")["messages"]  # the note stays where it was


def test_an_ephemeral_is_sent_only_to_its_person(slack):
    web = WebClient(token=slack.bot_token, base_url=slack.api_url)
    web.chat_postEphemeral(channel="C0GENERAL", user="U0BOB", text="psst, *bob*")
    assert "psst, <b>bob</b>" in page_state(slack, "U0BOB")["messages"]
    assert "psst" not in page_state(slack, "U0ALICE")["messages"]


def test_someone_not_in_the_workspace_gets_no_page(slack):
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{slack.base_url}ui/?as=U0MALLORY&c=C0GENERAL", timeout=10)
    refused.value.close()  # the error holds the connection
    assert refused.value.code == 404
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(f"{slack.base_url}ui/static/..%2Fsnapshot.py", timeout=10)
    missing.value.close()
    assert missing.value.code == 404
