"""OAuth settings: all three variables together, a missing one named, the keys checked and masked."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from baton.logs import secrets_of
from core.settings import SettingsError, load_settings

HOME = Path("/tmp/baton-home")
KEY, OLD = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def test_client_id_secret_and_keys_turn_oauth_on_with_the_first_key_first():
    env = {"SLACK_CLIENT_ID": "123.456", "SLACK_CLIENT_SECRET": "s3cr3t", "BATON_ENCRYPTION_KEY": f"{KEY}, {OLD}"}
    settings = load_settings(env, default_home=HOME)
    assert settings.oauth_enabled and settings.encryption_keys == (KEY, OLD)
    masked = settings.masked()
    assert masked["encryption_keys"] == "2 key(s), masked" and "s3cr3t" not in masked["slack_client_secret"]
    assert {KEY, OLD, "s3cr3t"} <= set(secrets_of(settings))
    assert not load_settings({}, default_home=HOME).oauth_enabled


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"SLACK_CLIENT_ID": "123.456", "SLACK_CLIENT_SECRET": "s3cr3t"}, "BATON_ENCRYPTION_KEY"),
        ({"SLACK_CLIENT_ID": "123.456", "BATON_ENCRYPTION_KEY": KEY}, "SLACK_CLIENT_SECRET"),
        ({"SLACK_CLIENT_SECRET": "s3cr3t"}, "SLACK_CLIENT_ID"),
        (
            {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "s", "BATON_ENCRYPTION_KEY": "not-a-key"},
            "BATON_ENCRYPTION_KEY",
        ),
    ],
)
def test_a_missing_or_bad_oauth_value_is_named(env, variable):
    with pytest.raises(SettingsError) as raised:
        load_settings(env, default_home=HOME)
    assert raised.value.variable == variable and str(raised.value).startswith(variable)


def test_uninstall_retention_defaults_to_30_days_and_takes_0_for_at_once():
    assert load_settings({}, default_home=HOME).uninstall_retention_days == 30
    assert load_settings({"BATON_UNINSTALL_RETENTION_DAYS": "0"}, default_home=HOME).uninstall_retention_days == 0
    for bad in ("-1", "a week", "1.5"):
        with pytest.raises(SettingsError, match="BATON_UNINSTALL_RETENTION_DAYS"):
            load_settings({"BATON_UNINSTALL_RETENTION_DAYS": bad}, default_home=HOME)
