"""Planning throughput with 1, 2 and 4 ``baton worker`` processes on the same Postgres and Redis.

    python -m bench.scale_bench [--requests 200] [--workers 1,2,4] [--home DIR]

Same set-up as ``bench.plan_bench`` (embedded Postgres + Redis, the local workspace, the real web app, real
forking workers on ``plans``; the rules planner, no model, no embeddings). For each worker count: RQ's
workers are suspended, the workers start and register, ``--requests`` mentions arrive (each in a channel of
its own, so the one-post-a-second pace per channel does not enter), then the workers are resumed and the
clock runs until the last plan card is posted. Reports requests/s per worker count and the ratio to one
worker, next to the machine's core count (the workers share those cores with Postgres, Redis and the web
process). The effects check: every mention one request and one card. Writes ``bench/results/scale_bench.json``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from typing import Any

from rq import Worker
from rq.suspension import resume, suspend

from bench._bot import running_bot
from bench._common import machine, markdown_table, run_benchmark, stop_worker
from bench.plan_bench import ASK, USER, CardWatch, start_worker
from core.settings import Settings
from localslack import LocalSlack
from workers.api import connect_redis


def _round(settings: Settings, home: Any, slack: LocalSlack, watch: CardWatch, *, workers: int, requests: int,
           first: int) -> float:
    """Seconds from resuming ``workers`` suspended workers to the last of ``requests`` cards."""
    assert settings.redis_url is not None
    connection = connect_redis(settings.redis_url)
    suspend(connection)
    processes = [start_worker(settings, home, preload=True) for _ in range(workers)]
    try:
        deadline = time.monotonic() + 120
        while len(Worker.all(connection=connection)) < workers:
            if time.monotonic() > deadline:
                raise TimeoutError("the workers did not register")
            time.sleep(0.05)
        threads = []
        for n in range(first, first + requests):
            channel = f"C0S{n:06d}"
            slack.add_channel(channel, f"scale-{n}")
            delivery = slack.post_as_user(USER, channel, ASK.format(bot=slack.identity.bot_user_id, n=n))
            threads.append(str(delivery.ts))
        started = time.perf_counter()
        resume(connection)
        last = max(watch.wait(ts, timeout=300) for ts in threads)
        return last - started
    finally:
        for process in processes:
            stop_worker(process, connection)
        connection.close()


def run(args: argparse.Namespace) -> dict[str, Any]:
    counts = [int(n) for n in args.workers.split(",")]
    with running_bot(args.home, prefix="baton-scale-bench-", embedding_provider="none") as bot:
        watch = CardWatch(bot.slack)
        _round(bot.settings, bot.home, bot.slack, watch, workers=1, requests=10, first=900_000)  # warm-up
        seconds = {}
        for index, workers in enumerate(counts):
            seconds[workers] = _round(bot.settings, bot.home, bot.slack, watch, workers=workers,
                                      requests=args.requests, first=index * 10_000)
        row = bot.counts()
    mentions = 10 + args.requests * len(counts)
    return {
        "machine": machine(),
        "args": vars(args),
        "seconds": {str(k): v for k, v in seconds.items()},
        "per_second": {str(k): args.requests / v for k, v in seconds.items()},
        "effects": {"mentions": mentions, "requests": row["requests"], "cards": row["cards"],
                    "ok": row["requests"] == mentions == row["cards"]},
    }


def report(results: dict[str, Any]) -> str:
    rates = results["per_second"]
    base = next(iter(rates.values()))
    rows = [[f"{k} worker{'s' if k != '1' else ''}", results["args"]["requests"], results["seconds"][k], rate,
             rate / base] for k, rate in rates.items()]
    effects = results["effects"]
    return "\n".join([
        f"Planning throughput by worker count, {results['machine']['date']}, {results['machine']['cores']} cores "
        "(shared with Postgres, Redis and the web process), rules planner, one channel per request",
        "",
        markdown_table(["workers", "requests", "seconds", "requests/s", "vs 1 worker"], rows),
        "",
        f"Effects check ({'ok' if effects['ok'] else 'FAILED'}): {effects['mentions']} mentions -> "
        f"{effects['requests']} requests, {effects['cards']} cards.",
    ])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="mentions per worker count")
    parser.add_argument("--workers", default="1,2,4", help="worker counts, comma-separated")
    parser.add_argument("--home", help="state folder for the embedded servers (default: a temporary one)")
    return run_benchmark("scale_bench", parser.parse_args(argv), run, report)


if __name__ == "__main__":
    sys.exit(main())
