"""The embedded servers heal themselves: a Baton process restarts a redis-server or postgres that died, with
backoff, counts it on /metrics, and leaves alone what an operator stopped on purpose."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from memory.db import connect
from memory.embedded import EmbeddedServerError, EmbeddedServices
from memory.embedded.supervisor import RestartLog, Supervisor
from tests.scenario.test_embedded import _wait_gone
from tests.scenario.test_metrics import scrape, value
from workers.api import connect_redis

pytestmark = pytest.mark.slow


def _kill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)
    _wait_gone(pid)


def _until(check, *, timeout: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"{what} within {timeout} s")


def test_a_dead_server_is_restarted_with_backoff_and_an_operators_stop_is_kept(tmp_path: Path, monkeypatch):
    home = tmp_path / "home"
    services = EmbeddedServices(home)
    services.ensure_redis()
    now = [0.0]
    supervisor = Supervisor(services, clock=lambda: now[0])
    assert services.held_names() == ["redis"] and supervisor.check() == []  # up: nothing to do

    _kill(services.status()["redis"]["pid"])  # type: ignore[arg-type]
    attempts = []

    def failing_start() -> None:
        attempts.append(now[0])
        raise EmbeddedServerError("embedded Redis did not start: disk full")

    real_start = services.redis.start
    monkeypatch.setattr(services.redis, "start", failing_start)
    assert supervisor.check() == [] and supervisor.check() == []  # failed once, then waits
    now[0] += 1.5
    assert supervisor.check() == []  # the second try, after the backoff
    assert attempts == [0.0, 1.5]
    monkeypatch.setattr(services.redis, "start", real_start)
    now[0] += 1.0
    assert supervisor.check() == []  # still backing off (2 s after the second failure)
    now[0] += 1.5
    assert supervisor.check() == ["redis"]
    assert connect_redis(services.redis.url()).ping()
    assert RestartLog(home / "run").counts() == {"redis": 1}

    services.stop_all()  # an operator's `baton embedded stop`
    now[0] += 100
    assert supervisor.check() == [] and services.status()["redis"]["pid"] is None
    services.ensure_redis()  # starting Baton again lifts the stop
    services.release()


def test_a_worker_restarts_killed_redis_and_postgres_and_counts_it_on_metrics(tmp_path: Path):
    home = tmp_path / "home"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(BATON_HOME=str(home), SLACK_BOT_TOKEN="xoxb-test", SLACK_API_URL="http://127.0.0.1:9/api/",
               BATON_LOG_LEVEL="WARNING", BATON_METRICS_PORT=str(port), BATON_EMBEDDING_PROVIDER="none")
    worker = subprocess.Popen([sys.executable, "-m", "baton.cli", "worker", "--queues", "default"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    observer = EmbeddedServices(home)  # reads pids; holds no lease
    try:
        _until(lambda: _scraped(url), timeout=90, what="the worker's metrics never answered")
        redis_pid = observer.status()["redis"]["pid"]
        assert isinstance(redis_pid, int)
        killed = time.monotonic()
        _kill(redis_pid)
        _until(lambda: observer.status()["redis"]["pid"] not in (None, redis_pid), timeout=10,
               what="redis was not restarted")
        redis_back = time.monotonic() - killed
        assert connect_redis(observer.redis.url()).ping()

        pg_pid = observer.status()["postgres"]["pid"]
        assert isinstance(pg_pid, int)
        killed = time.monotonic()
        _kill(pg_pid)
        # Its backends outlive the postmaster for a moment: the first tries may fail, the backoff retries.
        # A killed postmaster leaves backends that hold its shared memory until they notice; each failed start
        # doubles the wait (1, 2, 4, 8, 16, 32 s), so on a slow machine the restart can take past 30 s.
        _until(lambda: observer.status()["postgres"]["pid"] not in (None, pg_pid), timeout=70,
               what="postgres was not restarted")
        pg_back = time.monotonic() - killed
        with connect(observer.postgres.url()) as conn:
            assert conn.execute("SELECT count(*) AS n FROM schema_migrations").fetchone()["n"] > 0
        samples = _until(lambda: _scraped(url), timeout=10, what="no metrics after the restarts")
        assert value(samples, "baton_embedded_restarts_total", server="redis") == 1
        assert value(samples, "baton_embedded_restarts_total", server="postgres") == 1
        assert worker.poll() is None
        print(f"redis back after {redis_back:.1f} s, postgres after {pg_back:.1f} s")
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        observer.stop_all()


def _scraped(url: str):  # type: ignore[no-untyped-def]
    try:
        return scrape(url)[1]
    except OSError:
        return None
