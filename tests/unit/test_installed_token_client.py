"""Job clients in multi-workspace mode: the bound workspace's token or nothing, never a process-wide one."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from slack_sdk import WebClient

from connectors.slack_clients import (
    InstalledTokenClient,
    NoInstalledToken,
    current_token,
    effect_client,
    job_client,
    plain_client,
    team_token,
)
from core.settings import Settings
from memory.job_teams import JOB_TABLES
from workers.api import JOBS

SINGLE = Settings(baton_home=Path("/tmp/x"), slack_bot_token="xoxb-one", slack_api_url="http://127.0.0.1:9/api/")
OAUTH = SINGLE.with_changes(
    slack_bot_token="xoxb-one",
    slack_client_id="1.2",
    slack_client_secret="s",
    encryption_keys=(Fernet.generate_key().decode(),),
)


def test_single_token_mode_is_unchanged():
    for make in (job_client, effect_client, plain_client):
        client = make(SINGLE)
        assert type(client) is WebClient and client.token == "xoxb-one"


def test_oauth_job_clients_carry_only_the_bound_token():
    client = job_client(OAUTH)
    assert isinstance(client, InstalledTokenClient) and isinstance(effect_client(OAUTH), InstalledTokenClient)
    assert current_token(client) is None  # the configured SLACK_BOT_TOKEN is not used in this mode
    with pytest.raises(NoInstalledToken):  # refused before anything is sent (nothing listens on port 9)
        client.chat_postMessage(channel="C1", text="hi")
    with team_token("xoxb-two"):
        assert current_token(client) == "xoxb-two"
    assert current_token(client) is None
    assert type(plain_client(OAUTH)) is WebClient  # the CLI's one-off calls (doctor) keep the settings' token


def test_every_job_kind_names_the_table_its_workspace_is_found_in():
    assert {path.rsplit(".", 1)[-1] for _queue, path in JOBS.values()} == set(JOB_TABLES)
