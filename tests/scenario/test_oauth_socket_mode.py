"""OAuth together with Socket Mode: an app distributed through OAuth may take its traffic over Socket Mode (bolt
authorizes each envelope from the installation store, whatever the transport). Workspaces install through
``/slack/install`` on ``PORT`` (the installer's browser reaches it; Slack never calls it), then their envelopes
come over the app's one websocket and each is answered with its own workspace's installed token."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from localslack.oauth import LocalSlackApp
from tests.conftest import Bot
from tests.scenario.loop_helpers import card_posts, eventually
from tests.scenario.oauth_helpers import TEAM_ONE, TEAM_TWO, install, start_oauth_baton
from tests.scenario.test_socket_mode import FAST

#: team -> (who asks, what, the token its installation holds)
ASKS = {
    TEAM_ONE: ("U0ALICE", "Release 1.2 is out", "xoxb-team-one"),
    TEAM_TWO: ("U0BOB", "Lunch is at noon", "xoxb-team-two"),
}


@pytest.fixture(scope="module")
def oauth_socket_baton(settings, clock) -> Iterator[tuple[LocalSlackApp, Any, Any]]:
    yield from start_oauth_baton(
        settings,
        now=clock.now,
        socket_mode=True,
        slack_app_token="xapp-1-A0BATON-local",
        slack_signing_secret=None,  # Socket Mode traffic is not signed
        socket_options=FAST,
    )


def test_workspaces_installed_through_oauth_are_served_over_socket_mode_each_with_its_token(
    oauth_socket_baton, db, redis_conn, clock
):
    app, server, settings = oauth_socket_baton
    app.reset()
    one, two = app.workspaces[TEAM_ONE], app.workspaces[TEAM_TWO]
    assert one.socket is two.socket, "one app, one set of connections"
    assert eventually(lambda: one.socket.open_connections >= 1, timeout=10), "never connected"
    assert install(app, server.url, TEAM_ONE).status == 200
    assert install(app, server.url, TEAM_TWO, user_id="U0BOB").status == 200
    try:
        for workspace in (one, two):
            workspace.delivery = "socket"
        asked = {}
        for team, (user, text, _token) in ASKS.items():
            asked[team] = app.workspaces[team].post_as_user(
                user, "C0GENERAL", f"<@U0BATON> post {text} to <#C0OPS|ops>"
            )
            assert [r.status for r in asked[team].responses] == [200, 200]  # acked over the socket
        Bot(url=server.url, settings=settings, redis=redis_conn, slack=one, clock=clock).run_jobs(wait_for=2)

        events = [m for m in one.socket.sent if m.get("type") == "events_api"]
        assert {m["payload"]["team_id"] for m in events} == {TEAM_ONE, TEAM_TWO}
        for team, (_user, text, token) in ASKS.items():
            workspace = app.workspaces[team]
            [card] = card_posts(Bot(url=server.url, settings=settings, redis=redis_conn, slack=workspace, clock=clock))
            assert card.params["thread_ts"] == asked[team].ts and text in str(card.params["blocks"])
            calls = [c for c in workspace.calls if c.method != "auth.test"]
            assert {c.method for c in calls} >= {"reactions.add", "chat.postMessage"}
            assert {c.headers.get("Authorization") for c in calls} == {f"Bearer {token}"}
    finally:
        for workspace in (one, two):
            workspace.wait_for_deliveries(timeout=15)
            workspace.delivery = "http"
