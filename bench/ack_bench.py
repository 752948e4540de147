"""How fast the bot acknowledges Slack events, against a no-op endpoint on the same server.

    python -m bench.ack_bench [--requests 300] [--home DIR]

Starts embedded PostgreSQL + Redis in a temporary state folder, migrates, starts the local Slack
workspace (``LocalSlack``, the Web API the bot calls after the ack) and the bot's real ``WebServer``
on 127.0.0.1:0 in a thread, as the test harness does. A client on loopback (one keep-alive
connection, so TCP set-up is not in the numbers) then sends, interleaved request by request:

    healthz       GET /healthz: the aiohttp floor, the same-run baseline
    app_mention   a signed mention (unique event_id and ts): signature check, event + request +
                  audit rows in one Postgres transaction, then the 200; the job is enqueued after it
    message       the signed ``message`` event Slack sends next to a mention: stores the message copy
    bad_signature the same mention signed with the wrong secret: refused with 401 before any SQL

Afterwards it checks that every mention became exactly one recorded event, one request and one
queued job, and that no forged request left a trace. Prints a Markdown table and writes
``bench/results/ack_bench.json``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import secrets
import sys
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from baton.web_server import WebServer
from bench._common import machine, markdown_table, ms, run_benchmark, state_folder
from core import defaults
from core.settings import Settings
from localslack import LocalSlack, payloads, signed_headers
from localslack.state import Channel
from memory.db import connect
from memory.embedded import EmbeddedServices
from memory.migrate import migrate
from workers.api import connect_redis, get_queue

BOT_TOKEN = "xoxb-bench-token"
CHANNEL = Channel(id="C0GENERAL", name="general")
USER = "U0ALICE"
WARMUP = 20
#: A short gap between rounds, so each request meets a server that has finished the last one's
#: after-ack work (enqueue, reaction): this measures latency, not throughput under a flood.
PAUSE_SECONDS = 0.005
#: Slack's limit for the ack, and Baton's own goal.
SLACK_LIMIT_MS = 3000.0
KINDS = ("healthz", "app_mention", "message", "bad_signature")


class Client:
    """One keep-alive HTTP/1.1 connection to the bot, timing each request to the last byte of the reply."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self._conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)

    def request(self, method: str, path: str, *, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, float]:
        started = time.perf_counter()
        self._conn.request(method, path, body=body, headers=headers or {})
        reply = self._conn.getresponse()
        reply.read()
        return reply.status, time.perf_counter() - started

    def close(self) -> None:
        self._conn.close()


class Deliveries:
    """Signed Events API bodies shaped by the local workspace's payload builders, unique per call."""

    def __init__(self, slack: LocalSlack) -> None:
        self.identity = slack.identity
        self.prefix = secrets.token_hex(3).upper()
        self.count = 0

    def mention(self) -> dict[str, bytes]:
        """Bodies for one new mention: its ``message`` and ``app_mention`` events, and a copy to forge."""
        self.count += 1
        now = time.time()
        ts = f"{int(now)}.{self.count:06d}"
        text = f"<@{self.identity.bot_user_id}> deploy api to staging (bench {self.count})"
        message = payloads.user_message(self.identity, USER, text, ts)
        events = {"message": ("M", payloads.message_event(message, CHANNEL)),
                  "app_mention": ("A", payloads.app_mention_event(message, CHANNEL)),
                  "bad_signature": ("F", payloads.app_mention_event(message, CHANNEL))}
        return {
            kind: json.dumps(payloads.event_envelope(self.identity, event, event_time=int(now),
                                                     event_id=f"Ev{self.prefix}{tag}{self.count:06d}")).encode()
            for kind, (tag, event) in events.items()
        }


def run_rounds(client: Client, deliveries: Deliveries, secret: str, rounds: int) -> dict[str, list[float]]:
    """``rounds`` interleaved rounds of every kind; returns durations in seconds by kind."""
    seconds: dict[str, list[float]] = {kind: [] for kind in KINDS}
    for _ in range(rounds):
        bodies = deliveries.mention()
        for kind in KINDS:
            if kind == "healthz":
                status, took = client.request("GET", "/healthz")
                wanted = 200
            else:
                body = bodies[kind]
                signer = "not-the-signing-secret" if kind == "bad_signature" else secret
                status, took = client.request("POST", "/slack/events", body=body,
                                              headers=signed_headers(signer, body))
                wanted = 401 if kind == "bad_signature" else 200
            if status != wanted:
                raise RuntimeError(f"{kind}: HTTP {status}, expected {wanted}")
            seconds[kind].append(took)
            time.sleep(PAUSE_SECONDS)
    return seconds


def check_effects(database_url: str, redis_url: str, slack: LocalSlack, deliveries: Deliveries) -> dict[str, Any]:
    """What the run left behind, compared with what every mention should have left."""
    redis = connect_redis(redis_url)
    queues = [get_queue(name, connection=redis) for name in defaults.QUEUES]
    deadline = time.monotonic() + 10
    while sum(queue.count for queue in queues) < deliveries.count and time.monotonic() < deadline:
        time.sleep(0.05)  # the enqueue runs just after the ack
    jobs = sum(queue.count for queue in queues)
    redis.close()
    prefix = f"Ev{deliveries.prefix}"
    with connect(database_url) as conn:
        row = conn.execute(
            """
            SELECT (SELECT count(*) FROM slack_events WHERE event_id LIKE %(p)s || 'A%%') AS mention_events,
                   (SELECT count(*) FROM slack_events WHERE event_id LIKE %(p)s || 'M%%') AS message_events,
                   (SELECT count(*) FROM slack_events WHERE event_id LIKE %(p)s || 'F%%') AS forged_events,
                   (SELECT count(*) FROM channel_messages) AS messages,
                   (SELECT count(*) FROM requests) AS requests
            """,
            {"p": prefix},
        ).fetchone()
    assert row is not None
    effects = dict(row) | {"queued_jobs": jobs, "reactions_added": len(slack.calls_to("reactions.add"))}
    n = deliveries.count
    effects["ok"] = (effects["mention_events"] == n and effects["message_events"] == n
                     and effects["forged_events"] == 0 and effects["messages"] == n
                     and effects["requests"] == n and jobs == n)
    effects["expected_each"] = n
    return effects


def run(args: argparse.Namespace) -> dict[str, Any]:
    secret = "bench-signing-secret-" + secrets.token_hex(8)
    with state_folder(args.home, prefix="baton-ack-bench-") as home:
        services = EmbeddedServices(home)
        slack = LocalSlack(bot_token=BOT_TOKEN, signing_secret=secret).start()
        server: WebServer | None = None
        client: Client | None = None
        try:
            database_url, redis_url = services.ensure_postgres(), services.ensure_redis()
            with connect(database_url) as conn:
                migrate(conn)
            settings = Settings(baton_home=home, slack_bot_token=BOT_TOKEN, slack_signing_secret=secret,
                                slack_api_url=slack.api_url, database_url=database_url, redis_url=redis_url,
                                port=0)
            server = WebServer(settings, host="127.0.0.1", port=0)
            url = server.start_in_thread()
            client = Client(url)
            deliveries = Deliveries(slack)
            run_rounds(client, deliveries, secret, WARMUP)  # first-use costs: pools, bolt's auth.test
            seconds = run_rounds(client, deliveries, secret, args.requests)
            effects = check_effects(database_url, redis_url, slack, deliveries)
        finally:
            if client is not None:
                client.close()
            if server is not None:
                server.stop_thread()
            slack.stop()
            services.release()
    latency = {kind: ms(values) for kind, values in seconds.items()}
    base = latency["healthz"]
    return {
        "machine": machine(),
        "args": vars(args),
        "warmup_rounds": WARMUP,
        "pause_seconds": PAUSE_SECONDS,
        "latency_ms": latency,
        "ratio_to_healthz": {kind: {"p50": latency[kind]["p50"] / base["p50"],
                                    "p95": latency[kind]["p95"] / base["p95"]} for kind in KINDS},
        "slack_limit_ms": SLACK_LIMIT_MS,
        "effects": effects,
    }


def report(results: dict[str, Any]) -> str:
    labels = {
        "healthz": "GET /healthz (baseline)",
        "app_mention": "signed app_mention -> event + request + audit, then 200",
        "message": "signed message event -> event + message copy, then 200",
        "bad_signature": "forged signature -> 401",
    }
    latency, ratio = results["latency_ms"], results["ratio_to_healthz"]
    rows = [[labels[kind], latency[kind]["n"], latency[kind]["p50"], latency[kind]["p95"], latency[kind]["p99"],
             latency[kind]["max"], ratio[kind]["p50"], ratio[kind]["p95"]] for kind in KINDS]
    effects = results["effects"]
    mention = latency["app_mention"]
    return "\n".join([
        f"Slack ack latency, {results['machine']['date']}, {results['machine']['cores']} cores, loopback, "
        f"one keep-alive connection, {results['warmup_rounds']} warm-up rounds",
        "",
        markdown_table(["request", "n", "p50 ms", "p95 ms", "p99 ms", "max ms", "p50 / healthz", "p95 / healthz"],
                       rows),
        "",
        f"Slack's limit is {results['slack_limit_ms']:.0f} ms: the slowest mention ack ({mention['max']:.1f} ms) "
        f"used {100 * mention['max'] / results['slack_limit_ms']:.1f}% of it.",
        f"Effects check ({'ok' if effects['ok'] else 'FAILED'}): {effects['expected_each']} mentions -> "
        f"{effects['mention_events']} app_mention events, {effects['message_events']} message events, "
        f"{effects['messages']} message copies, {effects['requests']} requests, {effects['queued_jobs']} queued jobs, "
        f"{effects['reactions_added']} reactions; forged requests recorded: {effects['forged_events']}.",
    ])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ack_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="measured rounds (one request of each kind)")
    parser.add_argument("--home", help="state folder for the embedded servers (default: a temporary one)")
    return run_benchmark("ack_bench", parser.parse_args(argv), run, report)


if __name__ == "__main__":
    sys.exit(main())
