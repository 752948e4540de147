"""One busy channel must not slow the others: plan cards elsewhere while 200 requests queue for one channel.

    python -m bench.busy_channel_bench [--busy 200] [--others 20] [--seconds 20] [--home DIR]

Baton posts to one channel about once a second (Slack's pace, ``workers/throttle.py``). A card whose turn is
later is posted by a job scheduled for that turn, so the worker goes on planning other channels' requests
instead of sleeping. Same set-up as ``bench.plan_bench`` (embedded Postgres + Redis, the local workspace, the
real web app, one real forking ``baton worker`` on ``plans`` with RQ's scheduler), in two phases:

    idle    ``--others`` mentions, each in a channel of its own, spread over ``--seconds``
    busy    the same, while ``--busy`` mentions arrive in one channel over the same ``--seconds``

and reports p50/p95 of mention -> card for the other channels in each phase, the ratio busy/idle (target:
p95 within 1.5x), and for the busy channel how long its last card took (bounded below by one turn a second).
The effects check: every mention one request and one card. Prints a Markdown table and writes
``bench/results/busy_channel_bench.json``.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

from bench._bot import running_bot
from bench._common import machine, markdown_table, ms, run_benchmark, stop_worker
from bench.plan_bench import ASK, USER, CardWatch, start_worker, wait_for_worker
from localslack import LocalSlack
from workers.api import connect_redis

BUSY_CHANNEL = "C0BUSY"


def _send(slack: LocalSlack, channels: list[str], seconds: float, first: int) -> list[tuple[float, str]]:
    """Mention the bot once in each of ``channels`` at an even pace over ``seconds`` (open loop)."""
    sent: list[tuple[float, str]] = []
    gap = seconds / max(1, len(channels))
    start = time.perf_counter()
    for i, channel in enumerate(channels):
        time.sleep(max(0.0, start + i * gap - time.perf_counter()))
        began = time.perf_counter()
        delivery = slack.post_as_user(USER, channel, ASK.format(bot=slack.identity.bot_user_id, n=first + i))
        sent.append((began, str(delivery.ts)))
    return sent


def _phase(slack: LocalSlack, watch: CardWatch, *, others: int, busy: int, seconds: float, first: int,
           timeout: float) -> dict[str, Any]:
    channels = [f"C0O{first + i:06d}" for i in range(others)]
    for channel in channels:
        slack.add_channel(channel, channel.lower())
    busy_sent: list[tuple[float, str]] = []
    sender = threading.Thread(
        target=lambda: busy_sent.extend(_send(slack, [BUSY_CHANNEL] * busy, seconds, first + 500)), daemon=True
    )
    if busy:
        sender.start()
    other_sent = _send(slack, channels, seconds, first)
    if busy:
        sender.join()
    other = [watch.wait(ts, timeout=timeout) - began for began, ts in other_sent]
    busy_done = [watch.wait(ts, timeout=timeout) - began for began, ts in busy_sent]
    return {"others": other, "busy": busy_done}


def run(args: argparse.Namespace) -> dict[str, Any]:
    with running_bot(args.home, prefix="baton-busy-bench-", embedding_provider="none") as bot:
        slack = bot.slack
        slack.add_channel(BUSY_CHANNEL, "busy")
        watch = CardWatch(slack)
        worker = start_worker(bot.settings, bot.home, preload=True, scheduler=True)
        try:
            wait_for_worker(bot.redis_url)
            _phase(slack, watch, others=3, busy=0, seconds=0.5, first=900_000, timeout=60)  # warm-up
            timeout = args.busy + 120.0  # the busy channel's last card comes about --busy seconds in
            idle = _phase(slack, watch, others=args.others, busy=0, seconds=args.seconds, first=0, timeout=timeout)
            busy = _phase(slack, watch, others=args.others, busy=args.busy, seconds=args.seconds, first=1000,
                          timeout=timeout)
            row = bot.counts()
            cards = sum(1 for call in slack.calls_to("chat.postMessage")
                        if any(b.get("type") == "header" for b in call.params.get("blocks") or []))
        finally:
            connection = connect_redis(bot.redis_url)
            stop_worker(worker, connection)
            connection.close()
    assert row is not None
    mentions = 3 + 2 * args.others + args.busy
    return {
        "machine": machine(),
        "args": vars(args),
        "latency_ms": {"idle": ms(idle["others"]), "busy": ms(busy["others"]), "busy_channel": ms(busy["busy"])},
        "others_ms_in_order": {phase: [round(s * 1000, 1) for s in run["others"]]
                               for phase, run in (("idle", idle), ("busy", busy))},
        "effects": {"mentions": mentions, "requests": row["requests"], "cards": row["cards"],
                    "card_posts": cards, "ok": row["requests"] == mentions == row["cards"] == cards},
    }


def report(results: dict[str, Any]) -> str:
    latency, args, effects = results["latency_ms"], results["args"], results["effects"]
    idle, busy, channel = latency["idle"], latency["busy"], latency["busy_channel"]
    return "\n".join([
        f"Other channels' plan cards while one channel is busy, {results['machine']['date']}, "
        f"{results['machine']['cores']} cores, one forking `baton worker` on `plans` with RQ's scheduler; "
        f"{args['others']} mentions in other channels and {args['busy']} in one channel over {args['seconds']} s",
        "",
        markdown_table(
            ["phase", "other channels' cards", "p50 ms", "p95 ms", "p95 / idle p95"],
            [["idle", idle["n"], idle["p50"], idle["p95"], 1.0],
             [f"busy ({args['busy']} in one channel)", busy["n"], busy["p50"], busy["p95"],
              busy["p95"] / idle["p95"]]],
        ),
        "",
        f"The busy channel: {channel['n']} cards, one a turn; the last {channel['max'] / 1000:.1f} s after its "
        f"mention (p50 {channel['p50'] / 1000:.1f} s).",
        f"Effects check ({'ok' if effects['ok'] else 'FAILED'}): {effects['mentions']} mentions -> "
        f"{effects['requests']} requests, {effects['cards']} plans with a card, {effects['card_posts']} card posts.",
    ])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.busy_channel_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--busy", type=int, default=200, help="mentions in the busy channel")
    parser.add_argument("--others", type=int, default=20, help="mentions in other channels (one channel each)")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long each phase's mentions are spread over")
    parser.add_argument("--home", help="state folder for the embedded servers (default: a temporary one)")
    return run_benchmark("busy_channel_bench", parser.parse_args(argv), run, report)


if __name__ == "__main__":
    sys.exit(main())
