"""Markdown for the memory benchmark's results (see :mod:`bench.memory_bench`)."""

from __future__ import annotations

from typing import Any

from bench._common import markdown_table

MODE_LABELS = {
    "baton": "Baton as is (planner's choice)",
    "hnsw": "HNSW forced",
    "scoped_exact": "exact via scope btree",
    "exact": "exact, seq scan (baseline)",
}
PLAN_LINE_CHARS = 170


def _rows(n: int) -> str:
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else f"{n:,}"


def _paths(census: dict[str, int]) -> str:
    """``HNSW index`` or, when queries differed, ``HNSW index 57%, scope btree + sort 43%``."""
    total = sum(census.values())
    if len(census) == 1:
        return next(iter(census))
    ranked = sorted(census.items(), key=lambda item: -item[1])
    return ", ".join(f"{path} {100 * count / total:.0f}%" for path, count in ranked)


def report(results: dict[str, Any]) -> str:
    sizes = [results["sizes"]["small"], results["sizes"]["large"]]
    small, large = sizes
    server, targets = results["server"], results["targets"]
    args = results["args"]
    options = args["index_options"]
    index = "HNSW " + (f"WITH ({options})" if options else "defaults (m 16, ef_construction 64)")
    out = [
        f"Memory recall, {results['machine']['date']}, {results['machine']['cores']} cores; "
        f"PostgreSQL {server['server_version']}, pgvector {server['pgvector']}, "
        f"shared_buffers {server['shared_buffers']}, {index}",
        "",
        markdown_table(
            ["rows", "COPY rows/s", "HNSW build s", "index MB", "table + indexes MB"],
            [[_rows(s["load"]["rows"]), s["load"]["copy_rows_per_second"], s["load"]["index_build_seconds"],
              s["load"]["index_mb"], s["load"]["table_total_mb"]] for s in sizes]),
    ]
    writes = results["writes"]
    out += ["", f"One-at-a-time `memory.store.write_memory` into the {_rows(large['load']['rows'])} table (HNSW "
            f"maintained, duplicate check included): {writes['writes_per_second']:.0f} writes/s, "
            f"p50 {writes['latency_ms']['p50']:.1f} ms, p95 {writes['latency_ms']['p95']:.1f} ms."]
    if "register_vector_ms" in results:
        cost = results["register_vector_ms"]
        out += ["", f"`register_vector(conn)`, which `vector_candidates` runs on every call (four catalog look-ups): "
                f"p50 {cost['p50']:.2f} ms, p95 {cost['p95']:.2f} ms of each query's latency below."]

    out += ["", f"Channel-scoped `vector_candidates(limit=10)` (~1% of rows in scope), {results['args']['queries']} "
            f"queries, hnsw.ef_search {large['ef_search']} as in memory/recall.py. \"related\" = recall of the true "
            f"neighbours with cosine >= {targets['related_cosine']}.", ""]
    rows = []
    for size in sizes:
        for mode, label in MODE_LABELS.items():
            m = size["modes"][mode]
            lat = m["latency_ms"]
            rows.append([_rows(size["load"]["rows"]), label, _paths(m["access_paths"]), m["recall_at_10"],
                         m["related_recall_at_10"], lat["p50"], lat["p95"], lat["p99"], lat["max"]])
    out.append(markdown_table(
        ["rows", "query", "plan", "recall@10", "related", "p50 ms", "p95 ms", "p99 ms", "max ms"], rows))

    r = results["ratios"]
    big, little = _rows(large["load"]["rows"]), _rows(small["load"]["rows"])
    ratio_rows = [[f"{label}: {big} / {little} rows", r[f"{mode}_p50_large_over_small"],
                   r[f"{mode}_p95_large_over_small"]] for mode, label in MODE_LABELS.items()]
    ratio_rows += [[f"{MODE_LABELS[mode]} / exact seq scan, {_rows(size['load']['rows'])} rows",
                    r[f"{mode}_over_exact_{name}_p50"], r[f"{mode}_over_exact_{name}_p95"]]
                   for mode in ("baton", "hnsw", "scoped_exact") for name, size in (("small", small), ("large", large))]
    out += ["", markdown_table(["latency ratio", "p50", "p95"], ratio_rows)]

    for size in sizes:
        out += ["", f"hnsw.ef_search sweep, HNSW forced, {_rows(size['load']['rows'])} rows (target: recall@10 >= "
                f"{targets['recall_at_10']} at p95 <= {targets['p95_ms']:.0f} ms)", ""]
        out.append(markdown_table(
            ["ef_search", "recall@10", "related", "p50 ms", "p95 ms", "meets target"],
            [[row["ef_search"], row["recall_at_10"], row["related_recall_at_10"], row["latency_ms"]["p50"],
              row["latency_ms"]["p95"], "yes" if row["meets_target"] else "no"] for row in size["sweep"]]))

    if "scope_sizes" in results:
        sweep = results["scope_sizes"]
        out += ["", f"Scope size: the {big} table with channels merged into bigger ones (index rebuilt), "
                f"{sweep['queries']} queries per scope, hnsw.ef_search {large['ef_search']}:", ""]
        rows = []
        for scope in sweep["scopes"]:
            for mode, label in MODE_LABELS.items():
                m = scope["modes"][mode]
                rows.append([scope["scope"], f"{scope['rows_in_scope']:,.0f}", label, _paths(m["access_paths"]),
                             m["recall_at_10"], m["related_recall_at_10"], m["latency_ms"]["p50"],
                             m["latency_ms"]["p95"]])
        out.append(markdown_table(["scope", "rows in scope", "query", "plan", "recall@10", "related", "p50 ms",
                                   "p95 ms"], rows))

    for size in sizes:
        checks = ", ".join(f"{name} {'ok' if ok else 'FAILED'}" for name, ok in size["plan_checks"].items())
        out += ["", f"Plans at {_rows(size['load']['rows'])} rows, checked for every query ({checks}):", "",
                "```"]
        for name, plan in size["plans"].items():
            out.append(f"-- {MODE_LABELS.get(name, name)}")
            out += [line if len(line) <= PLAN_LINE_CHARS else line[:PLAN_LINE_CHARS] + "…" for line in plan]
        out.append("```")
    best = results["recommended_ef_search"]
    out += ["", f"Smallest hnsw.ef_search meeting the target with HNSW at {big} rows: "
            f"{best if best is not None else 'none of ' + ', '.join(str(r['ef_search']) for r in large['sweep'])}"]
    return "\n".join(out)
