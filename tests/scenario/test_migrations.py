"""Migrations against the real Postgres: pgvector enabled, recorded once, safe when racing."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator

import psycopg
import pytest

from memory import migrate as migrations
from memory.db import connect
from tests.fakes.backends import Backends


@pytest.fixture
def fresh_database(backends: Backends) -> Iterator[str]:
    """A brand-new empty database on the test server, dropped afterwards."""
    name = "baton_mig_" + secrets.token_hex(4)
    with connect(backends.database_url) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    info = psycopg.conninfo.conninfo_to_dict(backends.database_url)
    info["dbname"] = name
    yield psycopg.conninfo.make_conninfo(**info)
    with connect(backends.database_url) as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def test_first_migration_enables_pgvector(fresh_database: str):
    with connect(fresh_database) as conn:
        ran = migrations.migrate(conn)
        assert ran[0] == "0001_extensions"
        assert conn.execute("SELECT extname FROM pg_extension WHERE extname = 'vector'").fetchone()
        distance = conn.execute("SELECT '[1,0]'::vector <=> '[0,1]'::vector AS d").fetchone()
        assert distance["d"] == pytest.approx(1.0)
        assert migrations.pending(conn) == []
        assert migrations.migrate(conn) == []


def test_two_concurrent_migrators_apply_each_migration_once(fresh_database: str):
    barrier = threading.Barrier(2)
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with connect(fresh_database) as conn:
                barrier.wait(timeout=10)
                results.append(migrations.migrate(conn))
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    names = [m.name for m in migrations.available()]
    # One migrator did all the work, the other found nothing left to do.
    assert sorted(results, key=len) == [[], names]
    with connect(fresh_database) as conn:
        rows = conn.execute("SELECT name FROM schema_migrations ORDER BY name").fetchall()
    assert [row["name"] for row in rows] == names


def test_an_edited_applied_migration_is_refused(fresh_database: str):
    with connect(fresh_database) as conn:
        migrations.migrate(conn)
        conn.execute("UPDATE schema_migrations SET checksum = 'edited' WHERE name = '0001_extensions'")
        with pytest.raises(migrations.MigrationError, match="0001_extensions was changed"):
            migrations.migrate(conn)
