"""Two workspaces installed side by side through the OAuth flow, with the same channel ids in each: a click, a
memory recall, a digest and an audit query of one never reach the other's data."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from localslack.oauth import LocalSlackApp
from memory.recall import recall
from memory.store import write_memory
from slackui import plan_card, replies
from tests.scenario.loop_helpers import eventually
from tests.scenario.oauth_helpers import TEAM_ONE, TEAM_TWO, start_oauth_baton, two_installed_with_plans

#: One vector for both workspaces' memories, so the vector search would find the other's if it were not scoped.
SAME_VECTOR = [1.0] + [0.0] * 383


@pytest.fixture(scope="module")
def oauth_baton(settings, clock) -> Iterator[tuple[LocalSlackApp, Any, Any]]:
    yield from start_oauth_baton(settings, now=clock.now)


@pytest.fixture
def two_teams(oauth_baton, db, redis_conn, clock):
    yield from two_installed_with_plans(oauth_baton, db, redis_conn, clock)


def _plan(db: Any, team: str) -> dict[str, Any]:
    return db.execute("SELECT * FROM plans WHERE team_id = %s", (team,)).fetchone()


def test_a_click_from_one_workspace_on_the_others_plan_is_refused(two_teams, db):
    app, _url, _settings, worker = two_teams
    plan_one, plan_two = _plan(db, TEAM_ONE), _plan(db, TEAM_TWO)
    two = app.workspaces[TEAM_TWO]
    # Bob, in workspace two, presses Approve on his own workspace's card with workspace one's plan id in it.
    clicked = two.click(
        "U0BOB",
        channel=plan_two["card_channel"],
        message_ts=plan_two["card_ts"],
        action_id=plan_card.APPROVE,
        value=str(plan_one["id"]),
    )
    assert clicked.status == 200
    told = eventually(lambda: [c.params.get("text") for c in two.calls_to("chat.postEphemeral")])
    assert told == [replies.WRONG_WORKSPACE]
    worker.run_jobs()
    assert _plan(db, TEAM_ONE)["status"] == "pending" and _plan(db, TEAM_ONE)["decided_by"] is None
    assert _plan(db, TEAM_TWO)["status"] == "pending"
    assert [c for c in app.workspaces[TEAM_ONE].calls if c.method == "chat.update"] == []


def test_a_memory_recall_in_one_workspace_never_returns_the_others(two_teams, db, clock):
    for team, text in ((TEAM_ONE, "deploys freeze on Fridays"), (TEAM_TWO, "deploys happen on Mondays")):
        write_memory(
            db,
            team_id=team,
            scope="channel",
            channel_id="C0GENERAL",
            text=text,
            key=f"iso-{team}",
            author_id="U0ALICE",
            embedding=SAME_VECTOR,
            embedding_model="test",
        )
    for team, mine, theirs in (
        (TEAM_ONE, "deploys freeze on Fridays", "Mondays"),
        (TEAM_TWO, "deploys happen on Mondays", "Fridays"),
    ):
        found = recall(
            db,
            team_id=team,
            channel_id="C0GENERAL",
            user_id="U0ALICE",
            query="when do deploys freeze on Fridays",
            embedding=SAME_VECTOR,
            now=clock.now(),
            touch=False,
        )
        texts = [r.text for r in found]
        assert mine in texts and not any(theirs in t for t in texts), texts


def test_a_digest_of_one_workspace_holds_nothing_of_the_other(two_teams, db):
    app, _url, _settings, worker = two_teams
    one, two = app.workspaces[TEAM_ONE], app.workspaces[TEAM_TWO]
    write_memory(
        db,
        team_id=TEAM_ONE,
        scope="channel",
        channel_id="C0GENERAL",
        text="we decided to ship on Tuesdays",
        key="iso-decision",
        kind="decision",
        author_id="U0ALICE",
    )
    assert two.slash_command("U0BOB", "C0GENERAL", "/baton", "digest now").status == 200
    worker.run_jobs(wait_for=1)
    digests = eventually(lambda: [m for m in two.messages("C0GENERAL") if m.get("bot_id") and "Lunch" in str(m)])
    assert digests, [m.get("text") for m in two.messages("C0GENERAL")]
    posted = str(digests[-1])
    assert "Release 1.2" not in posted and "Tuesdays" not in posted
    assert not [m for m in one.messages("C0GENERAL") if m.get("bot_id") and "Lunch" in str(m)]


def test_an_audit_query_is_scoped_to_the_asking_workspace(two_teams, db):
    app, _url, _settings, _worker = two_teams
    plan_one = _plan(db, TEAM_ONE)
    answers = {}
    for team, user in ((TEAM_ONE, "U0ALICE"), (TEAM_TWO, "U0BOB")):
        workspace = app.workspaces[team]
        assert workspace.slash_command(user, "C0GENERAL", "/baton", f"audit {plan_one['id']}").status == 200
        [answer] = eventually(lambda w=workspace: w.calls_to("response_url"))
        answers[team] = str(answer.params.get("text"))
    assert answers[TEAM_ONE].startswith(f"*Audit trail of plan #{plan_one['id']}*")
    assert answers[TEAM_TWO] == f"No audit trail for plan #{plan_one['id']} in this workspace."
