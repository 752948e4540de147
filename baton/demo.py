"""``baton demo``: Baton's main job on embedded defaults, in the terminal (or ``--web``, in a browser).

Starts the embedded Postgres and Redis (unless URLs are set), the local Slack workspace, the bot's
HTTP app and a worker process, then lets a person act in the workspace (:mod:`baton.demo_session`): type
a message to post it as yourself in the channel, ``/click <label>`` to press a button Baton showed,
``/baton ...`` for the slash command. ``--script FILE`` plays a file of such turns (one per line, ``#``
comments) and exits.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from rq import Queue, Worker
from rq.registry import ScheduledJobRegistry, StartedJobRegistry
from slack_sdk import WebClient

from baton import demo_git
from baton.backends import migrate_database, resolve_backends
from baton.config import CommandError
from baton.demo_session import DemoSession
from baton.demo_terminal import Terminal
from baton.demo_web import MESSAGE_SHORTCUTS, page_url, serve_until_stopped
from baton.web_server import WebServer
from connectors.slack_clients import plain_client
from core import defaults
from core.settings import Settings
from localslack import LocalSlack
from workers.api import connect_redis

#: How long to wait for the bot to finish reacting to one turn before moving on.
SETTLE_TIMEOUT_SECONDS = 30.0
#: How long the worker may take to start (it loads the embedding model) before the demo gives up.
WORKER_START_TIMEOUT_SECONDS = 180.0


def run_demo(
    settings: Settings,
    *,
    script: Path | None,
    channel: str,
    user: str,
    out: TextIO = sys.stdout,
    stdin: TextIO = sys.stdin,
    in_browser: bool = False,
    stop: threading.Event | None = None,
) -> int:
    """Run the demo; returns the process exit code.

    ``in_browser`` serves the workspace as a web page instead of the terminal, until Ctrl-C (or ``stop`` is set).
    """
    if script is not None and not script.is_file():
        raise CommandError(f"--script {script}: no such file")
    token, secret = "xoxb-local-demo", secrets.token_hex(16)
    slack = LocalSlack(bot_token=token, signing_secret=secret).start()
    settings = settings.with_changes(slack_bot_token=token, slack_signing_secret=secret, slack_api_url=slack.api_url)
    web = plain_client(settings)
    terminal = Terminal(out, web)
    terminal.say("Baton demo: a local Slack workspace on this machine (no Slack account needed).")
    terminal.say(
        "Model: "
        + (
            f"{settings.chat_model} via {settings.openai_base_url or 'OpenAI'}"
            if settings.llm_configured
            else "none configured: DEGRADED MODE (rule-based only; set OPENAI_API_KEY to enable the model)"
        )
    )
    terminal.say(
        "Starting PostgreSQL + pgvector and Redis"
        + (
            " (embedded, data in " + str(settings.baton_home) + ")"
            if not (settings.database_url and settings.redis_url)
            else ""
        )
        + "..."
    )
    settings, services = resolve_backends(settings)
    server: WebServer | None = None
    processes: list[subprocess.Popen[bytes]] = []
    scratch = tempfile.TemporaryDirectory(prefix="baton-demo-")
    try:
        git = demo_git.prepare(settings, Path(scratch.name))
        settings = git.settings
        assert settings.database_url is not None and settings.redis_url is not None
        migrate_database(settings.database_url)
        server = WebServer(settings, host="127.0.0.1", port=0)
        slack.events_url = server.start_in_thread() + "/slack/events"
        # A real worker, and the scheduler that sends digests, reminders and check-ins when they are due.
        processes = [
            _start_process(settings, "worker", mcp_config=git.config),
            _start_process(settings, "scheduler", mcp_config=git.config),
        ]
        terminal.learn_names()
        me = _user_id(terminal, user)
        where = _channel_id(web, channel)
        if not in_browser:
            slack.on_post(terminal.on_notice)
        redis = connect_redis(settings.redis_url)
        _wait_for_worker(redis, processes[0], log=settings.baton_home / "demo-worker.log")
        if in_browser:
            slack.browser.shortcuts = dict(MESSAGE_SHORTCUTS)
            serve_until_stopped(out, page_url(slack, me=me, where=where), stop=stop)
            redis.close()
            terminal.say("Demo finished.")
            return 0
        terminal.say(
            f"Ready. You are @{terminal.users[me]} in #{terminal.channel_name(where)}; "
            f"Baton is @{terminal.users.get('U0BATON', 'baton')}. /help for commands."
        )
        terminal.say()
        session = DemoSession(
            slack,
            terminal,
            me=me,
            where=where,
            settle=lambda: _settle(slack, redis),
            base=script.parent if script else Path.cwd(),
            echo=script is not None,
            missing={demo_git.FEATURE: git.missing} if git.missing else {},
        )
        for line in _turns(script, stdin, terminal, interactive=script is None and stdin.isatty()):
            if not session.handle(line):
                break
        redis.close()
        terminal.say("Demo finished.")
        return 0
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        if server is not None:
            server.stop_thread()
        slack.stop()
        if services is not None:
            services.release()
        scratch.cleanup()


def _wait_for_worker(redis: Any, process: subprocess.Popen[bytes], *, log: Path) -> None:
    """Block until the worker listens (it loads the embedding model first): a turn played before then would
    be waited for only up to :data:`SETTLE_TIMEOUT_SECONDS`, and its answer would land after the next turn."""
    deadline = time.monotonic() + WORKER_START_TIMEOUT_SECONDS
    # This worker's own registration: one left in Redis by an earlier demo's worker does not count.
    while not any(worker.pid == process.pid for worker in Worker.all(connection=redis)):
        if process.poll() is not None:
            raise CommandError(f"the demo's worker stopped at start (exit {process.returncode}); see {log}")
        if time.monotonic() > deadline:
            raise CommandError(f"the demo's worker did not start in {WORKER_START_TIMEOUT_SECONDS:.0f} s; see {log}")
        time.sleep(0.1)


def _start_process(settings: Settings, command: str, *, mcp_config: Path | None) -> subprocess.Popen[bytes]:
    """A real ``baton worker`` / ``baton scheduler`` process sharing this demo's Postgres, Redis, workspace and
    (``mcp_config``, when the demo wrote one) MCP servers and aliases."""
    env = dict(os.environ)
    if mcp_config is not None:
        env["BATON_MCP_CONFIG"] = str(mcp_config)
    env.update(
        BATON_HOME=str(settings.baton_home),
        DATABASE_URL=settings.database_url or "",
        REDIS_URL=settings.redis_url or "",
        SLACK_BOT_TOKEN=settings.slack_bot_token or "",
        SLACK_SIGNING_SECRET=settings.slack_signing_secret or "",
        SLACK_API_URL=settings.slack_api_url,
        BATON_LOG_LEVEL="WARNING",
    )
    log_path = settings.baton_home / f"demo-{command}.log"
    with open(log_path, "ab") as log_file:
        return subprocess.Popen(
            [sys.executable, "-m", "baton.cli", command],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )


def _turns(script: Path | None, stdin: TextIO, terminal: Terminal, *, interactive: bool) -> Iterator[str]:
    lines: Iterable[str] = script.read_text(encoding="utf-8").splitlines() if script else stdin
    for raw in lines:
        line = raw.strip()
        if line and not line.startswith("#"):
            yield line
        if interactive:
            print("> ", end="", file=terminal.out, flush=True)


def _settle(slack: LocalSlack, redis: Any) -> None:
    """Wait until the bot has finished reacting: no queued or running jobs, none scheduled for the next few
    seconds (a post waiting for its channel's turn, a deferred card), no pending deliveries."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_SECONDS
    quiet_since: float | None = None
    while time.monotonic() < deadline:
        soon = time.time() + SETTLE_TIMEOUT_SECONDS
        busy = any(
            Queue(name, connection=redis).count
            or StartedJobRegistry(name, connection=redis).count
            or redis.zcount(_scheduled_key(name, redis), "-inf", soon)
            for name in defaults.QUEUES
        )
        try:
            slack.wait_for_deliveries(timeout=1.0)
        except TimeoutError:
            busy = True
        now = time.monotonic()
        if busy:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = now
        elif now - quiet_since > 0.6:  # the ack enqueues just after answering; allow for it
            return
        time.sleep(0.05)


def _scheduled_key(queue: str, redis: Any) -> str:
    """The sorted set of RQ's jobs scheduled for ``queue`` (score: when they are due)."""
    return str(ScheduledJobRegistry(queue, connection=redis).key)  # type: ignore[no-untyped-call]


def _user_id(terminal: Terminal, name: str) -> str:
    for user_id, user_name in terminal.users.items():
        if user_name == name or user_id == name:
            return user_id
    raise CommandError(
        f"no member named {name!r} in the local workspace (try: "
        + ", ".join(n for i, n in terminal.users.items() if i != "U0BATON")
        + ")"
    )


def _channel_id(web: WebClient, name: str) -> str:
    try:
        return str(web.conversations_info(channel=name)["channel"]["id"])
    except Exception:
        raise CommandError(f"no channel named #{name} in the local workspace (try: general, ops)") from None


__all__ = ["run_demo"]
