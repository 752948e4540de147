"""Helpers shared by the benchmarks: a throwaway state folder, percentiles, tables, result files."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from rq import Worker

RESULTS_DIR = Path(__file__).resolve().parent / "results"


@contextlib.contextmanager
def state_folder(home: str | None, *, prefix: str) -> Iterator[Path]:
    """``home`` as a Path, or a fresh temporary folder that is deleted afterwards."""
    if home:
        path = Path(home).resolve()
        path.mkdir(parents=True, exist_ok=True)
        yield path
        return
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def exit_cleanly_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit, so ``finally`` blocks stop the embedded servers and delete the state folder."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def ms(seconds: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99/max/mean of durations given in seconds, in milliseconds."""
    values = np.asarray(seconds, dtype=np.float64) * 1000.0
    return {
        "n": len(values),
        "p50": float(np.percentile(values, 50)),
        "p95": float(np.percentile(values, 95)),
        "p99": float(np.percentile(values, 99)),
        "max": float(values.max()),
        "mean": float(values.mean()),
    }


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub-flavoured Markdown table; floats get a sensible number of digits."""

    def cell(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:.3f}" if abs(value) < 10 else f"{value:,.1f}"
        if isinstance(value, int) and not isinstance(value, bool):
            return f"{value:,}"
        return str(value)

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    """Where and when the run happened (the numbers only mean something next to this)."""
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def write_results(name: str, data: dict[str, Any]) -> Path:
    """Write ``bench/results/<name>.json`` and return its path."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
    return path


def run_benchmark(name: str, args: Any, run: Any, report: Any) -> int:
    """What every benchmark's ``main`` does: stop cleanly on SIGTERM, run, print the table, keep the results;
    exit 0 when its effects check held."""
    exit_cleanly_on_sigterm()
    results = run(args)
    print(report(results))
    path = write_results(name, results)
    print(f"\nwrote {path}", file=sys.stderr)
    return 0 if results["effects"]["ok"] else 1


def stop_worker(worker: subprocess.Popen[bytes], connection: Any) -> None:
    """SIGTERM the worker (SIGKILL after 30 s) and forget it in Redis."""
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
    for stale in Worker.all(connection=connection):
        stale.register_death()
