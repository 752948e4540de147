"""Embeddings against servers that are not OpenAI (the fake's profiles): auto mode asks only for a model the server
lists, ``dimensions`` goes only to models that take it, and a failing API is reported once and backed off instead
of being retried on every memory write, while the memories still land and get their vectors later."""

from __future__ import annotations

import logging

import pytest

from core import defaults
from tests.scenario.meeting_helpers import MONDAY, set_clock
from tests.scenario.test_memory import memories
from workers.job_context import install
from workers.memories.backoff import Backoff
from workers.memories.embed import embed_pending_memories
from workers.memories.embeddings import EmbeddingUnavailable, OpenAIEmbeddings


def provider(fake_openai, model: str = "text-embedding-3-small", **options) -> OpenAIEmbeddings:
    return OpenAIEmbeddings(
        api_key=fake_openai.api_key,
        base_url=fake_openai.base_url,
        model=model,
        dimensions=384,
        max_retries=0,
        **options,
    )


def models_requests(fake_openai) -> int:
    return sum(1 for r in fake_openai.requests if r.path == "/v1/models")


def test_auto_mode_never_sends_an_openai_model_name_to_a_server_that_does_not_list_it(fake_openai):
    fake_openai.profile = "llama-cpp-python"
    embeddings = provider(fake_openai, listed_only=True, backoff=Backoff("test", clock=lambda: 0.0, first=0))

    for _ in range(2):
        with pytest.raises(EmbeddingUnavailable, match="does not serve text-embedding-3-small") as raised:
            embeddings.embed(["a fact"])
    assert "BATON_EMBEDDING_PROVIDER=local or none" in raised.value.reason
    assert fake_openai.embedding_requests == [] and models_requests(fake_openai) == 1  # listed once, then known
    embeddings.close()


def test_a_listed_model_is_asked_and_dimensions_go_only_to_models_that_take_them(fake_openai):
    listed = provider(fake_openai, listed_only=True)
    fake_openai.embedding_dim = 384
    other = provider(fake_openai, model="nomic-embed-text", listed_only=True)

    assert len(listed.embed(["a"])[0]) == 384 and len(other.embed(["b"])[0]) == 384
    first, second = (r.body for r in fake_openai.embedding_requests)
    assert first["dimensions"] == 384 and "dimensions" not in second
    fake_openai.embedding_dim = 768
    with pytest.raises(EmbeddingUnavailable, match="set BATON_EMBEDDING_DIMENSIONS=768"):
        other.embed(["c"])
    listed.close()
    other.close()


def test_a_failing_api_is_reported_once_then_backed_off(fake_openai, caplog):
    now = [0.0]
    embeddings = provider(fake_openai, backoff=Backoff("embeddings", clock=lambda: now[0]))
    fake_openai.queue_error(500, message="boom", times=2, path="embeddings")

    with caplog.at_level(logging.DEBUG, logger="workers.memories.backoff"):
        for _ in range(3):
            with pytest.raises(EmbeddingUnavailable):
                embeddings.embed(["x"])
        assert len(fake_openai.embedding_requests) == 1  # the other two failed at once, in the backoff
        now[0] = defaults.EMBEDDING_BACKOFF_SECONDS
        with pytest.raises(EmbeddingUnavailable):
            embeddings.embed(["x"])  # tried again after the backoff: fails, and the backoff doubles
        now[0] += defaults.EMBEDDING_BACKOFF_SECONDS
        with pytest.raises(EmbeddingUnavailable, match=r"\(500\)") as raised:
            embeddings.embed(["x"])
        assert raised.value.reported and len(fake_openai.embedding_requests) == 2
        now[0] += defaults.EMBEDDING_BACKOFF_SECONDS
        assert len(embeddings.embed(["x"])[0]) == 384
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "next try in 30s" in warnings[0].getMessage()
    assert "answers again" in caplog.text
    embeddings.close()


def test_memory_writes_land_while_embeddings_fail_and_get_vectors_later(bot, db, fake_openai, caplog):
    set_clock(bot, MONDAY)
    bot.setting_changes = {
        "openai_api_key": fake_openai.api_key,
        "openai_base_url": fake_openai.base_url,
        "embedding_provider": "openai",
    }
    fake_openai.queue_error(500, message="embedding backend down", times=3, path="embeddings")

    with caplog.at_level(logging.WARNING):
        for fact in ("deploys freeze on Fridays", "lunch is at noon", "the wiki moved"):
            bot.slack.post_as_user("U0ALICE", "C0GENERAL", f"<@U0BATON> remember that {fact}")
        bot.run_jobs(wait_for=3)  # one worker process: its provider backs off after the first failure
    assert len(memories(db)) == 3
    assert db.execute("SELECT count(*) AS n FROM memories WHERE embedding IS NULL").fetchone()["n"] == 3
    assert len(fake_openai.embedding_requests) == 3  # one call's attempts (the SDK's 3), not 3 per write
    assert caplog.text.count("the embeddings API is failing (500)") == 1  # reported once for three writes

    install(bot.context(**bot.setting_changes))  # the background job, later (the reconciler enqueues it)
    assert embed_pending_memories() == 3
    assert db.execute("SELECT count(*) AS n FROM memories WHERE embedding IS NULL").fetchone()["n"] == 0
