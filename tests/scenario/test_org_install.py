"""Enterprise Grid: an org-wide install (an org admin installs Baton for the whole org) end to end against the
local Slack app. ``oauth.v2.access`` answers as Slack documents it for an organization-wide app (``team: null``,
``enterprise: {id}``, ``is_enterprise_install: true``); bolt's store finds the install by its org; a workspace
of the org, which has no installation of its own, is served with the org's token by the web process and by the
jobs; removing the org-wide install takes the org's workspaces out, and a workspace installed on its own stays."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from core.installations import TeamRef
from localslack import LocalSlack
from localslack.oauth import LocalSlackApp
from memory.installations import find_bot_token
from memory.token_cipher import TokenCipher
from slackui import plan_card
from tests.conftest import Bot
from tests.scenario.loop_helpers import card_posts, eventually
from tests.scenario.oauth_helpers import KEY, browse, install, start_oauth_baton, state_cookie
from workers.reconcile import reconcile

ORG, GRID, SOLO = "E0ORG", "T0GRID", "T0SOLO"
ORG_TOKEN = f"xoxb-org-{ORG}"


@pytest.fixture(scope="module")
def org_baton(settings, clock) -> Iterator[tuple[LocalSlackApp, Any, Any]]:
    secret = settings.slack_signing_secret or ""
    workspaces = [
        LocalSlack(team_id=GRID, bot_token="xoxb-grid", bot_id="B0GRID", signing_secret=secret, enterprise_id=ORG),
        LocalSlack(team_id=SOLO, bot_token="xoxb-solo", bot_id="B0SOLO", signing_secret=secret),
    ]
    yield from start_oauth_baton(settings, now=clock.now, workspaces=workspaces)


@pytest.fixture
def org(org_baton, db, redis_conn, clock):
    """The org installed org-wide (through /slack/install), the other workspace on its own; a mention in the
    org's workspace has been planned and its card posted."""
    app, server, settings = org_baton
    app.reset()
    clock.offset = timedelta(0)
    started = browse(server.url + "/slack/install")
    assert started.status == 302
    back = app.approve(started.headers["location"], enterprise_id=ORG, user_id="U0ALICE")
    finished = browse(back, cookie=state_cookie(started))
    assert finished.status == 200, finished.body
    assert install(app, server.url, SOLO, user_id="U0BOB").status == 200
    grid = app.workspaces[GRID]
    asked = grid.post_as_user("U0ALICE", "C0GENERAL", "<@U0BATON> post Release 1.2 is out to <#C0OPS|ops>")
    assert all(r.status == 200 for r in asked.responses)
    worker = Bot(url=server.url, settings=settings, redis=redis_conn, slack=grid, clock=clock)
    worker.run_jobs(wait_for=1)
    try:
        yield app, server.url, settings, worker, asked
    finally:
        clock.offset = timedelta(0)


def test_an_org_wide_install_is_stored_by_org_and_its_workspace_is_served_with_the_org_token(org, db):
    app, _url, _settings, worker, asked = org
    exchange = next(c for c in app.oauth_calls() if c.response.get("is_enterprise_install"))
    assert exchange.response["team"] is None and exchange.response["enterprise"]["id"] == ORG
    rows = db.execute(
        "SELECT enterprise_id, team_id, user_id, is_enterprise_install FROM slack_installations"
        " WHERE enterprise_id = %s ORDER BY user_id",
        (ORG,),
    ).fetchall()
    assert [(r["team_id"], r["user_id"], r["is_enterprise_install"]) for r in rows] == [
        ("", "", True),
        ("", "U0ALICE", True),
    ]
    assert ORG_TOKEN not in repr(db.execute("SELECT * FROM slack_installations").fetchall())
    # The org's workspace was noted by the web process, so a job finds the org's token for it.
    assert db.execute("SELECT enterprise_id FROM slack_team_orgs WHERE team_id = %s", (GRID,)).fetchone() == {
        "enterprise_id": ORG
    }
    assert find_bot_token(db, TokenCipher([KEY]), TeamRef(GRID)) == ORG_TOKEN
    assert find_bot_token(db, TokenCipher([KEY]), TeamRef(SOLO)) == "xoxb-solo"

    [card] = card_posts(worker)
    assert card.params["thread_ts"] == asked.ts and "Release 1.2" in str(card.params["blocks"])
    org_calls = app.org_token_calls()
    assert ("reactions.add", GRID) in org_calls and ("chat.postMessage", GRID) in org_calls
    grid_calls = [c for c in app.workspaces[GRID].calls if c.method != "auth.test"]
    assert grid_calls and all(c.response.get("ok") for c in grid_calls)
    assert len([m for m, _ in org_calls if m != "auth.test"]) == len(grid_calls), "every call carried the org token"

    # The Approve click (authorized by the org as well) runs the effect once, with the org's token.
    plan = db.execute("SELECT * FROM plans WHERE team_id = %s", (GRID,)).fetchone()
    clicked = app.workspaces[GRID].click(
        "U0BOB",
        channel=plan["card_channel"],
        message_ts=plan["card_ts"],
        action_id=plan_card.APPROVE,
        value=str(plan["id"]),
    )
    assert clicked.status == 200
    worker.run_jobs(wait_for=1)
    assert db.execute("SELECT status FROM plans WHERE id = %s", (plan["id"],)).fetchone()["status"] == "succeeded"
    assert [m["text"] for m in app.workspaces[GRID].messages("C0OPS") if m.get("bot_id")] == ["Release 1.2 is out"]
    assert [m for m in app.workspaces[SOLO].messages("C0OPS") if m.get("bot_id")] == []


def test_removing_the_org_wide_install_takes_its_workspaces_out_and_leaves_a_workspace_install(org, db, clock):
    app, _url, _settings, worker, _asked = org
    plan = db.execute("SELECT * FROM plans WHERE team_id = %s", (GRID,)).fetchone()
    assert plan["status"] == "pending"
    assert all(r.status == 200 for r in app.uninstall_org(ORG))
    worker.run_jobs(wait_for=2)

    assert (
        db.execute("SELECT count(*) AS n FROM slack_installations WHERE enterprise_id = %s", (ORG,)).fetchone()["n"]
        == 0
    )
    assert find_bot_token(db, TokenCipher([KEY]), TeamRef(GRID)) is None
    assert find_bot_token(db, TokenCipher([KEY]), TeamRef(SOLO)) == "xoxb-solo"
    assert db.execute("SELECT status FROM plans WHERE id = %s", (plan["id"],)).fetchone()["status"] == "cancelled"
    removals = db.execute(
        "SELECT kind, detail FROM audit_log WHERE team_id = %s AND kind LIKE 'workspace.%%' ORDER BY id", (GRID,)
    ).fetchall()
    assert [(r["kind"], r["detail"]["enterprise_id"], r["detail"]["plans_cancelled"]) for r in removals] == [
        ("workspace.tokens_revoked", ORG, 1),  # the bot token went first, and the plan with it
        ("workspace.app_uninstalled", ORG, 0),
    ]
    assert db.execute("SELECT team_id FROM workspace_purges").fetchall() == [{"team_id": GRID}]

    # A mention in the org's workspace now finds no token: acked, nothing answered.
    before = len(app.org_token_calls())
    again = app.workspaces[GRID].post_as_user("U0ALICE", "C0GENERAL", "<@U0BATON> hello again")
    assert all(r.status < 500 for r in again.responses)
    assert len(app.org_token_calls()) == before

    # After the grace period the recovery pass purges the org's workspace, its org note included; the other stays.
    clock.advance(days=31)
    reconcile()
    assert db.execute("SELECT count(*) AS n FROM plans WHERE team_id = %s", (GRID,)).fetchone()["n"] == 0
    assert db.execute("SELECT count(*) AS n FROM slack_team_orgs").fetchone()["n"] == 0
    assert find_bot_token(db, TokenCipher([KEY]), TeamRef(SOLO)) == "xoxb-solo"
    assert eventually(lambda: db.execute("SELECT count(*) AS n FROM workspace_purges").fetchone()["n"] == 0)


def test_reinstalling_org_wide_within_the_grace_period_keeps_the_orgs_workspaces(org, db):
    app, url, _settings, worker, _asked = org
    app.uninstall_org(ORG)
    worker.run_jobs(wait_for=2)
    assert db.execute("SELECT team_id FROM workspace_purges").fetchall() == [{"team_id": GRID}]
    started = browse(url + "/slack/install")
    back = app.approve(started.headers["location"], enterprise_id=ORG, user_id="U0ALICE")
    assert browse(back, cookie=state_cookie(started)).status == 200
    assert db.execute("SELECT count(*) AS n FROM workspace_purges").fetchone()["n"] == 0
    cancelled = db.execute(
        "SELECT detail FROM audit_log WHERE team_id = %s AND kind = 'workspace.purge_cancelled'", (GRID,)
    ).fetchone()
    assert cancelled["detail"]["reason"] == "reinstalled"
    assert find_bot_token(db, TokenCipher([KEY]), TeamRef(GRID)) == ORG_TOKEN
