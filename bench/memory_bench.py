"""Long-term memory recall at scale: HNSW vs exact search through Baton's own scoped query.

    python -m bench.memory_bench [--rows 100000] [--small 10000] [--queries 200] [--home DIR]
                                 [--shared-buffers SIZE] [--index-options "m = 32, ef_construction = 128"]

Starts its own embedded PostgreSQL + pgvector in a temporary state folder, loads ``--small`` and
``--rows`` synthetic memories (one workspace, 100 channels) into two migrated databases, and runs
``memory.recall.vector_candidates`` for ``--queries`` channel-scoped questions (~1% of rows match),
each on four connections that differ only in planner settings:

    baton         Baton's connection as is: whatever plan PostgreSQL picks
    hnsw          explicit sorts disabled, so the HNSW index scan is the plan
    scoped_exact  index scans disabled: the scope btree (bitmap scan) plus an exact sort
    exact         index and bitmap scans disabled: a sequential scan, the ground truth and baseline

The modes run interleaved, query by query (taking turns to go first, since a query warms the cache
for whoever runs it next), so machine noise hits them alike. EXPLAIN (through
``auto_explain``, of the very statement Baton sends) checks, for every query, which plan each
connection used. Then, on the large table, channels are merged into scopes of ~5% and ~20% of
the rows and the four modes are compared again (``--no-scope-sweep`` skips this).
Prints Markdown tables and writes ``bench/results/memory_bench[.variant].json``.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import psycopg
from pgvector.psycopg import register_vector

from bench._common import exit_cleanly_on_sigterm, machine, ms, state_folder, write_results
from bench.memory_data import MODEL, NOW, TEAM, Corpus, Query, load, make_corpus, make_queries, merge_channels
from bench.memory_report import report
from memory import recall
from memory.db import connect
from memory.embedded import EmbeddedServices
from memory.migrate import migrate
from memory.store import write_memory

#: Targets from the memory design: good enough neighbours, fast enough to sit inside a Slack reply.
TARGET_RECALL = 0.95
TARGET_P95_MS = 20.0
K = 10
#: A neighbour this similar to the query is related to it; below, it is an arbitrary pick among noise.
RELATED_COSINE = 0.3
WARMUP_QUERIES = 20
EF_SWEEP = (40, 100, 200, 400, 1000)
WRITES = 300
#: For the scope-size comparison: channels 0-4 become one channel (~5%), 5-24 another (~20%).
SCOPE_GROUPS = {0: range(0, 5), 5: range(5, 25)}
SCOPES = (("~1%", range(25, 100)), ("~5%", (0,)), ("~20%", (5,)))
PLAN_KEYWORDS = ("Scan", "Limit", "Sort", "Gather", "Filter", "Order By", "Index Cond", "Rows Removed")
_VECTOR_LITERAL = re.compile(r"'\[[^\]]*\]'")

#: Session settings of each mode (see the module docstring).
MODES: dict[str, tuple[str, ...]] = {
    "baton": (),
    "hnsw": ("SET enable_sort = off",),
    "scoped_exact": ("SET enable_indexscan = off",),
    "exact": ("SET enable_indexscan = off", "SET enable_bitmapscan = off"),
}


def candidates(conn: psycopg.Connection[Any], query: Query) -> list[int]:
    """Exactly what Baton runs for the vector half of recall (workers pass the current embedding model)."""
    return recall.vector_candidates(conn, team_id=TEAM, channel_id=query.channel, user_id="U0",
                                    embedding=query.vector, now=NOW, limit=K, model=MODEL)


def mode_connection(url: str, mode: str) -> psycopg.Connection[Any]:
    conn = connect(url)
    for statement in MODES[mode]:
        conn.execute(statement)
    return conn


@contextlib.contextmanager
def explained(conn: psycopg.Connection[Any]) -> Iterator[list[str]]:
    """Collect the executed plans of statements run inside (auto_explain reports them as NOTICEs)."""
    notices: list[str] = []

    def keep(diag: psycopg.errors.Diagnostic) -> None:
        notices.append(diag.message_primary or "")

    for statement in ("LOAD 'auto_explain'", "SET auto_explain.log_min_duration = 0",
                      "SET auto_explain.log_analyze = on", "SET auto_explain.log_level = notice"):
        conn.execute(statement)
    conn.add_notice_handler(keep)
    try:
        yield notices
    finally:
        conn.remove_notice_handler(keep)
        conn.execute("SET auto_explain.log_min_duration = -1")


def plan_of(conn: psycopg.Connection[Any], query: Query) -> list[str]:
    """Key lines of the executed plan of Baton's query for ``query``."""
    with explained(conn) as notices:
        candidates(conn, query)
    plan = next((text for text in notices if "memories" in text), "")
    return [_VECTOR_LITERAL.sub("'[384 floats]'", line.rstrip()) for line in plan.splitlines()
            if any(word in line for word in PLAN_KEYWORDS)]


def plan_census(conn: psycopg.Connection[Any], queries: Sequence[Query]) -> dict[str, int]:
    """How many of ``queries`` ran with each access path (the plan can differ from channel to channel)."""
    return dict(Counter(access_path(plan_of(conn, query)) for query in queries))


def access_path(plan: list[str]) -> str:
    """How a plan reached the memories (for the tables)."""
    text = "\n".join(plan)
    if "memories_embedding_hnsw" in text:
        return "HNSW index"
    if "memories_scope" in text:
        return "scope btree + sort"
    return "seq scan" if "Seq Scan on memories" in text else "other"


def timed(conn: psycopg.Connection[Any], query: Query) -> tuple[list[int], float]:
    started = time.perf_counter()
    ids = candidates(conn, query)
    return ids, time.perf_counter() - started


def scores(found: Sequence[list[int]], truth: Sequence[list[int]], queries: Sequence[Query],
           corpus: Corpus) -> dict[str, float]:
    """recall@10, and recall@10 of the true neighbours related to the query (cosine >= RELATED_COSINE)."""
    plain, related = [], []
    for ids, true_ids, query in zip(found, truth, queries, strict=True):
        got = set(ids)
        plain.append(len(got & set(true_ids)) / len(true_ids))
        close = [i for i in true_ids if float(corpus.vectors[i - 1] @ query.vector) >= RELATED_COSINE]
        if close:
            related.append(len(got & set(close)) / len(close))
    return {"recall_at_10": float(np.mean(plain)), "related_recall_at_10": float(np.mean(related))}


def with_ef_search(value: int) -> Callable[[], None]:
    """Point ``memory.recall.EF_SEARCH`` at ``value``; returns the undo (the benchmark's only knob)."""
    before = recall.EF_SEARCH
    recall.EF_SEARCH = value
    return lambda: setattr(recall, "EF_SEARCH", before)


def measure_size(url: str, corpus: Corpus, queries: list[Query], *, sweep_ef: bool = True) -> dict[str, Any]:
    """Plans, then every mode interleaved query by query, then an ef_search sweep of the HNSW mode."""
    conns = {mode: mode_connection(url, mode) for mode in MODES}
    try:
        plans = {"baton (first call)": plan_of(conns["baton"], queries[0])}
        for query in queries[:WARMUP_QUERIES]:
            for conn in conns.values():
                candidates(conn, query)
        # After warm-up psycopg has prepared the statement, and PostgreSQL may use a generic plan.
        plans |= {mode: plan_of(conn, queries[1]) for mode, conn in conns.items()}
        ids: dict[str, list[list[int]]] = {mode: [] for mode in MODES}
        seconds: dict[str, list[float]] = {mode: [] for mode in MODES}
        order = list(MODES)
        for i, query in enumerate(queries):
            # Rotate who goes first: a query warms shared buffers for the modes that run it after.
            for mode in order[i % len(order):] + order[:i % len(order)]:
                found, took = timed(conns[mode], query)
                ids[mode].append(found)
                seconds[mode].append(took)
        truth = ids["exact"]
        census = {mode: plan_census(conn, queries) for mode, conn in conns.items()}  # not timed
        sweep = []
        for ef in EF_SWEEP if sweep_ef else ():
            undo = with_ef_search(ef)
            try:
                runs = [timed(conns["hnsw"], query) for query in queries]
            finally:
                undo()
            latency = ms([took for _, took in runs])
            score = scores([found for found, _ in runs], truth, queries, corpus)
            sweep.append({"ef_search": ef, **score, "latency_ms": latency,
                          "meets_target": score["recall_at_10"] >= TARGET_RECALL
                          and latency["p95"] <= TARGET_P95_MS})
    finally:
        for conn in conns.values():
            conn.close()
    return {
        "plans": plans,
        "plan_checks": {  # every query, not just the one whose plan is shown
            "hnsw_uses_memories_embedding_hnsw": census["hnsw"] == {"HNSW index": len(queries)},
            "scoped_exact_uses_memories_scope": census["scoped_exact"] == {"scope btree + sort": len(queries)},
            "exact_is_seq_scan": census["exact"] == {"seq scan": len(queries)},
        },
        "ef_search": recall.EF_SEARCH,
        "modes": {mode: {"access_paths": census[mode], **scores(ids[mode], truth, queries, corpus),
                         "latency_ms": ms(seconds[mode]),
                         "short_results": sum(1 for found in ids[mode] if len(found) < K)} for mode in MODES},
        "sweep": sweep,
    }


def measure_scopes(url: str, corpus: Corpus, count: int) -> dict[str, Any]:
    """The same comparison for scopes of ~1%, ~5% and ~20% of the table (channels merged into bigger ones)."""
    merged, build_seconds = merge_channels(url, corpus, SCOPE_GROUPS)
    scopes = []
    for label, channels in SCOPES:
        queries = make_queries(merged, count, seed=13, channels=channels)
        in_scope = float(np.mean([np.sum(merged.channels == c) for c in channels]))
        scopes.append({"scope": label, "rows_in_scope": in_scope,
                       **measure_size(url, merged, queries, sweep_ef=False)})
    return {"index_rebuild_seconds": build_seconds, "queries": count, "scopes": scopes}


def measure_register_vector(url: str, count: int = 200) -> dict[str, Any]:
    """What ``register_vector(conn)`` costs: ``vector_candidates`` calls it on every query."""
    seconds = []
    with connect(url) as conn:
        register_vector(conn)
        for _ in range(count):
            started = time.perf_counter()
            register_vector(conn)
            seconds.append(time.perf_counter() - started)
    return ms(seconds)


def measure_writes(url: str, count: int) -> dict[str, Any]:
    """``memory.store.write_memory`` one at a time into the loaded table (HNSW maintained, dedup check on)."""
    vectors = make_corpus(count, seed=99).vectors
    seconds = []
    with connect(url) as conn:
        for i, vector in enumerate(vectors):
            started = time.perf_counter()
            write_memory(conn, team_id=TEAM, scope="channel", channel_id="CWRITE", key=f"bench-write-{i}",
                         text=f"Benchmark write number {i} about the release train", embedding=vector,
                         embedding_model=MODEL)
            seconds.append(time.perf_counter() - started)
    return {"writes": count, "writes_per_second": count / sum(seconds), "latency_ms": ms(seconds)}


def configure_server(services: EmbeddedServices, shared_buffers: str | None) -> None:
    """Give the embedded server ``shared_buffers`` (None: its own default), restarting it if that changes it."""
    with connect(services.postgres.url("postgres")) as conn:
        if shared_buffers:
            row = conn.execute("SELECT pg_size_bytes(current_setting('shared_buffers')) = pg_size_bytes(%s) AS same",
                               (shared_buffers,)).fetchone()
            if row and row["same"]:
                return
            conn.execute(f"ALTER SYSTEM SET shared_buffers = '{shared_buffers}'")
        else:  # undo an earlier --shared-buffers in a reused --home
            row = conn.execute("SELECT count(*) AS n FROM pg_file_settings WHERE name = 'shared_buffers' "
                               "AND sourcefile LIKE '%%postgresql.auto.conf'").fetchone()
            if not row or not row["n"]:
                return
            conn.execute("ALTER SYSTEM RESET shared_buffers")
    services.postgres.stop()
    services.postgres.start()
    if shared_buffers:
        with connect(services.postgres.url("postgres")) as conn:
            row = conn.execute("SELECT pg_size_bytes(current_setting('shared_buffers')) = pg_size_bytes(%s) AS same",
                               (shared_buffers,)).fetchone()
        if not row or not row["same"]:
            raise RuntimeError(f"the embedded server did not take shared_buffers = {shared_buffers}")


def fresh_database(services: EmbeddedServices, name: str) -> str:
    """Drop and create database ``name`` on the embedded server, migrate it, return its URL."""
    with connect(services.postgres.url("postgres")) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = services.postgres.url(name)
    with connect(url) as conn:
        migrate(conn)
    return url


def server_info(url: str) -> dict[str, str]:
    with connect(url) as conn:
        conn.execute("LOAD 'vector'")  # defines the hnsw.* settings in this session
        info = {name: str(conn.execute(f"SHOW {name}").fetchone()[name])  # type: ignore[index]
                for name in ("server_version", "shared_buffers", "work_mem", "hnsw.max_scan_tuples",
                             "max_parallel_workers_per_gather")}
        row = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()
        info["pgvector"] = row["extversion"] if row else "?"
    return info


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> dict[str, Any]:
    corpus = make_corpus(args.rows)
    sizes: list[tuple[str, Corpus]] = [("small", corpus.head(args.small)), ("large", corpus)]
    results: dict[str, Any] = {
        "machine": machine(), "args": vars(args), "sizes": {},
        "targets": {"recall_at_10": TARGET_RECALL, "p95_ms": TARGET_P95_MS, "related_cosine": RELATED_COSINE},
    }
    with state_folder(args.home, prefix="baton-bench-") as home:
        services = EmbeddedServices(home)
        try:
            services.ensure_postgres()
            configure_server(services, args.shared_buffers)
            for label, data in sizes:
                url = fresh_database(services, f"baton_bench_{label}")
                progress(f"[{label}] loading {len(data):,} memories and building the HNSW index ...")
                loaded = load(url, data, index_options=args.index_options)
                progress(f"[{label}] {args.queries} queries x {len(MODES)} modes, then the ef_search sweep ...")
                measured = measure_size(url, data, make_queries(data, args.queries))
                results["sizes"][label] = {"load": loaded, **measured}
            progress(f"[large] {WRITES} single writes ...")
            results["writes"] = measure_writes(url, WRITES)
            results["register_vector_ms"] = measure_register_vector(url)
            if args.scope_sweep:
                progress(f"[large] scopes of ~1%, ~5% and ~20%: merging channels, rebuilding the index, "
                         f"{args.queries // 2} queries each ...")
                results["scope_sizes"] = measure_scopes(url, corpus, args.queries // 2)
            results["server"] = server_info(url)
        finally:
            services.release()
    small, large = results["sizes"]["small"], results["sizes"]["large"]

    def p(size: dict[str, Any], mode: str, stat: str) -> float:
        return float(size["modes"][mode]["latency_ms"][stat])

    results["ratios"] = {
        f"{mode}_{stat}_large_over_small": p(large, mode, stat) / p(small, mode, stat)
        for mode in MODES for stat in ("p50", "p95")
    } | {
        f"{mode}_over_exact_{label}_{stat}": p(size, mode, stat) / p(size, "exact", stat)
        for mode in MODES if mode != "exact" for label, size in (("small", small), ("large", large))
        for stat in ("p50", "p95")
    }
    good = [row["ef_search"] for row in large["sweep"] if row["meets_target"]]
    results["recommended_ef_search"] = min(good) if good else None
    return results


def variant_name(args: argparse.Namespace) -> str:
    """``memory_bench`` for the defaults; a suffix naming any server or index change."""
    parts = ["memory_bench"]
    if args.shared_buffers:
        parts.append("shared_buffers_" + args.shared_buffers)
    if args.index_options:
        parts.append(re.sub(r"[^a-z0-9]+", "_", args.index_options.lower()).strip("_"))
    return ".".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.memory_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="memories in the large table")
    parser.add_argument("--small", type=int, default=10_000, help="memories in the small table")
    parser.add_argument("--queries", type=int, default=200, help="scoped queries per measurement")
    parser.add_argument("--home", help="state folder for the embedded server (default: a temporary one)")
    parser.add_argument("--shared-buffers", help="e.g. 1GB (default: the embedded server's own, 128MB)")
    parser.add_argument("--index-options", help='HNSW storage parameters, e.g. "m = 32, ef_construction = 128"')
    parser.add_argument("--no-scope-sweep", dest="scope_sweep", action="store_false",
                        help="skip the comparison across scope sizes (saves about a minute)")
    args = parser.parse_args(argv)
    exit_cleanly_on_sigterm()
    results = run(args)
    print(report(results))
    path = write_results(variant_name(args), results)
    progress(f"\nwrote {path}")
    measured = list(results["sizes"].items()) + [
        (f"scope {scope['scope']}", scope) for scope in results.get("scope_sizes", {}).get("scopes", [])]
    failed = [f"{label}: {name}" for label, size in measured for name, ok in size["plan_checks"].items() if not ok]
    if failed:
        progress("PLAN CHECK FAILED (" + ", ".join(failed) + "): see the plans above")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
