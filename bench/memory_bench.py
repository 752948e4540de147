"""Long-term memory recall at scale: HNSW vs exact search through Baton's own scoped query.

    python -m bench.memory_bench [--rows 100000] [--small 10000] [--queries 200] [--home DIR]

Starts its own embedded PostgreSQL + pgvector in a temporary state folder, loads ``--rows`` and
``--small`` synthetic memories (one workspace, 100 channels) into two migrated databases, and runs
``memory.recall.vector_candidates`` for ``--queries`` channel-scoped questions (~1% of rows match).
The baseline is exact search, measured in the same run on the same data: the same function on a
connection where index and bitmap scans are disabled, so the planner must read the table. EXPLAIN
(through ``auto_explain``, of the very statement Baton sends) confirms which plan each side used.
Prints Markdown tables and writes ``bench/results/memory_bench.json``.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import psycopg

from bench._common import machine, markdown_table, ms, state_folder, write_results
from bench.memory_data import NOW, TEAM, Corpus, Query, load, make_corpus, make_queries
from memory import recall
from memory.db import connect
from memory.embedded import EmbeddedServices
from memory.migrate import migrate
from memory.store import write_memory

#: Targets from the memory design: good enough neighbours, fast enough to sit inside a Slack reply.
TARGET_RECALL = 0.95
TARGET_P95_MS = 20.0
K = 10
WARMUP_QUERIES = 20
EF_SWEEP = (40, 64, 100, 200, 400)
WRITES = 300
PLAN_KEYWORDS = ("Scan", "Limit", "Sort", "Filter", "Order By", "Index Cond", "Rows Removed")

_VECTOR_LITERAL = re.compile(r"'\[[^\]]*\]'")

Candidates = Callable[[psycopg.Connection[Any], Query], list[int]]


def candidates(conn: psycopg.Connection[Any], query: Query) -> list[int]:
    """Exactly what Baton runs for the vector half of recall."""
    return recall.vector_candidates(conn, team_id=TEAM, channel_id=query.channel, user_id="U0",
                                    embedding=query.vector, now=NOW, limit=K)


def exact_connection(url: str) -> psycopg.Connection[Any]:
    """A connection on which the planner may not use any index: every query becomes a full scan."""
    conn = connect(url)
    conn.execute("SET enable_indexscan = off")
    conn.execute("SET enable_bitmapscan = off")
    return conn


def hnsw_connection(url: str) -> psycopg.Connection[Any]:
    """A connection on which only an ordered index scan avoids a penalty, so the planner takes HNSW.

    With a selective scope the planner prefers the ``memories_scope`` btree plus an exact sort, which
    never touches the vector index; disabling explicit sorts leaves the HNSW scan as the cheapest plan.
    """
    conn = connect(url)
    conn.execute("SET enable_sort = off")
    return conn


def plan_of(conn: psycopg.Connection[Any], query: Query) -> list[str]:
    """Key lines of the executed plan of Baton's query (auto_explain reports it as a NOTICE)."""
    notices: list[str] = []

    def keep(diag: psycopg.errors.Diagnostic) -> None:
        notices.append(diag.message_primary or "")

    for setting in ("LOAD 'auto_explain'", "SET auto_explain.log_min_duration = 0",
                    "SET auto_explain.log_analyze = on", "SET auto_explain.log_level = notice"):
        conn.execute(setting)
    conn.add_notice_handler(keep)
    try:
        candidates(conn, query)
    finally:
        conn.remove_notice_handler(keep)
        conn.execute("SET auto_explain.log_min_duration = -1")
    plan = next((text for text in notices if "memories" in text), "")
    return [_VECTOR_LITERAL.sub("'[384 floats]'", line.rstrip()) for line in plan.splitlines()
            if any(word in line for word in PLAN_KEYWORDS)]


def timed(run: Candidates, conn: psycopg.Connection[Any], query: Query) -> tuple[list[int], float]:
    started = time.perf_counter()
    ids = run(conn, query)
    return ids, time.perf_counter() - started


def recall_at_k(found: Sequence[list[int]], truth: Sequence[list[int]]) -> float:
    scores = [len(set(f) & set(t)) / len(t) for f, t in zip(found, truth, strict=True) if t]
    return float(np.mean(scores))


def with_ef_search(value: int) -> Callable[[], None]:
    """Point ``memory.recall.EF_SEARCH`` at ``value``; returns the undo (the benchmark's only knob)."""
    before = recall.EF_SEARCH
    recall.EF_SEARCH = value
    return lambda: setattr(recall, "EF_SEARCH", before)


#: The three ways the same query runs: Baton's connection as is, HNSW forced, and the exact baseline.
MODES = ("baton", "hnsw", "exact")
MODE_LABELS = {"baton": "Baton as is (planner's choice)", "hnsw": "HNSW forced", "exact": "exact (seq scan)"}


def index_used(plan: list[str]) -> str:
    """Which access path a plan read memories through (for the tables)."""
    text = "\n".join(plan)
    if "memories_embedding_hnsw" in text:
        return "HNSW index"
    if "memories_scope" in text:
        return "scope btree + sort"
    return "seq scan" if "Seq Scan on memories" in text else "other"


def measure_size(url: str, queries: list[Query]) -> dict[str, Any]:
    """Plans, then the three modes interleaved query by query, then an ef_search sweep of the HNSW mode."""
    with connect(url) as baton, hnsw_connection(url) as hnsw, exact_connection(url) as exact:
        conns = {"baton": baton, "hnsw": hnsw, "exact": exact}
        plans = {mode: plan_of(conn, queries[0]) for mode, conn in conns.items()}
        checks = {
            "hnsw_uses_memories_embedding_hnsw": index_used(plans["hnsw"]) == "HNSW index",
            "exact_is_seq_scan": index_used(plans["exact"]) == "seq scan",
        }
        for query in queries[:WARMUP_QUERIES]:
            for conn in conns.values():
                candidates(conn, query)
        ids: dict[str, list[list[int]]] = {mode: [] for mode in MODES}
        seconds: dict[str, list[float]] = {mode: [] for mode in MODES}
        for query in queries:  # interleaved, so machine noise hits every mode alike
            for mode in MODES:
                found, took = timed(candidates, conns[mode], query)
                ids[mode].append(found)
                seconds[mode].append(took)
        truth = ids["exact"]
        sweep = []
        for ef in EF_SWEEP:
            undo = with_ef_search(ef)
            try:
                runs = [timed(candidates, hnsw, query) for query in queries]
            finally:
                undo()
            latency = ms([took for _, took in runs])
            score = recall_at_k([found for found, _ in runs], truth)
            sweep.append({"ef_search": ef, "recall_at_10": score, "latency_ms": latency,
                          "meets_target": score >= TARGET_RECALL and latency["p95"] <= TARGET_P95_MS})
    return {
        "plans": plans,
        "plan_checks": checks,
        "ef_search": recall.EF_SEARCH,
        "modes": {mode: {"access_path": index_used(plans[mode]), "recall_at_10": recall_at_k(ids[mode], truth),
                         "latency_ms": ms(seconds[mode]),
                         "short_results": sum(1 for found in ids[mode] if len(found) < K)} for mode in MODES},
        "sweep": sweep,
    }


def measure_writes(url: str, count: int) -> dict[str, Any]:
    """``memory.store.write_memory`` one at a time into the loaded table (HNSW maintained, dedup check on)."""
    vectors = make_corpus(count, seed=99).vectors
    seconds = []
    with connect(url) as conn:
        for i, vector in enumerate(vectors):
            started = time.perf_counter()
            write_memory(conn, team_id=TEAM, scope="channel", channel_id="CWRITE", key=f"bench-write-{i}",
                         text=f"Benchmark write number {i} about the release train", embedding=vector,
                         embedding_model="bench-synthetic")
            seconds.append(time.perf_counter() - started)
    return {"writes": count, "writes_per_second": count / sum(seconds), "latency_ms": ms(seconds)}


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
        info = {name: conn.execute(f"SHOW {name}").fetchone()[name]  # type: ignore[index]
                for name in ("server_version", "shared_buffers", "work_mem", "hnsw.max_scan_tuples")}
        row = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()
        info["pgvector"] = row["extversion"] if row else "?"
    return info


def run(args: argparse.Namespace) -> dict[str, Any]:
    corpus = make_corpus(args.rows)
    sizes: list[tuple[str, Corpus]] = [("small", corpus.head(args.small)), ("large", corpus)]
    results: dict[str, Any] = {"machine": machine(), "targets": {"recall_at_10": TARGET_RECALL,
                                                                 "p95_ms": TARGET_P95_MS},
                               "args": vars(args), "sizes": {}}
    with state_folder(args.home, prefix="baton-bench-") as home:
        services = EmbeddedServices(home)
        try:
            services.ensure_postgres()
            for label, data in sizes:
                url = fresh_database(services, f"baton_bench_{label}")
                print(f"[{label}] loading {len(data):,} memories ...", file=sys.stderr, flush=True)
                loaded = load(url, data)
                print(f"[{label}] measuring {args.queries} queries ...", file=sys.stderr, flush=True)
                measured = measure_size(url, make_queries(data, args.queries))
                results["sizes"][label] = {"load": loaded, **measured}
                if label == "large":
                    print(f"[{label}] measuring {WRITES} single writes ...", file=sys.stderr, flush=True)
                    results["writes"] = measure_writes(url, WRITES)
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
        for mode in ("baton", "hnsw") for label, size in (("small", small), ("large", large))
        for stat in ("p50", "p95")
    }
    good = [row["ef_search"] for row in large["sweep"] if row["meets_target"]]
    results["recommended_ef_search"] = min(good) if good else None
    return results


def report(results: dict[str, Any]) -> str:
    small, large = results["sizes"]["small"], results["sizes"]["large"]
    sized = (("small", small), ("large", large))
    server = results["server"]
    out = [f"Memory recall benchmark, {results['machine']['date']}, {results['machine']['cores']} cores, "
           f"PostgreSQL {server['server_version']}, pgvector {server['pgvector']}, "
           f"shared_buffers {server['shared_buffers']}", ""]
    out.append(markdown_table(
        ["rows", "COPY rows/s", "HNSW build s", "index MB", "table+indexes MB"],
        [[s["load"]["rows"], s["load"]["copy_rows_per_second"], s["load"]["index_build_seconds"],
          s["load"]["index_mb"], s["load"]["table_total_mb"]] for _, s in sized]))
    writes = results["writes"]
    out += ["", f"Single `write_memory` calls into the {large['load']['rows']:,}-row table (HNSW maintained): "
            f"{writes['writes_per_second']:.0f}/s, p50 {writes['latency_ms']['p50']:.2f} ms, "
            f"p95 {writes['latency_ms']['p95']:.2f} ms", ""]
    rows = []
    for _, size in sized:
        for mode in MODES:
            m = size["modes"][mode]
            lat = m["latency_ms"]
            rows.append([size["load"]["rows"], MODE_LABELS[mode], m["access_path"], m["recall_at_10"],
                         lat["p50"], lat["p95"], lat["p99"], lat["max"]])
    out.append(f"Scoped queries (one channel, ~1% of rows), `vector_candidates(limit=10)`, "
               f"hnsw.ef_search {large['ef_search']} (memory/recall.py):")
    out += ["", markdown_table(["rows", "query", "plan", "recall@10", "p50 ms", "p95 ms", "p99 ms", "max ms"],
                               rows)]
    r = results["ratios"]
    ratio_rows = [[f"{MODE_LABELS[mode]}: 100k / 10k rows", r[f"{mode}_p50_large_over_small"],
                   r[f"{mode}_p95_large_over_small"]] for mode in MODES]
    ratio_rows += [[f"{MODE_LABELS[mode]} / exact, {label} table", r[f"{mode}_over_exact_{label}_p50"],
                    r[f"{mode}_over_exact_{label}_p95"]]
                   for mode in ("baton", "hnsw") for label in ("small", "large")]
    out += ["", markdown_table(["latency ratio", "p50", "p95"], ratio_rows)]
    for _, size in sized:
        out += ["", f"hnsw.ef_search sweep, HNSW forced, {size['load']['rows']:,} rows "
                f"(target: recall@10 >= {TARGET_RECALL} at p95 <= {TARGET_P95_MS:.0f} ms)", ""]
        out.append(markdown_table(
            ["ef_search", "recall@10", "p50 ms", "p95 ms", "meets target"],
            [[row["ef_search"], row["recall_at_10"], row["latency_ms"]["p50"], row["latency_ms"]["p95"],
              "yes" if row["meets_target"] else "no"] for row in size["sweep"]]))
    for _, size in sized:
        out += ["", f"Plans at {size['load']['rows']:,} rows (checks: {size['plan_checks']})", "", "```"]
        for mode in MODES:
            out.append(f"-- {MODE_LABELS[mode]}")
            out += size["plans"][mode]
        out.append("```")
    out += ["", f"Smallest hnsw.ef_search meeting the target at {large['load']['rows']:,} rows: "
            f"{results['recommended_ef_search']}"]
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.memory_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="memories in the large table")
    parser.add_argument("--small", type=int, default=10_000, help="memories in the small table")
    parser.add_argument("--queries", type=int, default=200, help="scoped queries per measurement")
    parser.add_argument("--home", help="state folder for the embedded server (default: a temporary one)")
    args = parser.parse_args(argv)
    results = run(args)
    print(report(results))
    path = write_results("memory_bench", results)
    print(f"\nwrote {path}", file=sys.stderr)
    ok = all(all(size["plan_checks"].values()) for size in results["sizes"].values())
    if not ok:
        print("PLAN CHECK FAILED: see the plans above", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
