"""The embedded PostgreSQL and Redis: persistence across restarts, sharing, crash recovery,
and one clear line (never a traceback, never lost data) when a start is impossible."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from memory.db import connect
from memory.embedded import EmbeddedServerError, EmbeddedServices
from workers.api import connect_redis

pytestmark = pytest.mark.slow


def baton(home: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real ``baton`` command with a given state folder and no backend URLs."""
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    clean.update(BATON_HOME=str(home), **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "baton.cli", *args],
        env=clean,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def hold_servers(home: Path) -> subprocess.Popen[str]:
    """A separate process holding leases on both servers until killed."""
    code = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from memory.embedded import EmbeddedServices
        services = EmbeddedServices(Path({str(home)!r}))
        services.ensure_postgres(); services.ensure_redis()
        print("ready", flush=True)
        time.sleep(600)
    """)
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready"
    return process


def test_data_survives_a_restart_of_baton(tmp_path: Path):
    home = tmp_path / "home"
    services = EmbeddedServices(home)
    with connect(services.ensure_postgres()) as conn:
        conn.execute("CREATE TABLE notes (body text)")
        conn.execute("INSERT INTO notes VALUES ('deploys freeze on Fridays')")
    redis = connect_redis(services.ensure_redis())
    redis.set("kept", "yes")
    redis.close()
    services.release()
    assert services.status()["postgres"]["pid"] is None, "the last user stops the server"
    assert services.status()["redis"]["pid"] is None

    # A whole `baton` run in between starts and stops the servers again, and migrates.
    result = baton(home, "migrate")
    assert result.returncode == 0, result.stderr
    assert "0001_extensions" in result.stdout

    again = EmbeddedServices(home)
    with connect(again.ensure_postgres()) as conn:
        assert conn.execute("SELECT body FROM notes").fetchone() == {"body": "deploys freeze on Fridays"}
        assert conn.execute("SELECT extname FROM pg_extension WHERE extname = 'vector'").fetchone()
    redis = connect_redis(again.ensure_redis())
    assert redis.get("kept") == b"yes"
    redis.close()
    again.release()


def test_two_processes_share_one_server_and_a_killed_one_is_forgotten(tmp_path: Path):
    home = tmp_path / "home"
    holder = hold_servers(home)
    try:
        ours = EmbeddedServices(home)
        ours.ensure_postgres()
        ours.ensure_redis()
        status = ours.status()
        assert sorted(status["postgres"]["users"]) == sorted([holder.pid, os.getpid()])
        pg_pid = status["postgres"]["pid"]

        # Our release leaves the server running for the other user.
        ours.release()
        assert ours.status()["postgres"]["pid"] == pg_pid

        # The other process dies without releasing (SIGKILL): its lease is pruned, the server reused.
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        third = EmbeddedServices(home)
        third.ensure_postgres()
        assert third.status()["postgres"]["pid"] == pg_pid
        assert third.status()["postgres"]["users"] == [os.getpid()]
        third.release()
        assert third.status()["postgres"]["pid"] is None
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
        assert holder.stdout is not None
        holder.stdout.close()


def test_a_stale_pid_file_from_a_crashed_server_is_recovered(tmp_path: Path):
    home = tmp_path / "home"
    services = EmbeddedServices(home)
    services.ensure_postgres()
    services.ensure_redis()
    pg_pid = services.status()["postgres"]["pid"]
    redis_pid = services.status()["redis"]["pid"]
    # Crash both servers hard: their pid files stay behind.
    os.kill(pg_pid, signal.SIGKILL)
    os.kill(redis_pid, signal.SIGKILL)
    _wait_gone(pg_pid)
    _wait_gone(redis_pid)
    # Worse: the OS has handed the pid to an unrelated live process (here: this test).
    pid_file = home / "postgres" / "postmaster.pid"
    lines = pid_file.read_text().splitlines()
    pid_file.write_text("\n".join([str(os.getpid()), *lines[1:]]) + "\n")

    recovered = EmbeddedServices(home)
    with connect(recovered.ensure_postgres()) as conn:
        assert conn.execute("SELECT 1 AS one").fetchone() == {"one": 1}
    redis = connect_redis(recovered.ensure_redis())
    assert redis.ping()
    redis.close()
    assert recovered.status()["postgres"]["pid"] not in (None, pg_pid)
    recovered.release()
    services.release()


def test_a_foreign_data_directory_is_reported_not_wiped(tmp_path: Path):
    home = tmp_path / "home"
    (home / "postgres").mkdir(parents=True)
    precious = home / "postgres" / "precious.txt"
    precious.write_text("do not delete")

    with pytest.raises(EmbeddedServerError, match="not a PostgreSQL data directory"):
        EmbeddedServices(home).ensure_postgres()

    result = baton(home, "migrate")
    assert result.returncode == 1
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("baton: error:")]
    assert len(error_lines) == 1 and "not a PostgreSQL data directory" in error_lines[0]
    assert "Traceback" not in result.stderr
    assert precious.read_text() == "do not delete"


def test_a_corrupt_data_directory_gives_one_line_and_keeps_the_data(tmp_path: Path):
    home = tmp_path / "home"
    services = EmbeddedServices(home)
    services.ensure_postgres()
    services.release()
    control = home / "postgres" / "global" / "pg_control"
    control.write_bytes(b"\0" * 64)  # a truncated, zeroed control file

    result = baton(home, "migrate")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("baton: error:")]
    assert len(error_lines) == 1 and "embedded PostgreSQL did not start" in error_lines[0]
    assert control.exists() and (home / "postgres" / "PG_VERSION").exists()


def _wait_gone(pid: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
