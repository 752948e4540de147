"""The local Slack workspace's user groups: ``usergroups.users.list`` as Slack answers it, through the real
slack_sdk client (what ``/baton policy`` asks to find admins by group)."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from localslack import LocalSlack


@pytest.fixture
def slack(local_slack: LocalSlack) -> Any:
    """The workspace with deliveries to the bot switched off (only the Web API is used here)."""
    previous, local_slack.events_url = local_slack.events_url, None
    yield local_slack
    local_slack.events_url = previous


@pytest.fixture
def client(slack: LocalSlack) -> WebClient:
    return WebClient(token=slack.bot_token, base_url=slack.api_url, timeout=5)


def test_the_seeded_admin_group_lists_alice(client):
    response = client.usergroups_users_list(usergroup="S0ADMINS")
    assert response["ok"] is True and response["users"] == ["U0ALICE"]


def test_an_added_group_replaces_members_and_a_reset_restores_the_seed(slack, client):
    slack.add_usergroup("S0ADMINS", "baton-admins", ["U0BOB", "U0ALICE"])
    slack.add_usergroup("S0OPS", "ops", ["U0BOB"])
    assert client.usergroups_users_list(usergroup="S0ADMINS")["users"] == ["U0BOB", "U0ALICE"]
    assert client.usergroups_users_list(usergroup="S0OPS")["users"] == ["U0BOB"]
    slack.reset()
    assert client.usergroups_users_list(usergroup="S0ADMINS")["users"] == ["U0ALICE"]
    with pytest.raises(SlackApiError) as caught:
        client.usergroups_users_list(usergroup="S0OPS")
    assert caught.value.response["error"] == "no_such_subteam"


def test_an_unknown_or_missing_group_is_a_slack_error(client):
    with pytest.raises(SlackApiError) as unknown:
        client.usergroups_users_list(usergroup="S0NOPE")
    assert unknown.value.response["error"] == "no_such_subteam"
    with pytest.raises(SlackApiError) as missing:
        client.api_call("usergroups.users.list", params={})
    assert missing.value.response["error"] == "invalid_arguments"


def test_the_call_is_recorded_and_needs_the_bot_token(slack, client):
    client.usergroups_users_list(usergroup="S0ADMINS")
    assert [c.params.get("usergroup") for c in slack.calls_to("usergroups.users.list")] == ["S0ADMINS"]
    stranger = WebClient(token="xoxb-someone-else", base_url=slack.api_url, timeout=5)
    with pytest.raises(SlackApiError) as caught:
        stranger.usergroups_users_list(usergroup="S0ADMINS")
    assert caught.value.response["error"] == "invalid_auth"
