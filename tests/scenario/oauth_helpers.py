"""A multi-workspace Baton for scenarios: two local workspaces behind one local Slack app, and a web server in
OAuth mode; plus the browser side of an install (no redirects followed, the state cookie carried by hand)."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from cryptography.fernet import Fernet

from baton.web_server import WebServer
from core.settings import Settings
from localslack import LocalSlack
from localslack.oauth import LocalSlackApp
from tests.conftest import Bot

CLIENT_ID, CLIENT_SECRET = "1111.2222", "oauth-client-secret"
KEY = Fernet.generate_key().decode()
TEAM_ONE, TEAM_TWO = "T0ONE", "T0TWO"


@dataclass
class Browser:
    """What a browser got back: status, headers (lower-case names) and body."""

    status: int
    headers: dict[str, str]
    body: str


def browse(url: str, *, cookie: str | None = None) -> Browser:
    """One GET, redirects not followed (the test follows them, carrying the cookie Slack's flow relies on)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    try:
        connection.request(
            "GET", parts.path + (f"?{parts.query}" if parts.query else ""), headers={"Cookie": cookie} if cookie else {}
        )
        reply = connection.getresponse()
        return Browser(reply.status, {k.lower(): v for k, v in reply.getheaders()}, reply.read().decode())
    finally:
        connection.close()


def state_cookie(reply: Browser) -> str:
    """``name=value`` of the state cookie /slack/install set."""
    return reply.headers["set-cookie"].split(";", 1)[0]


def install(app: LocalSlackApp, baton_url: str, team_id: str, *, user_id: str = "U0ALICE") -> Browser:
    """A person of ``team_id`` installs Baton: /slack/install, Allow on Slack's page, back to the redirect."""
    started = browse(baton_url + "/slack/install")
    assert started.status == 302, started
    back = app.approve(started.headers["location"], team_id=team_id, user_id=user_id)
    return browse(back, cookie=state_cookie(started))


def start_oauth_baton(
    base: Settings, *, now: Any, workspaces: list[LocalSlack] | None = None, **changes: Any
) -> Iterator[tuple[LocalSlackApp, WebServer, Settings]]:
    """Two workspaces (``T0ONE``, ``T0TWO``, each its own bot token; or ``workspaces``) and Baton's web server in
    OAuth mode (with ``changes`` to its settings; ``socket_options`` goes to the server)."""
    workspaces = workspaces or [
        LocalSlack(
            team_id=TEAM_ONE, bot_token="xoxb-team-one", bot_id="B0ONE", signing_secret=base.slack_signing_secret or ""
        ),
        LocalSlack(
            team_id=TEAM_TWO, bot_token="xoxb-team-two", bot_id="B0TWO", signing_secret=base.slack_signing_secret or ""
        ),
    ]
    # The app's clock is the test's: a rotating token expires at the local app when the injected clock passes it.
    app = LocalSlackApp(
        workspaces, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, clock=lambda: now().timestamp()
    ).start()
    settings = base.with_changes(
        slack_bot_token=None,
        slack_client_id=CLIENT_ID,
        slack_client_secret=CLIENT_SECRET,
        encryption_keys=(KEY,),
        slack_api_url=app.api_url,
    )
    socket_options = changes.pop("socket_options", None)
    settings = settings.with_changes(**changes) if changes else settings
    server = WebServer(settings, host="127.0.0.1", port=0, now=now, socket_options=socket_options)
    url = server.start_in_thread()
    app.redirect_uri = url + "/slack/oauth_redirect"
    for workspace in workspaces:
        workspace.events_url = url + "/slack/events"
    try:
        yield app, server, settings
    finally:
        server.stop_thread()
        app.stop()


def two_installed_with_plans(oauth_baton: Any, db: Any, redis_conn: Any, clock: Any) -> Iterator[tuple[Any, ...]]:
    """Both workspaces installed through the OAuth flow, each with a plan waiting for approval in C0GENERAL (the
    same channel id in both): yields (the local app, Baton's URL, its settings, an in-process worker)."""
    app, server, settings = oauth_baton
    app.reset()
    clock.offset = timedelta(0)
    assert install(app, server.url, TEAM_ONE).status == 200
    assert install(app, server.url, TEAM_TWO, user_id="U0BOB").status == 200
    one, two = app.workspaces[TEAM_ONE], app.workspaces[TEAM_TWO]
    one.post_as_user("U0ALICE", "C0GENERAL", "<@U0BATON> post Release 1.2 is out to <#C0OPS|ops>")
    two.post_as_user("U0BOB", "C0GENERAL", "<@U0BATON> post Lunch is at noon to <#C0OPS|ops>")
    worker = Bot(url=server.url, settings=settings, redis=redis_conn, slack=one, clock=clock)
    worker.run_jobs(wait_for=2)
    statuses = [r["status"] for r in db.execute("SELECT status FROM plans ORDER BY team_id").fetchall()]
    assert statuses == ["pending", "pending"], statuses
    try:
        yield app, server.url, settings, worker
    finally:
        clock.offset = timedelta(0)
