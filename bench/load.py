"""Acks under open-loop load: Baton's web process (with a worker running) against a bare bolt app, same run.

    python -m bench.load [--rates 50,100,200,400,800] [--seconds 4] [--repetitions 3] [--home DIR]

Starts embedded PostgreSQL + Redis in a temporary state folder, the local Slack workspace (the Web API Baton
calls after the ack), ``baton serve`` and ``baton worker`` as real processes, and ``bench.bare_bolt`` (a
slack-bolt ``AsyncApp`` whose listeners only ack) as the baseline. For each rate and repetition, interleaved
(Baton, then bare bolt), an asyncio client sends signed requests at a fixed rate for ``--seconds``, each at
its scheduled moment whether or not earlier ones have been answered (open loop: a slow server meets the same
arrivals, as it would from Slack), over a pool of keep-alive connections. The mix, per ten requests:

    5 app_mention in a channel (with the ``message`` event Slack sends beside it: counted, not timed)
    2 a DM to the bot (``message`` in an ``im``)
    2 ``/baton <request>`` (form-encoded slash command)
    1 a click on a plan card's Approve for a plan that does not exist (``block_actions``)

It reports p50/p95/p99 of the time to the full answer per rate (the median of the repetitions) and the ratio
to bare bolt, and checks the rows: every mention, DM and command exactly one request, and no answer >= 500.
Prints a Markdown table and writes ``bench/results/load.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

import aiohttp

from bench._common import machine, markdown_table, ms, run_benchmark, state_folder
from localslack import LocalSlack, payloads, signed_headers
from localslack.state import Channel, User
from memory.db import connect
from memory.embedded import EmbeddedServices
from memory.migrate import migrate
from workers.api import connect_redis
from workers.spool import spooled_count

BOT_TOKEN = "xoxb-bench-token"
CHANNEL = Channel(id="C0GENERAL", name="general")
DM = Channel(id="D0ALICE", name="alice", user="U0ALICE")
USER = "U0ALICE"
#: The words of Baton's answer when it could not record a command in time (slackui.replies.DATABASE_UNAVAILABLE),
#: and the pseudo-status a reply carrying them is counted under.
RETRY_LATER = b"try again in a moment"
TOLD_TO_RETRY = 1000
#: Per ten requests: what each slot sends.
MIX = ("mention",) * 5 + ("dm",) * 2 + ("command",) * 2 + ("click",)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Bodies:
    """Signed request bodies of the mix, unique per call (event ids, timestamps, trigger ids)."""

    def __init__(self, slack: LocalSlack, secret: str) -> None:
        self.identity, self.secret = slack.identity, secret
        self.prefix = secrets.token_hex(3).upper()
        self.count = 0
        self.expected_requests = 0

    def _event(self, event: dict[str, Any], tag: str) -> bytes:
        envelope = payloads.event_envelope(
            self.identity, event, event_id=f"Ev{self.prefix}{tag}{self.count:07d}", event_time=int(time.time())
        )
        return json.dumps(envelope).encode()

    def next(self, kind: str) -> list[tuple[bytes, dict[str, str], bool]]:
        """The requests for one item of the mix: (body, headers, timed)."""
        self.count += 1
        ts = f"{int(time.time())}.{self.count:06d}"
        json_type = "application/json"
        if kind in ("mention", "dm"):
            channel = CHANNEL if kind == "mention" else DM
            mention = f"<@{self.identity.bot_user_id}> " if kind == "mention" else ""
            message = payloads.user_message(self.identity, USER, f"{mention}post load {self.count} to #ops", ts)
            self.expected_requests += 1
            bodies = [(self._event(payloads.message_event(message, channel), "M"), kind == "dm")]
            if kind == "mention":
                bodies.insert(0, (self._event(payloads.app_mention_event(message, channel), "A"), True))
            return [(body, signed_headers(self.secret, body, content_type=json_type), timed) for body, timed in bodies]
        if kind == "command":
            self.expected_requests += 1
            form = urlencode(payloads.slash_command_fields(
                self.identity,
                _user(),
                CHANNEL,
                command="/baton",
                text=f"post load {self.count} to #ops",
                response_url="http://127.0.0.1:9/response",
                trigger_id=f"T{self.prefix}{self.count:07d}",
            )).encode()
        else:
            message = {"type": "message", "ts": ts, "text": "card", "blocks": []}
            action = {
                "action_id": "plan_approve",
                "block_id": "b",
                "type": "button",
                "value": "999999999",
                "action_ts": ts,
            }
            payload = payloads.block_actions_payload(
                self.identity,
                _user(),
                CHANNEL,
                message=message,
                is_ephemeral=False,
                action=action,
                trigger_id=f"T{self.prefix}{self.count:07d}",
                response_url="http://127.0.0.1:9/response",
            )
            form = urlencode({"payload": json.dumps(payload)}).encode()
        form_type = "application/x-www-form-urlencoded"
        return [(form, signed_headers(self.secret, form, content_type=form_type), True)]


def _user() -> User:
    return User(id=USER, name="alice", real_name="Alice")


async def _send_at_rate(
    url: str,
    planned: list[list[tuple[bytes, dict[str, str], bool]]],
    rate: float,
) -> tuple[list[float], list[int]]:
    latencies: list[float] = []
    statuses: list[int] = []
    connector = aiohttp.TCPConnector(limit=256)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def one(requests: list[tuple[bytes, dict[str, str], bool]]) -> None:
            for body, headers, timed in requests:
                started = time.perf_counter()
                try:
                    async with session.post(url, data=body, headers=headers) as reply:
                        body = await reply.read()
                        status = reply.status
                        if RETRY_LATER in body:
                            status = TOLD_TO_RETRY
                except (TimeoutError, aiohttp.ClientError):
                    status = 599
                if timed:
                    latencies.append(time.perf_counter() - started)
                statuses.append(status)

        start = time.perf_counter() + 0.05
        tasks = []
        for i, requests in enumerate(planned):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(requests)))
        await asyncio.gather(*tasks)
    return latencies, statuses


def _wait_up(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not come up") from None
            time.sleep(0.1)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _requests_made(database_url: str) -> int:
    with connect(database_url) as conn:
        row = conn.execute("SELECT count(*) AS n FROM requests").fetchone()
    assert row is not None
    return int(row["n"])


def run(args: argparse.Namespace) -> dict[str, Any]:
    secret = "bench-signing-secret-" + secrets.token_hex(8)
    rates = [float(rate) for rate in args.rates.split(",")]
    processes: list[subprocess.Popen[bytes]] = []
    with state_folder(args.home, prefix="baton-load-bench-") as home:
        services = EmbeddedServices(home)
        slack = LocalSlack(bot_token=BOT_TOKEN, signing_secret=secret).start()
        try:
            database_url, redis_url = services.ensure_postgres(), services.ensure_redis()
            with connect(database_url) as conn:
                migrate(conn)
            baton_port, bare_port = free_port(), free_port()
            env = dict(
                os.environ,
                BATON_HOME=str(home),
                DATABASE_URL=database_url,
                REDIS_URL=redis_url,
                SLACK_BOT_TOKEN=BOT_TOKEN,
                SLACK_SIGNING_SECRET=secret,
                SLACK_API_URL=slack.api_url,
                BATON_EMBEDDING_PROVIDER="none",
                BATON_LOG_LEVEL="WARNING",
                PORT=str(baton_port),
            )
            for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
                env.pop(name, None)
            quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
            processes.append(
                subprocess.Popen([sys.executable, "-m", "baton.cli", "serve", "--host", "127.0.0.1"], env=env, **quiet)
            )  # type: ignore[call-overload]
            if not args.no_worker:
                processes.append(subprocess.Popen([sys.executable, "-m", "baton.cli", "worker"], env=env, **quiet))  # type: ignore[call-overload]
            processes.append(
                subprocess.Popen([sys.executable, "-m", "bench.bare_bolt", str(bare_port)], env=env, **quiet)
            )  # type: ignore[call-overload]
            targets = {"baton": f"http://127.0.0.1:{baton_port}", "bare bolt": f"http://127.0.0.1:{bare_port}"}
            _wait_up(targets["baton"] + "/healthz")
            _wait_up_post(targets["bare bolt"] + "/slack/events")
            bodies = Bodies(slack, secret)
            runs: dict[str, dict[str, list[dict[str, float]]]] = {}
            errors = told = 0
            asyncio.run(
                _send_at_rate(
                    targets["baton"] + "/slack/events", [bodies.next(MIX[i % len(MIX)]) for i in range(50)], 50
                )
            )  # warm-up
            before, bodies.expected_requests = _requests_made(database_url), 0
            for rate in rates:
                runs[str(int(rate))] = {"baton": [], "bare bolt": []}
                for _ in range(args.repetitions):
                    for name, url in targets.items():
                        counted = bodies.expected_requests
                        planned = [bodies.next(MIX[i % len(MIX)]) for i in range(int(rate * args.seconds))]
                        if name != "baton":
                            bodies.expected_requests = counted  # bare bolt records nothing
                        latencies, statuses = asyncio.run(_send_at_rate(url + "/slack/events", planned, rate))
                        if name == "baton":
                            errors += sum(1 for status in statuses if 500 <= status < TOLD_TO_RETRY)
                            told += sum(1 for status in statuses if status == TOLD_TO_RETRY)
                        runs[str(int(rate))][name].append(ms(latencies))
            # An event the web process could not record in time (its pool waits at most 1 s under this load) is
            # acked and kept in the spool, then recorded by the replay: count once the spool is empty.
            spool = connect_redis(redis_url)
            deadline = time.monotonic() + 120
            while spooled_count(spool) and time.monotonic() < deadline:
                time.sleep(0.5)
            spooled_left = spooled_count(spool)
            spool.close()
            made = _requests_made(database_url) - before
        finally:
            for process in processes:
                _stop(process)
            slack.stop()
            services.release()
    sent = bodies.expected_requests
    # A command the web process could not record in time is answered "try again in a moment" in its ack (the
    # person knows; nothing is kept): it is not a lost request. Mentions and DMs are never answered so.
    effects = {"sent": sent, "requests": made, "told_to_retry": told, "errors": errors, "spooled_left": spooled_left,
               "ok": made + told == sent and errors == 0}
    return {"machine": machine(), "args": vars(args), "runs": runs, "effects": effects}


def _wait_up_post(url: str, timeout: float = 60.0) -> None:
    """Bare bolt has no health route: wait until its port answers (401 to an unsigned POST)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(urllib.request.Request(url, data=b"{}", method="POST"), timeout=2)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not come up") from None
            time.sleep(0.1)


def _median(runs: list[dict[str, float]], key: str) -> float:
    return float(statistics.median(run[key] for run in runs))


def report(results: dict[str, Any]) -> str:
    rows = []
    for rate, by_server in results["runs"].items():
        baton, bare = by_server["baton"], by_server["bare bolt"]
        row: list[Any] = [rate]
        for key in ("p50", "p95", "p99"):
            row += [_median(baton, key), _median(bare, key)]
        row += [_median(baton, "p99") / _median(bare, "p99")]
        rows.append(row)
    effects = results["effects"]
    return "\n".join(
        [
            f"Open-loop acks, {results['machine']['date']}, {results['machine']['cores']} cores, "
            f"{results['args']['seconds']} s per run, "
            f"median of {results['args']['repetitions']} interleaved repetitions",
            "",
            markdown_table(
                [
                    "events/s",
                    "Baton p50 ms",
                    "bare p50 ms",
                    "Baton p95 ms",
                    "bare p95 ms",
                    "Baton p99 ms",
                    "bare p99 ms",
                    "p99 ratio",
                ],
                rows,
            ),
            "",
            f"Effects check ({'ok' if effects['ok'] else 'FAILED'}): {effects['sent']} mentions, DMs and commands "
            f"-> {effects['requests']} requests and {effects['told_to_retry']} told to try again in a moment; "
        f"answers >= 500: {effects['errors']}.",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="50,100,200,400,800", help="events per second, comma-separated")
    parser.add_argument("--seconds", type=float, default=4.0, help="how long each run sends")
    parser.add_argument("--repetitions", type=int, default=3, help="interleaved repetitions per rate")
    parser.add_argument("--no-worker", action="store_true",
                        help="no `baton worker` (the ack path alone, without the planning competing for the CPU)")
    parser.add_argument("--home", help="state folder for the embedded servers (default: a temporary one)")
    return run_benchmark("load", parser.parse_args(argv), run, report)


if __name__ == "__main__":
    sys.exit(main())
