"""Keep the embedded servers up: restart a dead redis-server or postgres within seconds, with backoff.

Every Baton process that holds a lease on an embedded server (``serve``, ``worker``, ``scheduler``) runs a
:class:`Supervisor` thread. Each pass looks at the servers this process uses; one that is not running is
started again under its lease's lock, so when several processes notice at once, one restarts it and the
others find it running. A restart that fails is tried again after 1, 2, 4 … up to 60 s. Each restart is
logged and counted in ``run/restarts.json`` under ``BATON_HOME`` (``/metrics`` shows the counts, whichever
process made them). ``baton embedded stop`` leaves a marker that stops the supervisors from undoing it.

Servers given by URL (``DATABASE_URL``, ``REDIS_URL``) are never supervised: Baton does not own them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from memory.embedded.errors import EmbeddedServerError
from memory.embedded.services import EmbeddedServices

log = logging.getLogger(__name__)

#: How often a supervisor looks, and the longest it waits between failed restarts.
CHECK_INTERVAL_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 60.0


class RestartLog:
    """How many times each embedded server of one ``BATON_HOME`` was restarted (``run/restarts.json``)."""

    def __init__(self, run_dir: Path) -> None:
        self.path = run_dir / "restarts.json"

    def counts(self) -> dict[str, int]:
        try:
            data = json.loads(self.path.read_text())
        except (FileNotFoundError, ValueError):
            return {}
        return {str(k): int(v) for k, v in data.items() if isinstance(v, int)} if isinstance(data, dict) else {}

    def record(self, name: str) -> None:
        """Count one restart of ``name`` (call under that server's lease lock)."""
        counts = self.counts()
        counts[name] = counts.get(name, 0) + 1
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(counts))
        tmp.replace(self.path)


class Supervisor:
    """Restarts the embedded servers ``services`` holds when they die (see the module docstring)."""

    def __init__(self, services: EmbeddedServices, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.services = services
        self.restarts = RestartLog(services.run_dir)
        self._clock = clock
        self._next_try: dict[str, float] = {}
        self._backoff: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def check(self) -> list[str]:
        """One pass: restart what is down (unless backing off); returns the names restarted."""
        restarted = []
        for name in self.services.held_names():
            if self._clock() < self._next_try.get(name, 0.0):
                continue
            try:
                if self.services.restart_if_down(name):
                    self.restarts.record(name)
                    restarted.append(name)
                    log.warning("embedded %s had stopped; restarted it (restart %s)", name,
                                self.restarts.counts().get(name))
                self._backoff.pop(name, None)
            except EmbeddedServerError as err:
                wait = min(MAX_BACKOFF_SECONDS, self._backoff.get(name, 0.5) * 2)
                self._backoff[name] = wait
                self._next_try[name] = self._clock() + wait
                log.error("embedded %s is down and did not restart (next try in %.0f s): %s", name, wait, err)
        return restarted

    def start(self, *, interval: float = CHECK_INTERVAL_SECONDS) -> Supervisor:
        """Check every ``interval`` seconds in a daemon thread until :meth:`stop`."""
        def run() -> None:
            while not self._stop.wait(interval):
                try:
                    self.check()
                except Exception:  # a supervisor that dies would leave the servers unwatched
                    log.exception("the embedded-server supervisor's check failed")

        self._thread = threading.Thread(target=run, name="embedded-supervisor", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            with contextlib.suppress(RuntimeError):
                self._thread.join(timeout=5)
