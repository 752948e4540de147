"""Both embedded servers behind one object, leased for the life of the process."""

from __future__ import annotations

import atexit
import logging
from dataclasses import dataclass, field
from pathlib import Path

from memory.embedded.lease import ServerLease, socket_dir_for
from memory.embedded.postgres import EmbeddedPostgres
from memory.embedded.redis import EmbeddedRedis

log = logging.getLogger(__name__)


@dataclass
class EmbeddedServices:
    """The embedded PostgreSQL and Redis of one ``BATON_HOME``.

    ``ensure_postgres()`` / ``ensure_redis()`` start a server if needed (or join the one another
    process started) and return its URL; ``release()`` drops this process's claim, stopping a
    server when no other live process uses it. ``release`` is registered with ``atexit``.
    """

    home: Path
    _held: list[tuple[ServerLease, object]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.run_dir = run_dir = self.home / "run"
        sockets = socket_dir_for(self.home)
        self.postgres = EmbeddedPostgres(
            self.home / "postgres", sockets / "pg", log_file=self.home / "postgres.log"
        )
        self.redis = EmbeddedRedis(self.home / "redis", sockets, log_file=self.home / "redis.log")
        self._pg_lease = ServerLease(run_dir, "postgres")
        self._redis_lease = ServerLease(run_dir, "redis")
        self._registered = False

    def ensure_postgres(self) -> str:
        self.home.mkdir(parents=True, exist_ok=True)
        self._stopped_marker("postgres").unlink(missing_ok=True)
        self._pg_lease.acquire(self.postgres.start)
        self._hold(self._pg_lease, self.postgres)
        return self.postgres.url()

    def ensure_redis(self) -> str:
        self.home.mkdir(parents=True, exist_ok=True)
        self._stopped_marker("redis").unlink(missing_ok=True)
        self._redis_lease.acquire(self.redis.start)
        self._hold(self._redis_lease, self.redis)
        return self.redis.url()

    def release(self) -> None:
        """Give up this process's leases; the last user stops each server."""
        while self._held:
            lease, server = self._held.pop()
            stopped = lease.release(server.stop)  # type: ignore[attr-defined]
            log.debug("released %s (stopped=%s)", lease.name, stopped)

    def status(self) -> dict[str, dict[str, object]]:
        """Which embedded servers run, with their pid, URL and the processes using them."""
        result: dict[str, dict[str, object]] = {}
        for name, lease, server in self._servers():
            with lease.locked():
                pid = server.running_pid()
                result[name] = {"pid": pid, "url": server.url() if pid else None, "users": lease.users()}
        return result

    def stop_all(self) -> None:
        """Stop both servers whoever uses them (``baton embedded stop``); supervisors leave them stopped."""
        for name, lease, server in self._servers():
            with lease.locked():
                self.run_dir.mkdir(parents=True, exist_ok=True)
                self._stopped_marker(name).touch()
                server.stop()

    def held_names(self) -> list[str]:
        """The servers this process holds a lease on (what its supervisor watches)."""
        return [name for name, lease, _server in self._servers() if any(held is lease for held, _ in self._held)]

    def restart_if_down(self, name: str) -> bool:
        """Start server ``name`` again if it is not running (and was not stopped on purpose); True if it was
        started. Raises :class:`memory.embedded.EmbeddedServerError` when it cannot start."""
        for candidate, lease, server in self._servers():
            if candidate != name:
                continue
            with lease.locked():
                if self._stopped_marker(name).exists() or server.running_pid() is not None:
                    return False
                server.start()
                return True
        raise ValueError(f"no embedded server called {name!r}")

    def _servers(self) -> list[tuple[str, ServerLease, EmbeddedPostgres | EmbeddedRedis]]:
        return [("postgres", self._pg_lease, self.postgres), ("redis", self._redis_lease, self.redis)]

    def _stopped_marker(self, name: str) -> Path:
        return self.run_dir / f"{name}.stopped"

    def _hold(self, lease: ServerLease, server: object) -> None:
        if any(held is lease for held, _ in self._held):
            return
        self._held.append((lease, server))
        if not self._registered:
            atexit.register(self.release)
            self._registered = True
