"""The worker process of ``bench.plan_bench``: ``baton worker --queues plans``, with or without preloading.

    python -m bench.plan_worker [--no-preload] [--scheduler]   (reads DATABASE_URL, REDIS_URL, … like ``baton worker``)

A module of its own so the worker imports only what ``baton worker`` does (the benchmark's own imports would
preload half of Baton and blur the difference it measures).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from baton.worker_process import run_worker
from core.settings import load_settings


def main(argv: list[str]) -> int:
    settings = load_settings(os.environ, default_home=Path(os.environ["BATON_HOME"]))
    run_worker(
        settings, queues=["plans"], with_scheduler="--scheduler" in argv, preload_jobs="--no-preload" not in argv
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
