"""Multi-workspace install end to end: /slack/install -> Slack's install page -> /slack/oauth_redirect ->
oauth.v2.access against the local Slack app -> the installation stored encrypted; forged and replayed states
refused; two workspaces side by side, each mention answered with its own workspace's token."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from psycopg.types.json import Jsonb

from core.installations import TeamRef
from localslack.oauth import LocalSlackApp
from memory.installations import find_bot_token
from memory.token_cipher import TokenCipher
from slackui import plan_card
from tests.conftest import Bot
from tests.scenario.loop_helpers import card_posts, eventually
from tests.scenario.oauth_helpers import (
    KEY,
    TEAM_ONE,
    TEAM_TWO,
    browse,
    install,
    start_oauth_baton,
    state_cookie,
)
from workers.reconcile import reconcile


@pytest.fixture(scope="module")
def oauth_baton(settings, clock) -> Iterator[tuple[LocalSlackApp, Any, Any]]:
    yield from start_oauth_baton(settings, now=clock.now)


@pytest.fixture
def oauth(oauth_baton, db, redis_conn):
    app, server, settings = oauth_baton
    app.reset()
    return app, server.url, settings


def test_a_full_install_stores_the_workspaces_tokens_encrypted(oauth, db):
    app, url, _ = oauth
    started = browse(url + "/slack/install")
    assert started.status == 302
    assert started.headers["location"].startswith(app.base_url + "oauth/v2/authorize?")
    assert "scope=app_mentions:read,channels:history," in started.headers["location"]
    back = app.approve(started.headers["location"], team_id=TEAM_ONE)
    finished = browse(back, cookie=state_cookie(started))
    assert finished.status == 200, finished.body
    [exchange] = app.oauth_calls()
    assert exchange.response["ok"] and exchange.response["team"]["id"] == TEAM_ONE
    # bolt asked auth.test who the new token is, and the workspace it belongs to answered
    assert [c.response["team_id"] for c in app.workspaces[TEAM_ONE].calls_to("auth.test")] == [TEAM_ONE]
    rows = db.execute("SELECT * FROM slack_installations ORDER BY user_id").fetchall()
    assert [(r["team_id"], r["user_id"]) for r in rows] == [(TEAM_ONE, ""), (TEAM_ONE, "U0ALICE")]
    assert "xoxb-team-one" not in repr([dict(r) for r in rows])
    assert find_bot_token(db, TokenCipher([KEY]), TeamRef(TEAM_ONE)) == "xoxb-team-one"
    # Requests are authorized from the store, and auth.test is asked once per token, not before every ack.
    for n in range(3):
        assert all(
            r.status == 200 for r in app.workspaces[TEAM_ONE].post_as_user("U0BOB", "C0GENERAL", f"hi {n}").responses
        )
    assert len(app.workspaces[TEAM_ONE].calls_to("auth.test")) == 2


def test_a_replayed_or_forged_state_is_refused_and_nothing_is_installed(oauth, db):
    app, url, _ = oauth
    started = browse(url + "/slack/install")
    back = app.approve(started.headers["location"], team_id=TEAM_ONE)
    assert browse(back, cookie=state_cookie(started)).status == 200
    replayed = browse(back, cookie=state_cookie(started))
    assert replayed.status == 401 and "invalid_state" in replayed.body  # the store consumed it once
    # A state Baton never issued, with a cookie that matches it (an attacker controls both): the store refuses.
    other = browse(url + "/slack/install")
    forged_back = app.approve(other.headers["location"].replace("state=", "state=forged"), team_id=TEAM_TWO)
    forged_state = forged_back.split("state=", 1)[1]
    forged = browse(forged_back, cookie=f"slack-app-oauth-state={forged_state}")
    assert forged.status == 401 and "invalid_state" in forged.body
    # A real state without its browser cookie (the link sent to someone else) is refused too.
    third = browse(url + "/slack/install")
    cookieless = browse(app.approve(third.headers["location"], team_id=TEAM_TWO))
    assert cookieless.status == 400 and "invalid_browser" in cookieless.body
    assert len(app.oauth_calls()) == 1, "only the first redirect exchanged its code"
    teams = [r["team_id"] for r in db.execute("SELECT DISTINCT team_id FROM slack_installations").fetchall()]
    assert teams == [TEAM_ONE]


def test_an_event_from_a_workspace_that_never_installed_is_answered_without_a_token(oauth, db):
    app, _, _ = oauth
    delivery = app.workspaces[TEAM_TWO].post_as_user("U0ALICE", "C0GENERAL", "<@U0BATON> hello")
    assert all(response.status < 500 for response in delivery.responses)
    assert app.workspaces[TEAM_TWO].calls_to("reactions.add") == []


def test_two_workspaces_side_by_side_each_mention_gets_its_card_with_its_own_token(oauth, db, redis_conn, clock):
    app, url, settings = oauth
    assert install(app, url, TEAM_ONE).status == 200
    assert install(app, url, TEAM_TWO, user_id="U0BOB").status == 200
    one, two = app.workspaces[TEAM_ONE], app.workspaces[TEAM_TWO]
    asked_one = one.post_as_user("U0ALICE", "C0GENERAL", "<@U0BATON> post Release 1.2 is out to <#C0OPS|ops>")
    asked_two = two.post_as_user("U0BOB", "C0GENERAL", "<@U0BATON> post Lunch is at noon to <#C0OPS|ops>")
    assert all(r.status == 200 for r in asked_one.responses + asked_two.responses)
    worker = Bot(url=url, settings=settings, redis=redis_conn, slack=one, clock=clock)
    worker.run_jobs(wait_for=2)

    plans = db.execute("SELECT team_id, card_channel, card_ts FROM plans ORDER BY team_id").fetchall()
    assert [p["team_id"] for p in plans] == [TEAM_ONE, TEAM_TWO]
    for workspace, token, mine, theirs, asked in (
        (one, "xoxb-team-one", "Release 1.2", "Lunch is at noon", asked_one),
        (two, "xoxb-team-two", "Lunch is at noon", "Release 1.2", asked_two),
    ):
        cards = card_posts(Bot(url=url, settings=settings, redis=redis_conn, slack=workspace, clock=clock))
        assert len(cards) == 1 and cards[0].params["thread_ts"] == asked.ts
        assert mine in str(cards[0].params["blocks"]) and theirs not in str(cards[0].params["blocks"])
        calls = [c for c in workspace.calls if c.method != "auth.test"]
        assert calls and all(c.response.get("ok") for c in calls), [
            c.response for c in calls if not c.response.get("ok")
        ]
        assert {c.headers.get("Authorization") for c in calls} == {f"Bearer {token}"}

    # Approving in workspace two runs its effect there, through the connectors' client, with its own token.
    plan_two = db.execute("SELECT * FROM plans WHERE team_id = %s", (TEAM_TWO,)).fetchone()
    clicked = two.click(
        "U0ALICE",
        channel=plan_two["card_channel"],
        message_ts=plan_two["card_ts"],
        action_id=plan_card.APPROVE,
        value=str(plan_two["id"]),
    )
    assert clicked.status == 200
    worker.run_jobs(wait_for=1)
    assert db.execute("SELECT status FROM plans WHERE id = %s", (plan_two["id"],)).fetchone()["status"] == "succeeded"
    assert [m["text"] for m in two.messages("C0OPS") if m.get("bot_id")] == ["Lunch is at noon"]
    assert [m for m in one.messages("C0OPS") if m.get("bot_id")] == []


def test_an_expiring_rotating_bot_token_is_refreshed_once_by_the_worker_and_stored(oauth, db, redis_conn, clock):
    app, url, settings = oauth
    app.token_lifetime = 12 * 3600
    try:
        assert install(app, url, TEAM_ONE).status == 200
        first = find_bot_token(db, TokenCipher([KEY]), TeamRef(TEAM_ONE))
        assert first is not None and first.startswith("xoxe.xoxb-T0ONE-")
        one = app.workspaces[TEAM_ONE]
        asked = one.post_as_user("U0ALICE", "C0GENERAL", "<@U0BATON> post Release 1.2 is out to <#C0OPS|ops>")
        assert all(r.status == 200 for r in asked.responses)
        # The token is about to expire when the job runs: the worker refreshes it before its first call.
        soon = (clock.now() + timedelta(seconds=60)).isoformat()
        db.execute(
            "UPDATE slack_installations SET details = jsonb_set(details, '{bot_token_expires_at}', %s)", (Jsonb(soon),)
        )
        Bot(url=url, settings=settings, redis=redis_conn, slack=one, clock=clock).run_jobs(wait_for=1)

        refreshes = [c for c in app.oauth_calls() if c.params.get("grant_type") == "refresh_token"]
        assert len(refreshes) == 1
        fresh = refreshes[0].response["access_token"]
        assert fresh != first and find_bot_token(db, TokenCipher([KEY]), TeamRef(TEAM_ONE)) == fresh
        posted = [token for method, token in app.rotating_token_calls() if method == "chat.postMessage"]
        assert posted and set(posted) == {fresh}
        assert len(card_posts(Bot(url=url, settings=settings, redis=redis_conn, slack=one, clock=clock))) == 1
        # The web process authorizes the next request with the refreshed token, without refreshing again.
        one.post_as_user("U0ALICE", "C0GENERAL", "<@U0BATON> post Lunch is at noon to <#C0OPS|ops>")
        reactions = eventually(lambda: [t for m, t in app.rotating_token_calls() if m == "reactions.add"][1:])
        assert reactions == [fresh]
        assert len([c for c in app.oauth_calls() if c.params.get("grant_type") == "refresh_token"]) == 1
    finally:
        app.token_lifetime = None


def test_a_job_after_its_rotating_token_expired_refreshes_it_and_uses_the_new_one_stored_encrypted(
    oauth, db, redis_conn, clock
):
    app, url, settings = oauth
    app.token_lifetime = 12 * 3600
    try:
        assert install(app, url, TEAM_ONE).status == 200
        first = find_bot_token(db, TokenCipher([KEY]), TeamRef(TEAM_ONE))
        one = app.workspaces[TEAM_ONE]
        asked = one.post_as_user("U0ALICE", "C0GENERAL", "<@U0BATON> post Release 1.2 is out to <#C0OPS|ops>")
        assert all(r.status == 200 for r in asked.responses)
        eventually(lambda: [t for m, t in app.rotating_token_calls() if m == "reactions.add"])
        clock.advance(hours=13)  # the job runs after the token expired, for Slack as for Baton's record of it
        expired = app.api_call("auth.test", {}, {"Authorization": f"Bearer {first}"}, None)
        assert expired.body == {"ok": False, "error": "token_expired"}
        mark = len(app.rotating_token_calls())
        Bot(url=url, settings=settings, redis=redis_conn, slack=one, clock=clock).run_jobs(wait_for=1)

        [refresh] = [c for c in app.oauth_calls() if c.params.get("grant_type") == "refresh_token"]
        fresh = refresh.response["access_token"]
        assert fresh != first and find_bot_token(db, TokenCipher([KEY]), TeamRef(TEAM_ONE)) == fresh
        stored = repr([dict(r) for r in db.execute("SELECT * FROM slack_installations").fetchall()])
        assert fresh not in stored and refresh.response["refresh_token"] not in stored  # encrypted at rest
        after = app.rotating_token_calls()[mark:]  # the job's calls: every one with the fresh token
        assert ("chat.postMessage", fresh) in after and {t for _, t in after} == {fresh}
        assert len(card_posts(Bot(url=url, settings=settings, redis=redis_conn, slack=one, clock=clock))) == 1
    finally:
        app.token_lifetime = None
        clock.offset = timedelta(0)


def test_the_recovery_pass_expires_a_workspaces_card_with_that_workspaces_token(oauth, db, redis_conn, clock):
    app, url, settings = oauth
    assert install(app, url, TEAM_TWO, user_id="U0BOB").status == 200
    two = app.workspaces[TEAM_TWO]
    two.post_as_user("U0BOB", "C0GENERAL", "<@U0BATON> post Lunch is at noon to <#C0OPS|ops>")
    worker = Bot(url=url, settings=settings, redis=redis_conn, slack=two, clock=clock)
    worker.run_jobs(wait_for=1)  # posts the card, and installs the worker context reconcile() uses
    plan = db.execute("SELECT * FROM plans").fetchone()
    clock.advance(hours=25)
    try:
        assert reconcile()["expired"] == [plan["id"]]
    finally:
        clock.offset = timedelta(0)
    [update] = [c for c in two.calls_to("chat.update") if c.params.get("ts") == plan["card_ts"]]
    assert update.response["ok"] and update.headers["Authorization"] == "Bearer xoxb-team-two"
    assert "Expired" in str(update.params.get("blocks"))
