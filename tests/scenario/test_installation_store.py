"""The OAuth installation and state stores on the real Postgres: bolt's interfaces, tokens encrypted at rest,
states consumed once before they expire, and key rotation (old keys still decrypt; rekey moves every row)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from cryptography.fernet import Fernet
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool
from slack_sdk.oauth.installation_store.models.installation import Installation

from core.installations import TeamRef
from memory.installations import PostgresInstallationStore, find_bot_token, note_org_team, rekey
from memory.oauth_states import PostgresOAuthStateStore
from memory.token_cipher import TokenCipher, TokenDecryptError
from tests.scenario.test_cli import run_baton

T = TypeVar("T")
OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def run(database_url: str, body: Callable[[AsyncConnectionPool], Awaitable[T]]) -> T:
    async def main() -> T:
        async with AsyncConnectionPool(
            database_url, min_size=1, max_size=2, open=False, kwargs={"autocommit": True, "row_factory": dict_row}
        ) as pool:
            return await body(pool)

    return asyncio.run(main())


def installation(team: str = "T0ONE", user: str = "U0ALICE", **fields: Any) -> Installation:
    values: dict[str, Any] = {
        "app_id": "A0BATON",
        "team_id": team,
        "team_name": "One",
        "user_id": user,
        "bot_token": f"xoxb-{team}",
        "bot_id": "B0BATON",
        "bot_user_id": "U0BATON",
        "bot_scopes": "chat:write,app_mentions:read",
        "bot_refresh_token": f"xoxe-{team}",
        "bot_token_expires_in": 43200,
        "user_token": f"xoxp-{user}",
        "user_scopes": "search:read",
    }
    return Installation(**{**values, **fields})


def test_an_installation_round_trips_with_its_tokens_encrypted_at_rest(db, backends):
    async def body(pool: AsyncConnectionPool) -> tuple[Any, Any, Any, Any]:
        store = PostgresInstallationStore(pool, TokenCipher([NEW]))
        await store.async_save(installation())
        return (
            await store.async_find_bot(enterprise_id=None, team_id="T0ONE"),
            await store.async_find_installation(enterprise_id=None, team_id="T0ONE"),
            await store.async_find_installation(enterprise_id=None, team_id="T0ONE", user_id="U0ALICE"),
            await store.async_find_bot(enterprise_id=None, team_id="T0OTHER"),
        )

    bot, latest, alices, other = run(backends.database_url, body)
    assert bot.bot_token == "xoxb-T0ONE" and bot.bot_refresh_token == "xoxe-T0ONE"
    assert bot.bot_user_id == "U0BATON" and bot.bot_scopes == ["chat:write", "app_mentions:read"]
    assert bot.bot_token_expires_at is not None
    assert latest.user_token == "xoxp-U0ALICE" and alices.user_id == "U0ALICE" and other is None
    rows = db.execute("SELECT * FROM slack_installations ORDER BY user_id").fetchall()
    assert [row["user_id"] for row in rows] == ["", "U0ALICE"]
    stored = repr([dict(row) for row in rows])
    for secret in ("xoxb-T0ONE", "xoxe-T0ONE", "xoxp-U0ALICE"):
        assert secret not in stored
    assert TokenCipher([NEW]).decrypt(rows[0]["bot_token"]) == "xoxb-T0ONE"
    assert find_bot_token(db, TokenCipher([NEW]), TeamRef("T0ONE")) == "xoxb-T0ONE"
    assert find_bot_token(db, TokenCipher([NEW]), TeamRef("T0OTHER")) is None


def test_a_refreshed_bot_token_reaches_every_installation_of_the_workspace_and_deletes_are_scoped(db, backends):
    async def body(pool: AsyncConnectionPool) -> tuple[Any, Any, Any, Any]:
        store = PostgresInstallationStore(pool, TokenCipher([NEW]))
        await store.async_save(installation())
        await store.async_save(installation(user="U0BOB", user_token="xoxp-U0BOB"))
        await store.async_save(installation(team="T0TWO"))
        bot = await store.async_find_bot(enterprise_id=None, team_id="T0ONE")
        assert bot is not None
        bot.bot_token, bot.bot_refresh_token = "xoxb-rotated", "xoxe-rotated"
        await store.async_save_bot(bot)
        alice = await store.async_find_installation(enterprise_id=None, team_id="T0ONE", user_id="U0ALICE")
        await store.async_delete_installation(enterprise_id=None, team_id="T0ONE", user_id="U0BOB")
        bob = await store.async_find_installation(enterprise_id=None, team_id="T0ONE", user_id="U0BOB")
        await store.async_delete_all(enterprise_id=None, team_id="T0ONE")
        gone = await store.async_find_bot(enterprise_id=None, team_id="T0ONE")
        two = await store.async_find_bot(enterprise_id=None, team_id="T0TWO")
        return alice, bob, gone, two

    alice, bob, gone, two = run(backends.database_url, body)
    assert (alice.bot_token, alice.bot_refresh_token, alice.user_token) == (
        "xoxb-rotated",
        "xoxe-rotated",
        "xoxp-U0ALICE",
    )
    assert bob is None and gone is None and two.bot_token == "xoxb-T0TWO"


def test_an_org_wide_install_is_found_by_its_enterprise_for_any_of_its_workspaces(db, backends):
    org = installation(team=None, enterprise_id="E0ORG", is_enterprise_install=True, bot_token="xoxb-org")

    async def body(pool: AsyncConnectionPool) -> Any:
        store = PostgresInstallationStore(pool, TokenCipher([NEW]))
        await store.async_save(org)
        return await store.async_find_bot(enterprise_id="E0ORG", team_id="T0ANY", is_enterprise_install=True)

    assert run(backends.database_url, body).bot_token == "xoxb-org"
    assert find_bot_token(db, TokenCipher([NEW]), TeamRef("T0ANY", "E0ORG")) == "xoxb-org"
    assert find_bot_token(db, TokenCipher([NEW]), TeamRef("T0ANY")) is None
    # Once a delivery has named the workspace's org, the workspace alone finds it; an empty team never does.
    run(backends.database_url, lambda pool: _note(pool, "T0ANY", "E0ORG"))
    assert find_bot_token(db, TokenCipher([NEW]), TeamRef("T0ANY")) == "xoxb-org"
    assert find_bot_token(db, TokenCipher([NEW]), TeamRef("")) is None


async def _note(pool: AsyncConnectionPool, team_id: str, enterprise_id: str) -> None:
    async with pool.connection() as conn:
        await note_org_team(conn, team_id=team_id, enterprise_id=enterprise_id)


def test_a_state_is_accepted_once_before_it_expires_and_a_forged_one_never(db, backends):
    now = [datetime(2026, 12, 1, 9, 0, tzinfo=UTC)]

    async def body(pool: AsyncConnectionPool) -> list[bool]:
        states = PostgresOAuthStateStore(pool, now=lambda: now[0], expiry_seconds=600)
        fresh, late = await states.async_issue(), await states.async_issue()
        answers = [
            await states.async_consume(fresh),
            await states.async_consume(fresh),
            await states.async_consume("forged-" + fresh),
        ]
        now[0] += timedelta(seconds=601)
        answers.append(await states.async_consume(late))
        return answers

    assert run(backends.database_url, body) == [True, False, False, False]
    assert db.execute("SELECT count(*) AS n FROM slack_oauth_states").fetchone()["n"] == 0


def test_key_rotation_old_key_still_decrypts_and_rekey_moves_every_row_to_the_new_key(db, backends):
    async def save(pool: AsyncConnectionPool) -> None:
        await PostgresInstallationStore(pool, TokenCipher([OLD])).async_save(installation())

    run(backends.database_url, save)
    rotated = TokenCipher([NEW, OLD])

    async def find(pool: AsyncConnectionPool) -> Any:
        return await PostgresInstallationStore(pool, rotated).async_find_installation(
            enterprise_id=None, team_id="T0ONE", user_id="U0ALICE"
        )

    assert run(backends.database_url, find).bot_token == "xoxb-T0ONE"  # the old key still decrypts
    assert rekey(db, rotated) == 2
    new_only = TokenCipher([NEW])
    for row in db.execute("SELECT * FROM slack_installations").fetchall():
        assert new_only.decrypt(row["bot_token"]) == "xoxb-T0ONE"
        assert new_only.decrypt(row["user_token"]) == "xoxp-U0ALICE"
        with pytest.raises(TokenDecryptError):
            TokenCipher([OLD]).decrypt(row["bot_token"])
    with pytest.raises(TokenDecryptError):  # a key that never encrypted anything: rekey refuses, changes nothing
        rekey(db, TokenCipher([Fernet.generate_key().decode()]))
    assert find_bot_token(db, new_only, TeamRef("T0ONE")) == "xoxb-T0ONE"


def test_baton_workspace_rekey_moves_rows_to_the_first_key_and_names_a_missing_old_key(db, backends, tmp_path):
    run(
        backends.database_url,
        lambda pool: PostgresInstallationStore(pool, TokenCipher([OLD])).async_save(installation()),
    )
    env = {"BATON_HOME": str(tmp_path), "DATABASE_URL": backends.database_url, "REDIS_URL": backends.redis_url}
    refused = run_baton("workspace", "rekey", env={**env, "BATON_ENCRYPTION_KEY": NEW})
    assert refused.returncode != 0 and "BATON_ENCRYPTION_KEY" in refused.stderr and "nothing changed" in refused.stderr
    done = run_baton("workspace", "rekey", env={**env, "BATON_ENCRYPTION_KEY": f"{NEW},{OLD}"})
    assert done.returncode == 0, done.stderr
    assert "2 installation(s)" in done.stdout
    assert find_bot_token(db, TokenCipher([NEW]), TeamRef("T0ONE")) == "xoxb-T0ONE"


def test_serve_with_a_client_id_but_no_encryption_key_refuses_to_start_naming_it(tmp_path):
    env = {
        "BATON_HOME": str(tmp_path),
        "SLACK_CLIENT_ID": "1111.2222",
        "SLACK_CLIENT_SECRET": "s3cr3t",
        "SLACK_SIGNING_SECRET": "abc",
    }
    result = run_baton("serve", env=env)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("baton: error: BATON_ENCRYPTION_KEY is not set but SLACK_CLIENT_ID is")
    assert not (tmp_path / "postgres").exists(), "nothing is started before settings are valid"
