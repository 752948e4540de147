"""Embedding settings: provider choice and vector dimensions, with one-line errors naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import SettingsError, load_settings

HOME = Path("/var/lib/baton-test")


def test_defaults_are_auto_and_384_dimensions():
    settings = load_settings({}, default_home=HOME)
    assert settings.embedding_provider == "auto"
    assert settings.embedding_dimensions == 384
    assert settings.embedding_model == "text-embedding-3-small"


@pytest.mark.parametrize("value", ["auto", "local", "openai", "none", "OpenAI", " none "])
def test_provider_accepts_the_four_choices_in_any_case(value):
    assert load_settings({"BATON_EMBEDDING_PROVIDER": value}, default_home=HOME).embedding_provider == (
        value.strip().lower()
    )


def test_dimensions_parse_and_explicit_argument_wins():
    env = {"BATON_EMBEDDING_PROVIDER": "openai", "BATON_EMBEDDING_DIMENSIONS": "256"}
    assert load_settings(env, default_home=HOME).embedding_dimensions == 256
    assert load_settings(env, default_home=HOME, embedding_dimensions=512).embedding_dimensions == 512


def test_local_provider_takes_its_own_384():
    env = {"BATON_EMBEDDING_PROVIDER": "local", "BATON_EMBEDDING_DIMENSIONS": "384"}
    assert load_settings(env, default_home=HOME).embedding_dimensions == 384


def test_config_listing_shows_the_new_settings():
    shown = load_settings({"BATON_EMBEDDING_PROVIDER": "none"}, default_home=HOME).masked()
    assert shown["embedding_provider"] == "none"
    assert shown["embedding_dimensions"] == "384"


# -- which provider the settings give --------------------------------------------------------------
def provider_for(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], *, local_installed: bool):
    from workers.memories import embeddings

    monkeypatch.setattr(embeddings, "local_available", lambda: local_installed)
    provider = embeddings.choose_provider(load_settings(env, default_home=HOME))
    if provider is not None:
        provider.close()
    return provider


LLM = {"OPENAI_API_KEY": "sk-test-key"}


def test_auto_prefers_the_local_model_then_the_llm_api_then_none(monkeypatch):
    from workers.memories.embeddings import LocalMiniLM, OpenAIEmbeddings

    local = provider_for(monkeypatch, LLM, local_installed=True)
    assert isinstance(local, LocalMiniLM) and (local.name, local.dimensions) == ("all-MiniLM-L6-v2-onnx-int8", 384)
    remote = provider_for(monkeypatch, LLM, local_installed=False)
    assert isinstance(remote, OpenAIEmbeddings)
    assert (remote.name, remote.dimensions) == ("text-embedding-3-small", 384)
    assert provider_for(monkeypatch, {}, local_installed=False) is None


def test_auto_with_other_dimensions_takes_the_api_which_can_honour_them(monkeypatch):
    from workers.memories.embeddings import OpenAIEmbeddings

    env = {**LLM, "BATON_EMBEDDING_DIMENSIONS": "256", "BATON_EMBEDDING_MODEL": "text-embedding-3-large"}
    provider = provider_for(monkeypatch, env, local_installed=True)
    assert isinstance(provider, OpenAIEmbeddings)
    assert (provider.name, provider.dimensions) == ("text-embedding-3-large", 256)


def test_none_means_no_embeddings_even_with_everything_available(monkeypatch):
    assert provider_for(monkeypatch, {**LLM, "BATON_EMBEDDING_PROVIDER": "none"}, local_installed=True) is None


@pytest.mark.parametrize(
    ("env", "local_installed", "problem"),
    [
        ({"BATON_EMBEDDING_PROVIDER": "local"}, False, "is local but the local model's packages are not installed"),
        ({"BATON_EMBEDDING_PROVIDER": "openai"}, True, "is openai but no LLM API is configured"),
    ],
)
def test_an_explicit_provider_that_cannot_work_fails_fast(monkeypatch, env, local_installed, problem):
    with pytest.raises(SettingsError, match=f"^BATON_EMBEDDING_PROVIDER {problem}: "):
        provider_for(monkeypatch, env, local_installed=local_installed)


def test_the_local_provider_embeds_nothing_without_loading_the_model():
    from workers.memories.embeddings import LocalMiniLM

    assert LocalMiniLM().embed([]) == []
