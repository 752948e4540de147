"""Uninstall hygiene in multi-workspace mode: Slack's ``tokens_revoked`` and ``app_uninstalled`` delete the
tokens at once and cancel the workspace's open plans (audited); its data is purged by the recovery pass after
the grace period (counts audited, never text), unless it installs again first; ``baton workspace purge`` does it
by hand. Two workspaces side by side (the same channel ids in each): the other one is never touched."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from cryptography.fernet import Fernet

from baton.doctor import run_checks
from baton.doctor_installations import installation_lines
from core.installations import TeamRef
from localslack.oauth import LocalSlackApp
from memory.installations import find_bot_token
from memory.token_cipher import TokenCipher
from memory.workspace_purge import PURGED
from tests.scenario.loop_helpers import eventually, plan_row
from tests.scenario.oauth_helpers import (
    KEY,
    TEAM_ONE,
    TEAM_TWO,
    browse,
    install,
    start_oauth_baton,
    state_cookie,
    two_installed_with_plans,
)
from tests.scenario.test_cli import run_baton
from workers.reconcile import reconcile


@pytest.fixture(scope="module")
def oauth_baton(settings, clock) -> Iterator[tuple[LocalSlackApp, Any, Any]]:
    yield from start_oauth_baton(settings, now=clock.now)


@pytest.fixture
def two_teams(oauth_baton, db, redis_conn, clock):
    yield from two_installed_with_plans(oauth_baton, db, redis_conn, clock)


def _plan(db: Any, team: str) -> dict[str, Any]:
    return db.execute("SELECT * FROM plans WHERE team_id = %s", (team,)).fetchone()


def _rows_of(db: Any, team: str) -> dict[str, int]:
    """Rows left of ``team`` in every purged table."""
    counts = {}
    for table, rows_of_team in PURGED:
        row = db.execute(f"SELECT count(*) AS n FROM {table} WHERE {rows_of_team}", {"team": team}).fetchone()
        counts[table] = row["n"]
    return counts


def _audit(db: Any, team: str, kind: str) -> list[dict[str, Any]]:
    return db.execute("SELECT * FROM audit_log WHERE team_id = %s AND kind = %s ORDER BY id", (team, kind)).fetchall()


def test_every_table_with_a_team_is_purged_or_knowingly_kept(db):
    tables = {
        row["table_name"]
        for row in db.execute(
            "SELECT table_name FROM information_schema.columns WHERE column_name = 'team_id'"
            " AND table_schema = current_schema()"
        ).fetchall()
    }
    purged = {table for table, _ in PURGED}
    assert tables - purged == {"audit_log", "workspace_purges"}
    existing = {row["tablename"] for row in db.execute("SELECT tablename FROM pg_tables").fetchall()}
    assert purged <= existing


def test_an_uninstall_deletes_the_tokens_cancels_the_plans_and_purges_after_the_grace_period(two_teams, db, clock):
    app, _url, _settings, worker = two_teams
    plan_one, plan_two = _plan(db, TEAM_ONE), _plan(db, TEAM_TWO)
    assert all(r.status == 200 for r in app.uninstall(TEAM_ONE))
    worker.run_jobs(wait_for=2)

    cipher = TokenCipher([KEY])
    assert (
        db.execute("SELECT count(*) AS n FROM slack_installations WHERE team_id = %s", (TEAM_ONE,)).fetchone()["n"] == 0
    )
    assert find_bot_token(db, cipher, TeamRef(TEAM_ONE)) is None
    assert find_bot_token(db, cipher, TeamRef(TEAM_TWO)) == "xoxb-team-two"
    assert _plan(db, TEAM_ONE)["status"] == "cancelled" and _plan(db, TEAM_TWO)["status"] == "pending"
    [cancelled] = _audit(db, TEAM_ONE, "plan.cancelled")
    assert cancelled["plan_id"] == plan_one["id"] and cancelled["detail"]["was"] == "pending"
    assert _audit(db, TEAM_TWO, "plan.cancelled") == []
    # Both events were handled by their job.
    assert [
        r["status"]
        for r in db.execute(
            "SELECT status FROM slack_events WHERE event_type IN ('app_uninstalled', 'tokens_revoked') ORDER BY id"
        ).fetchall()
    ] == ["done", "done"]
    [scheduled] = db.execute("SELECT * FROM workspace_purges").fetchall()
    assert scheduled["team_id"] == TEAM_ONE
    assert abs(scheduled["purge_after"] - (clock.now() + timedelta(days=30))) < timedelta(minutes=1)

    kept = _rows_of(db, TEAM_ONE)
    assert kept["plans"] == 1 and kept["requests"] == 1 and kept["channel_messages"] >= 1
    clock.advance(days=29)
    assert reconcile()["workspaces_purged"] == []
    assert _rows_of(db, TEAM_ONE) == kept

    two_before = {table: n for table, n in _rows_of(db, TEAM_TWO).items()}
    clock.advance(days=2)
    assert reconcile()["workspaces_purged"] == [sum(n for n in kept.values())]
    assert set(_rows_of(db, TEAM_ONE).values()) == {0}
    assert _rows_of(db, TEAM_TWO) == two_before  # (its plan expired meanwhile; the row is there)
    assert db.execute("SELECT count(*) AS n FROM workspace_purges").fetchone()["n"] == 0
    [purged] = _audit(db, TEAM_ONE, "workspace.purged")
    assert purged["actor"] == "reconciler"
    assert purged["detail"] == {"counts": {table: n for table, n in kept.items() if n}}
    assert "Release" not in json.dumps(purged["detail"])
    assert reconcile()["workspaces_purged"] == []  # done once
    assert _plan(db, TEAM_TWO)["id"] == plan_two["id"]


def test_a_reinstall_within_the_grace_period_cancels_the_purge(two_teams, db, clock):
    app, url, _settings, worker = two_teams
    app.uninstall(TEAM_ONE)
    worker.run_jobs(wait_for=2)
    assert db.execute("SELECT team_id FROM workspace_purges").fetchone()["team_id"] == TEAM_ONE
    clock.advance(days=3)
    assert install(app, url, TEAM_ONE).status == 200
    assert db.execute("SELECT count(*) AS n FROM workspace_purges").fetchone()["n"] == 0
    [cancelled] = _audit(db, TEAM_ONE, "workspace.purge_cancelled")
    assert cancelled["detail"]["reason"] == "reinstalled"
    kept = _rows_of(db, TEAM_ONE)
    clock.advance(days=60)
    assert reconcile()["workspaces_purged"] == []
    assert _rows_of(db, TEAM_ONE)["requests"] == kept["requests"] == 1
    assert find_bot_token(db, TokenCipher([KEY]), TeamRef(TEAM_ONE)) == "xoxb-team-one"


def test_tokens_revoked_deletes_only_the_revoked_tokens(two_teams, db):
    app, url, _settings, worker = two_teams
    one = app.workspaces[TEAM_ONE]
    # Alice installs again, this time also granting a user token.
    started = browse(url + "/slack/install")
    back = app.approve(started.headers["location"] + "&user_scope=search:read", team_id=TEAM_ONE)
    assert browse(back, cookie=state_cookie(started)).status == 200
    cipher = TokenCipher([KEY])

    def user_token() -> str | None:
        row = db.execute(
            "SELECT user_token FROM slack_installations WHERE team_id = %s AND user_id = 'U0ALICE'", (TEAM_ONE,)
        ).fetchone()
        return cipher.decrypt(row["user_token"])

    assert user_token() == f"xoxp-{TEAM_ONE}-U0ALICE"
    one.deliver_event({"type": "tokens_revoked", "tokens": {"oauth": ["U0ALICE"], "bot": []}, "event_ts": "1.0"})
    worker.run_jobs(wait_for=1)
    assert user_token() is None
    assert find_bot_token(db, cipher, TeamRef(TEAM_ONE)) == "xoxb-team-one"
    assert _plan(db, TEAM_ONE)["status"] == "pending"  # Baton can still act there

    one.deliver_event({"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["U0BATON"]}, "event_ts": "2.0"})
    worker.run_jobs(wait_for=1)
    assert find_bot_token(db, cipher, TeamRef(TEAM_ONE)) is None
    assert _plan(db, TEAM_ONE)["status"] == "cancelled"
    assert [e["detail"]["reason"] for e in _audit(db, TEAM_ONE, "plan.cancelled")] == ["Baton's bot token was revoked"]
    assert db.execute("SELECT count(*) AS n FROM workspace_purges").fetchone()["n"] == 0  # not uninstalled
    assert find_bot_token(db, cipher, TeamRef(TEAM_TWO)) == "xoxb-team-two"
    assert _plan(db, TEAM_TWO)["status"] == "pending"


def test_an_approved_plan_and_a_parked_one_are_cancelled_a_running_one_is_not(two_teams, db, clock):
    app, _url, _settings, worker = two_teams
    plan = _plan(db, TEAM_ONE)
    # Three more plans of workspace one, in the states an uninstall meets (copies of the pending one).
    copies = {}
    for status in ("approved", "parked", "busy"):
        request = db.execute(
            "INSERT INTO requests (team_id, dedupe_key, source, channel_id, user_id, text, status)"
            " SELECT team_id, dedupe_key || %s, source, channel_id, user_id, text, 'planned' FROM requests"
            " WHERE id = %s RETURNING id",
            (status, plan["request_id"]),
        ).fetchone()["id"]
        copies[status] = db.execute(
            "INSERT INTO plans (request_id, team_id, channel_id, requester_id, title, rationale, planner, risk,"
            " status, expires_at) SELECT %s, team_id, channel_id, requester_id, title, rationale, planner, risk, %s,"
            " expires_at FROM plans WHERE id = %s RETURNING id",
            (request, "approved" if status == "approved" else "running", plan["id"]),
        ).fetchone()["id"]
        if status != "approved":
            db.execute(
                "INSERT INTO plan_steps (plan_id, idx, action, args, description, preview, risk, status, lease_until)"
                " SELECT %s, idx, action, args, description, preview, risk, 'running', %s FROM plan_steps"
                " WHERE plan_id = %s",
                (copies[status], clock.now() + timedelta(minutes=5), plan["id"]),
            )
    db.execute(
        "INSERT INTO parked_steps (plan_id, idx, since, retry_at, parks, reason)"
        " SELECT plan_id, idx, %s, lease_until, 1, 'slack 503' FROM plan_steps WHERE plan_id = %s",
        (clock.now(), copies["parked"]),
    )
    app.uninstall(TEAM_ONE)
    worker.run_jobs(wait_for=2)
    status = {
        k: db.execute("SELECT status FROM plans WHERE id = %s", (v,)).fetchone()["status"] for k, v in copies.items()
    }
    assert status == {"approved": "cancelled", "parked": "cancelled", "busy": "running"}
    assert db.execute("SELECT count(*) AS n FROM parked_steps").fetchone()["n"] == 0
    assert {
        s["status"]
        for s in db.execute("SELECT status FROM plan_steps WHERE plan_id = %s", (copies["parked"],)).fetchall()
    } == {"failed"}
    assert sorted(e["plan_id"] for e in _audit(db, TEAM_ONE, "plan.cancelled")) == sorted(
        [plan["id"], copies["approved"], copies["parked"]]
    )


def test_retention_zero_purges_at_the_next_pass(two_teams, db):
    app, _url, _settings, worker = two_teams
    worker.setting_changes = {"uninstall_retention_days": 0}
    app.uninstall(TEAM_ONE)
    worker.run_jobs(wait_for=2)
    assert reconcile()["workspaces_purged"] != []
    assert set(_rows_of(db, TEAM_ONE).values()) == {0}
    assert _rows_of(db, TEAM_TWO)["plans"] == 1


def test_baton_workspace_purge_asks_refuses_an_installed_workspace_and_prints_counts(two_teams, db, backends):
    env = {"DATABASE_URL": backends.database_url, "REDIS_URL": backends.redis_url, "BATON_HOME": "/tmp"}
    installed = run_baton("workspace", "purge", TEAM_ONE, "--yes", env=env)
    assert installed.returncode != 0 and "still has Baton installed" in installed.stderr
    app, _url, _settings, worker = two_teams
    app.uninstall(TEAM_ONE)
    worker.run_jobs(wait_for=2)
    unconfirmed = run_baton("workspace", "purge", TEAM_ONE, env=env)
    assert unconfirmed.returncode != 0 and "not confirmed" in unconfirmed.stderr
    assert _rows_of(db, TEAM_ONE)["plans"] == 1
    done = run_baton("workspace", "purge", TEAM_ONE, "--yes", env=env)
    assert done.returncode == 0, done.stderr
    assert f"deleted the data of {TEAM_ONE}" in done.stdout and "plans" in done.stdout
    assert set(_rows_of(db, TEAM_ONE).values()) == {0} and _rows_of(db, TEAM_TWO)["plans"] == 1
    [purged] = _audit(db, TEAM_ONE, "workspace.purged")
    assert purged["actor"] == "cli" and purged["detail"]["counts"]["plans"] == 1
    assert db.execute("SELECT count(*) AS n FROM workspace_purges").fetchone()["n"] == 0


def test_doctor_in_oauth_mode_reports_the_keys_the_installations_and_each_tokens_auth_test(two_teams):
    app, _url, settings, _worker = two_teams
    lines = installation_lines(settings)
    assert lines == [
        ("keys", True, "1 key(s); 4 stored token(s) under the first"),
        ("installs", True, f"2 workspace(s): {TEAM_ONE}, {TEAM_TWO}"),
        (f"slack {TEAM_ONE}", True, "auth.test ok: bot baton in team Baton Local"),
        (f"slack {TEAM_TWO}", True, "auth.test ok: bot baton in team Baton Local"),
    ]
    names = [check.name for check in run_checks(settings)]
    assert "installs" in names and "slack" not in names
    # Removed from Slack but not yet handled: its token answers token_revoked; a key rotation half done.
    assert app.uninstall(TEAM_ONE, notify=False) == []
    newer = Fernet.generate_key().decode()
    lines = installation_lines(settings.with_changes(encryption_keys=(newer, KEY)))
    assert lines[0] == (
        "keys",
        True,
        "2 key(s); 0 stored token(s) under the first, 4 under an older key: run `baton workspace rekey`",
    )
    assert lines[2] == (f"slack {TEAM_ONE}", False, "auth.test failed: token_revoked")
    assert lines[3][1] is True
    lost = installation_lines(settings.with_changes(encryption_keys=(newer,)))
    assert lost[0][1] is False and "4 under no configured key" in lost[0][2]
    assert lost[2] == (f"slack {TEAM_ONE}", False, "its bot token matches none of the keys in BATON_ENCRYPTION_KEY")


def test_an_uninstall_whose_job_was_lost_is_handled_by_the_recovery_pass(two_teams, db, redis_conn, clock):
    app, _url, _settings, worker = two_teams
    app.uninstall(TEAM_ONE)
    eventually(
        lambda: db.execute("SELECT count(*) AS n FROM slack_events WHERE event_type = 'app_uninstalled'").fetchone()[
            "n"
        ]
    )
    redis_conn.flushdb()  # the enqueued jobs are lost (Redis restarted empty)
    assert find_bot_token(db, TokenCipher([KEY]), TeamRef(TEAM_ONE)) == "xoxb-team-one"
    clock.advance(minutes=5)
    assert len(reconcile()["removals"]) == 2
    worker.run_jobs()
    assert find_bot_token(db, TokenCipher([KEY]), TeamRef(TEAM_ONE)) is None
    assert _plan(db, TEAM_ONE)["status"] == "cancelled"
    assert db.execute("SELECT team_id FROM workspace_purges").fetchone()["team_id"] == TEAM_ONE
    assert reconcile()["removals"] == []


def test_with_one_bot_token_an_uninstall_cancels_the_plans_and_keeps_the_data_for_a_purge_by_hand(bot, db):
    asked = bot.slack.post_as_user("U0ALICE", "C0GENERAL", "<@U0BATON> post Release 1.2 is out to <#C0OPS|ops>")
    assert all(r.status == 200 for r in asked.responses)
    bot.run_jobs(wait_for=1)
    assert plan_row(db)["status"] == "pending"
    assert bot.slack.deliver_event({"type": "app_uninstalled", "event_ts": "1.0"}).status == 200
    bot.run_jobs(wait_for=1)
    assert plan_row(db)["status"] == "cancelled"
    assert db.execute("SELECT count(*) AS n FROM workspace_purges").fetchone()["n"] == 0
    [handled] = _audit(db, bot.slack.identity.team_id, "workspace.app_uninstalled")
    assert handled["detail"] == {"tokens_deleted": 0, "plans_cancelled": 1, "purge_after": None}


def test_a_lost_uninstall_redriven_after_a_reinstall_leaves_the_new_tokens(two_teams, db, redis_conn, clock):
    app, url, _settings, worker = two_teams
    app.uninstall(TEAM_ONE)
    eventually(
        lambda: db.execute("SELECT count(*) AS n FROM slack_events WHERE event_type = 'app_uninstalled'").fetchone()[
            "n"
        ]
    )
    redis_conn.flushdb()  # the jobs are lost
    assert install(app, url, TEAM_ONE).status == 200
    clock.advance(minutes=5)
    assert len(reconcile()["removals"]) == 2
    worker.run_jobs()
    assert find_bot_token(db, TokenCipher([KEY]), TeamRef(TEAM_ONE)) == "xoxb-team-one"
    assert _plan(db, TEAM_ONE)["status"] == "pending"
    assert db.execute("SELECT count(*) AS n FROM workspace_purges").fetchone()["n"] == 0
    statuses = db.execute(
        "SELECT status FROM slack_events WHERE event_type IN ('app_uninstalled', 'tokens_revoked')"
    ).fetchall()
    assert [r["status"] for r in statuses] == ["ignored", "ignored"]
    assert reconcile()["removals"] == []
