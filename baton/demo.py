"""``baton demo``: Baton's main job on embedded defaults, in the terminal.

Starts the embedded Postgres and Redis (unless URLs are set), the local Slack workspace, the bot's
HTTP app and a worker process, then lets a person act in the workspace: type a message to post it
as yourself in the channel, ``/click <label>`` to press a button Baton showed, ``/baton ...`` for the
slash command. ``--script FILE`` plays a file of such turns (one per line, ``#`` comments) and exits.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from rq import Queue
from rq.registry import StartedJobRegistry
from slack_sdk import WebClient

from baton.backends import migrate_database, resolve_backends
from baton.config import CommandError
from baton.demo_render import Button, find_button, plain, render_notice
from baton.web_server import WebServer
from connectors.slack_clients import plain_client
from core import defaults
from core.settings import Settings
from localslack import LocalSlack
from workers.api import connect_redis

HELP = """\
Type a message to post it as {user} in #{channel}. Mention the bot with @baton.
  /click <label>     press a button Baton showed (e.g. /click approve)
  /baton <text>      run the /baton slash command (\\n in the text is a line break)
  /upload <file> [message]  share a file (e.g. a meeting transcript); the message defaults to "@baton"
  /as <name>         act as another member (alice, bob)
  /in <channel>      talk in another channel (general, ops)
  /help              this text
  /quit              stop the demo (Ctrl-D works too)"""

#: How long to wait for the bot to finish reacting to one turn before moving on.
SETTLE_TIMEOUT_SECONDS = 30.0


class Terminal:
    """Prints what happens in the workspace; thread-safe (deliveries arrive on other threads)."""

    def __init__(self, out: TextIO, web: WebClient) -> None:
        self.out = out
        self.web = web
        self.buttons: list[Button] = []
        self.users: dict[str, str] = {}
        self.channels: dict[str, str] = {}
        self._lock = threading.Lock()
        self._shown: dict[str, list[str]] = {}  # message ts -> body lines last printed

    def say(self, text: str = "") -> None:
        with self._lock:
            print(text, file=self.out, flush=True)

    def learn_names(self) -> None:
        members: list[dict[str, Any]] = self.web.users_list().get("members", [])
        for member in members:
            self.users[member["id"]] = member["name"]

    def channel_name(self, channel_id: str) -> str:
        if channel_id not in self.channels:
            try:
                info = self.web.conversations_info(channel=channel_id)["channel"]
                self.channels[channel_id] = info.get("name") or channel_id
            except Exception:
                self.channels[channel_id] = channel_id
        return self.channels[channel_id]

    def on_notice(self, notice: dict[str, Any]) -> None:
        channel = notice.get("channel")
        if channel:
            self.channel_name(channel)
        lines, buttons = render_notice(notice, users=self.users, channels=self.channels)
        ts = str(notice.get("ts") or "")
        with self._lock:
            self.buttons = [b for b in self.buttons if b.message_ts != ts] + buttons
            before = self._shown.get(ts)
            if ts:
                self._shown[ts] = lines[1:]
            if before is not None and notice.get("method") in ("chat.update", "response_url"):
                # An update of a message already on screen: show only what changed.
                changed = [line for line in lines[1:] if line not in before]
                if not changed:
                    return
                lines = [lines[0], *changed]
            print("\n".join(lines), file=self.out, flush=True)


def run_demo(
    settings: Settings,
    *,
    script: Path | None,
    channel: str,
    user: str,
    out: TextIO = sys.stdout,
    stdin: TextIO = sys.stdin,
) -> int:
    """Run the demo; returns the process exit code."""
    if script is not None and not script.is_file():
        raise CommandError(f"--script {script}: no such file")
    token, secret = "xoxb-local-demo", secrets.token_hex(16)
    slack = LocalSlack(bot_token=token, signing_secret=secret).start()
    settings = settings.with_changes(
        slack_bot_token=token, slack_signing_secret=secret, slack_api_url=slack.api_url
    )
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
    try:
        assert settings.database_url is not None and settings.redis_url is not None
        migrate_database(settings.database_url)
        server = WebServer(settings, host="127.0.0.1", port=0)
        slack.events_url = server.start_in_thread() + "/slack/events"
        # A real worker, and the scheduler that sends digests, reminders and check-ins when they are due.
        processes = [_start_process(settings, "worker"), _start_process(settings, "scheduler")]
        terminal.learn_names()
        for known in ("general", "ops"):
            terminal.channel_name(_channel_id(web, known))
        me = _user_id(terminal, user)
        where = _channel_id(web, channel)
        slack.on_post(terminal.on_notice)
        terminal.say(
            f"Ready. You are @{terminal.users[me]} in #{terminal.channel_name(where)}; "
            f"Baton is @{terminal.users.get('U0BATON', 'baton')}. /help for commands."
        )
        terminal.say()
        redis = connect_redis(settings.redis_url)
        for line in _turns(script, stdin, terminal, interactive=script is None and stdin.isatty()):
            command, _, rest = line.partition(" ")
            if command in ("/quit", "/exit"):
                break
            if command == "/help":
                terminal.say(HELP.format(user="@" + terminal.users[me], channel=terminal.channel_name(where)))
                continue
            if command == "/as":
                me = _user_id(terminal, rest.strip().lstrip("@"))
                terminal.say(f"(you are now @{terminal.users[me]})")
                continue
            if command == "/in":
                where = _channel_id(web, rest.strip().lstrip("#"))
                terminal.say(f"(you are now in #{terminal.channel_name(where)})")
                continue
            if script is not None:
                terminal.say(f"@{terminal.users[me]} in #{terminal.channel_name(where)}: {line}")
            if command == "/click":
                button = find_button(terminal.buttons, rest)
                if button is None:
                    terminal.say(f"(no button labelled {rest.strip()!r} on screen)")
                    continue
                slack.click(
                    me,
                    channel=button.channel,
                    message_ts=button.message_ts,
                    action_id=button.action_id,
                    value=button.value,
                    block_id=button.block_id,
                )
            elif command == "/baton":
                # A typed "\n" is a line break, so a pasted multi-line transcript fits on one script line.
                slack.slash_command(me, where, "/baton", rest.replace("\\n", "\n"))
            elif command == "/upload":
                _upload(slack, me, where, rest, base=script.parent if script else Path.cwd(), terminal=terminal)
            else:
                slack.post_as_user(me, where, _mentions_to_slack(line, terminal.users, terminal.channels))
            _settle(slack, redis)
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


def _upload(slack: LocalSlack, user: str, channel: str, rest: str, *, base: Path, terminal: Terminal) -> None:
    """``/upload <file> [message]``: share a file from disk, with a message mentioning Baton by default."""
    name, _, comment = rest.strip().partition(" ")
    path = Path(name).expanduser()
    path = path if path.is_absolute() else (base / path if (base / path).exists() else Path.cwd() / path)
    if not path.is_file():
        terminal.say(f"(no file {name!r})")
        return
    text = _mentions_to_slack(comment.strip() or "@baton", terminal.users, terminal.channels)
    slack.upload_file(user, channel, name=path.name, content=path.read_bytes(), initial_comment=text)


def _start_process(settings: Settings, command: str) -> subprocess.Popen[bytes]:
    """A real ``baton worker`` / ``baton scheduler`` process sharing this demo's Postgres, Redis and workspace."""
    env = dict(os.environ)
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
    """Wait until the bot has finished reacting: no queued or running jobs, no pending deliveries."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_SECONDS
    quiet_since: float | None = None
    while time.monotonic() < deadline:
        busy = any(
            Queue(name, connection=redis).count or StartedJobRegistry(name, connection=redis).count
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


def _mentions_to_slack(text: str, users: dict[str, str], channels: dict[str, str]) -> str:
    """``@baton`` / ``#general`` as typed -> Slack's ``<@U…>`` / ``<#C…|general>`` tokens, as Slack's client does."""
    by_name = {name.lower(): user_id for user_id, name in users.items()}
    by_channel = {name.lower(): channel_id for channel_id, name in channels.items()}

    def swap_user(match: re.Match[str]) -> str:
        user_id = by_name.get(match.group(1).lower())
        return f"<@{user_id}>" if user_id else match.group(0)

    def swap_channel(match: re.Match[str]) -> str:
        channel_id = by_channel.get(match.group(1).lower())
        return f"<#{channel_id}|{match.group(1)}>" if channel_id else match.group(0)

    text = re.sub(r"(?<![<\w])@([A-Za-z0-9._-]+)", swap_user, text)
    return re.sub(r"(?<![<\w])#([a-z0-9_-]+)", swap_channel, text)


__all__ = ["plain", "run_demo"]
