"""Mention -> plan card with no model, against RQ's own floor, with and without the job modules preloaded.

    python -m bench.plan_bench [--rounds 30] [--home DIR]

Starts embedded PostgreSQL + Redis in a temporary state folder, the local Slack workspace and the bot's real
``WebServer`` in a thread (as ``bench.ack_bench`` does), then, for each worker variant in turn, a real
``baton worker`` process (RQ forks a work horse per job) listening on the ``plans`` queue:

    preloaded       ``run_worker`` as ``baton worker`` runs it: every job module imported before forking
    not preloaded   the same worker with ``preload_jobs=False``: each horse imports the planner itself

Interleaved round by round it measures

    floor           an empty job (``os.getpid``) enqueued on ``plans``: enqueue -> fork -> result, RQ's floor
    mention->card   a user's mention (delivered by the local workspace, signed) until the plan card is posted
                    in its thread: ack, enqueue, fork, plan_request (rules planner: no model; embeddings
                    off), card. Each round asks in a channel of its own, so Baton's one-post-a-second
                    spacing per channel (``workers/throttle.py``) does not enter the numbers.

and reports p50/p95 of each with the ratio to the floor of the same variant. Prints a Markdown table and
writes ``bench/results/plan_bench.json``. The worker processes are ``bench.plan_worker``.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rq import Queue, Worker

from bench._bot import BOT_TOKEN, running_bot
from bench._common import machine, markdown_table, ms, run_benchmark, stop_worker
from core.settings import Settings
from localslack import LocalSlack
from workers.api import connect_redis

USER = "U0ALICE"
WARMUP = 3
VARIANTS = ("preloaded", "not preloaded")
#: A mention the rules planner turns into a plan that waits for approval (so its card is posted).
ASK = "<@{bot}> post Release {n} is out to <#C0OPS|ops>"


class CardWatch:
    """Wakes a waiter when the plan card for a given thread is posted."""

    def __init__(self, slack: LocalSlack) -> None:
        self._posted: dict[str, float] = {}
        self._cond = threading.Condition()
        slack.on_post(self._seen)

    def _seen(self, event: dict[str, Any]) -> None:
        message = event.get("message") or {}
        if event.get("method") != "chat.postMessage":
            return
        if not any(block.get("type") == "header" for block in message.get("blocks") or []):
            return
        with self._cond:
            self._posted[str(message.get("thread_ts") or "")] = time.perf_counter()
            self._cond.notify_all()

    def wait(self, thread_ts: str, timeout: float = 30.0) -> float:
        deadline = time.monotonic() + timeout
        with self._cond:
            while thread_ts not in self._posted:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no card for the mention at {thread_ts}")
                self._cond.wait(left)
            return self._posted[thread_ts]


def start_worker(settings: Settings, home: Path, *, preload: bool, scheduler: bool = False) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(BATON_HOME=str(home), DATABASE_URL=settings.database_url or "", REDIS_URL=settings.redis_url or "",
               SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_API_URL=settings.slack_api_url, BATON_EMBEDDING_PROVIDER="none",
               BATON_LOG_LEVEL="WARNING")
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        env.pop(name, None)  # the rules planner: this measures Baton, not a model
    command = [sys.executable, "-m", "bench.plan_worker"] + ([] if preload else ["--no-preload"])
    command += ["--scheduler"] if scheduler else []
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)


def wait_for_worker(redis_url: str, timeout: float = 60.0) -> None:
    connection = connect_redis(redis_url)
    deadline = time.monotonic() + timeout
    while not Worker.all(connection=connection):
        if time.monotonic() > deadline:
            raise TimeoutError("the worker did not register with Redis")
        time.sleep(0.05)
    connection.close()


def floor_round(queue: Queue) -> float:
    started = time.perf_counter()
    job = queue.enqueue("os.getpid", job_id=f"floor-{secrets.token_hex(6)}")
    result = job.latest_result(timeout=30)
    if result is None or result.type != result.Type.SUCCESSFUL:
        raise RuntimeError(f"the empty job did not succeed: {result}")
    return time.perf_counter() - started


def mention_round(slack: LocalSlack, watch: CardWatch, n: int) -> float:
    channel = f"C0B{n:06d}"
    slack.add_channel(channel, f"bench-{n}")
    started = time.perf_counter()
    delivery = slack.post_as_user(USER, channel, ASK.format(bot=slack.identity.bot_user_id, n=n))
    return watch.wait(str(delivery.ts)) - started


def run_variant(settings: Settings, home: Path, slack: LocalSlack, watch: CardWatch, *, preload: bool,
                rounds: int, first: int) -> dict[str, list[float]]:
    assert settings.redis_url is not None
    worker = start_worker(settings, home, preload=preload)
    connection = connect_redis(settings.redis_url)
    try:
        wait_for_worker(settings.redis_url)
        queue = Queue("plans", connection=connection)
        seconds: dict[str, list[float]] = {"floor": [], "mention_card": []}
        for i in range(WARMUP + rounds):
            floor, card = floor_round(queue), mention_round(slack, watch, first + i)
            if i >= WARMUP:
                seconds["floor"].append(floor)
                seconds["mention_card"].append(card)
        return seconds
    finally:
        stop_worker(worker, connection)
        connection.close()


def run(args: argparse.Namespace) -> dict[str, Any]:
    with running_bot(args.home, prefix="baton-plan-bench-", embedding_provider="none") as bot:
        watch = CardWatch(bot.slack)
        seconds = {}
        for index, variant in enumerate(VARIANTS):
            seconds[variant] = run_variant(bot.settings, bot.home, bot.slack, watch, preload=variant == "preloaded",
                                           rounds=args.rounds, first=index * 1000)
        row = bot.counts()
    latency = {variant: {kind: ms(values) for kind, values in kinds.items()} for variant, kinds in seconds.items()}
    mentions = len(VARIANTS) * (WARMUP + args.rounds)
    return {
        "machine": machine(),
        "args": vars(args),
        "warmup_rounds": WARMUP,
        "latency_ms": latency,
        "effects": {"mentions": mentions, "requests": row["requests"], "cards": row["cards"],
                    "ok": row["requests"] == mentions == row["cards"]},
    }


def report(results: dict[str, Any]) -> str:
    rows = []
    for variant, kinds in results["latency_ms"].items():
        floor, card = kinds["floor"], kinds["mention_card"]
        rows.append([variant, card["n"], floor["p50"], floor["p95"], card["p50"], card["p95"],
                     card["p50"] / floor["p50"], card["p95"] / floor["p95"]])
    effects = results["effects"]
    return "\n".join([
        f"Mention -> plan card (rules planner, no model), {results['machine']['date']}, "
        f"{results['machine']['cores']} cores, a forking `baton worker` on `plans`, "
        f"{results['warmup_rounds']} warm-up rounds per variant",
        "",
        markdown_table(["worker", "n", "floor p50 ms", "floor p95 ms", "card p50 ms", "card p95 ms",
                        "card/floor p50", "card/floor p95"], rows),
        "",
        f"Effects check ({'ok' if effects['ok'] else 'FAILED'}): {effects['mentions']} mentions -> "
        f"{effects['requests']} requests, {effects['cards']} cards.",
    ])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.plan_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30, help="measured rounds per worker variant")
    parser.add_argument("--home", help="state folder for the embedded servers (default: a temporary one)")
    return run_benchmark("plan_bench", parser.parse_args(argv), run, report)


if __name__ == "__main__":
    sys.exit(main())
