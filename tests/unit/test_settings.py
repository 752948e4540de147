"""Settings: precedence, validation messages that name the variable, masking."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import SettingsError, load_settings, mask_secret

HOME = Path("/var/lib/baton-test")


def test_defaults_apply_when_environment_is_empty():
    settings = load_settings({}, default_home=HOME)
    assert settings.baton_home == HOME
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.port == 3000
    assert settings.database_url is None and settings.uses_embedded_postgres
    assert not settings.llm_configured


def test_explicit_argument_beats_environment_beats_default():
    env = {"PORT": "4000", "BATON_LOG_LEVEL": "debug"}
    assert load_settings(env, default_home=HOME).port == 4000
    assert load_settings(env, default_home=HOME, port=5000).port == 5000
    assert load_settings(env, default_home=HOME).log_level == "DEBUG"


def test_slack_api_url_gets_trailing_slash_for_the_sdk():
    settings = load_settings({"SLACK_API_URL": "http://127.0.0.1:9/api"}, default_home=HOME)
    assert settings.slack_api_url == "http://127.0.0.1:9/api/"


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"PORT": "eighty"}, "PORT"),
        ({"PORT": "70000"}, "PORT"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
        ({"REDIS_URL": "http://x"}, "REDIS_URL"),
        ({"SLACK_API_URL": "ftp://x"}, "SLACK_API_URL"),
        ({"OPENAI_BASE_URL": "localhost:8000"}, "OPENAI_BASE_URL"),
        ({"SLACK_BOT_TOKEN": "not-a-token"}, "SLACK_BOT_TOKEN"),
        ({"BATON_LOG_LEVEL": "LOUD"}, "BATON_LOG_LEVEL"),
        ({"BATON_HOME": "relative/dir"}, "BATON_HOME"),
        ({"BATON_EMBEDDING_PROVIDER": "huggingface"}, "BATON_EMBEDDING_PROVIDER"),
        ({"BATON_EMBEDDING_DIMENSIONS": "many"}, "BATON_EMBEDDING_DIMENSIONS"),
        ({"BATON_EMBEDDING_DIMENSIONS": "0"}, "BATON_EMBEDDING_DIMENSIONS"),
        ({"BATON_EMBEDDING_DIMENSIONS": "-3"}, "BATON_EMBEDDING_DIMENSIONS"),
        ({"BATON_EMBEDDING_DIMENSIONS": "3072"}, "BATON_EMBEDDING_DIMENSIONS"),
        ({"BATON_EMBEDDING_DIMENSIONS": "12.5"}, "BATON_EMBEDDING_DIMENSIONS"),
        ({"BATON_EMBEDDING_PROVIDER": "local", "BATON_EMBEDDING_DIMENSIONS": "256"}, "BATON_EMBEDDING_DIMENSIONS"),
    ],
)
def test_malformed_values_fail_with_one_line_naming_the_variable(env, variable):
    with pytest.raises(SettingsError) as info:
        load_settings(env, default_home=HOME)
    message = str(info.value)
    assert message.startswith(variable + " ")
    assert "\n" not in message
    assert info.value.variable == variable


def test_require_slack_names_the_missing_variable():
    with pytest.raises(SettingsError, match=r"^SLACK_BOT_TOKEN is not set"):
        load_settings({}, default_home=HOME).require_slack()
    with pytest.raises(SettingsError, match=r"^SLACK_SIGNING_SECRET is not set"):
        load_settings({"SLACK_BOT_TOKEN": "xoxb-1"}, default_home=HOME).require_slack()
    load_settings({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}, default_home=HOME).require_slack()


def test_masked_hides_secrets_and_url_passwords():
    env = {
        "SLACK_BOT_TOKEN": "xoxb-1234567890-abcdefgh",
        "SLACK_SIGNING_SECRET": "8f742231b10e8888abcd99yyyzzz85a5",
        "OPENAI_API_KEY": "sk-proj-verysecretvalue9876",
        "DATABASE_URL": "postgresql://baton:hunter2@db.internal:5432/baton",
    }
    shown = load_settings(env, default_home=HOME).masked()
    text = "\n".join(shown.values())
    for secret in ("1234567890-abcd", "8f742231b10e8888", "verysecretvalue", "hunter2"):
        assert secret not in text
    assert shown["slack_bot_token"] == "xoxb-****efgh"
    assert shown["database_url"] == "postgresql://baton:****@db.internal:5432/baton"
    assert shown["redis_url"] == "(not set)"
    assert mask_secret("short") == "****"


def test_llm_is_configured_by_key_or_base_url():
    assert load_settings({"OPENAI_API_KEY": "sk-x"}, default_home=HOME).llm_configured
    assert load_settings({"OPENAI_BASE_URL": "http://127.0.0.1:8080/v1"}, default_home=HOME).llm_configured


def test_the_model_servers_forms_are_learned_unless_pinned():
    learned = load_settings({}, default_home=HOME)
    assert (learned.llm_structured, learned.llm_limit_param) == ("auto", "auto")
    pinned = load_settings({"BATON_LLM_STRUCTURED": "JSON_OBJECT", "BATON_LLM_LIMIT_PARAM": "max_tokens"},
                           default_home=HOME)
    assert (pinned.llm_structured, pinned.llm_limit_param) == ("json_object", "max_tokens")
    with pytest.raises(SettingsError, match=r"BATON_LLM_STRUCTURED.*json_schema, json_object, text"):
        load_settings({"BATON_LLM_STRUCTURED": "grammar"}, default_home=HOME)
    with pytest.raises(SettingsError, match="BATON_LLM_LIMIT_PARAM"):
        load_settings({"BATON_LLM_LIMIT_PARAM": "max_new_tokens"}, default_home=HOME)
    assert learned.llm_stream == "auto"
    assert load_settings({"BATON_LLM_STREAM": "off"}, default_home=HOME).llm_stream == "off"
    with pytest.raises(SettingsError, match=r"BATON_LLM_STREAM.*auto, on, off"):
        load_settings({"BATON_LLM_STREAM": "sometimes"}, default_home=HOME)
