"""Share one local server between several Baton processes.

Each server has a lock file and a users file under ``BATON_HOME/run``. Starting and stopping happen
under an exclusive ``flock`` on the lock file, so two processes never start the same server twice.
The users file lists the pids holding a lease; a process that died without releasing (SIGKILL,
power loss) is pruned the next time anyone looks, so a crash never leaves a server that nobody
will stop, nor blocks the next start. The last process to release stops the server.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil

log = logging.getLogger(__name__)


class ServerLease:
    """A reference-counted claim on one local server, keyed by a name under ``run_dir``."""

    def __init__(self, run_dir: Path, name: str, *, pid: int | None = None) -> None:
        self.run_dir = run_dir
        self.name = name
        self.pid = pid or os.getpid()
        self._lock_path = run_dir / f"{name}.lock"
        self._users_path = run_dir / f"{name}.users.json"

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the server's exclusive lock (blocking) for a start, stop or status check."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        with open(self._lock_path, "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def users(self) -> list[int]:
        """Pids holding a lease that are still alive (dead ones are dropped from the file)."""
        alive = [pid for pid in self._read() if _alive(pid)]
        self._write(alive)
        return alive

    def acquire(self, start: Callable[[], None]) -> None:
        """Register this process and run ``start`` (which must be idempotent) under the lock."""
        with self.locked():
            users = self.users()
            start()
            if self.pid not in users:
                self._write([*users, self.pid])

    def release(self, stop: Callable[[], None]) -> bool:
        """Unregister this process; run ``stop`` if nobody else holds a lease. True if stopped.

        A forked child inherits the object (and its atexit hook) but not the lease: it does nothing.
        """
        if os.getpid() != self.pid:
            return False
        with self.locked():
            others = [pid for pid in self.users() if pid != self.pid]
            self._write(others)
            if others:
                log.debug("%s still used by %s; leaving it running", self.name, others)
                return False
            stop()
            return True

    def _read(self) -> list[int]:
        try:
            data = json.loads(self._users_path.read_text())
        except (FileNotFoundError, ValueError):
            return []
        return [int(pid) for pid in data if isinstance(pid, int)]

    def _write(self, pids: list[int]) -> None:
        tmp = self._users_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(pids))
        tmp.replace(self._users_path)


def _alive(pid: int) -> bool:
    try:
        process = psutil.Process(pid)
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def process_matches(pid: int, needle: str) -> bool:
    """True if ``pid`` is alive and its name or command line mentions ``needle``.

    Used to tell a live server from a stale pid file whose pid the OS has since given to
    an unrelated process.
    """
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        return needle in process.name() or any(needle in part for part in process.cmdline())
    except psutil.Error:
        return False


def socket_dir_for(home: Path) -> Path:
    """A directory for Unix sockets: ``home/run`` when short enough, else one under /tmp.

    Unix socket paths are limited to 107 bytes; a deep ``BATON_HOME`` would not fit.
    """
    preferred = home / "run"
    if len(str(preferred / ".s.PGSQL.5432")) < 100:
        return preferred
    import hashlib

    digest = hashlib.sha256(str(home).encode()).hexdigest()[:12]
    return Path("/tmp") / f"baton-{digest}"
