"""Installing an app into local workspaces (OAuth v2), and one Web API address for all of them.

:class:`LocalSlackApp` plays the Slack *app* side of a multi-workspace install: it serves one Web API base URL
in front of several :class:`~localslack.workspace.LocalSlack` workspaces (each with its own team id and bot
token), sends each call to the workspace whose token it carries (so ``auth.test`` answers for that token's
team, and a post lands in that team's channels), and answers ``oauth.v2.access`` itself: a code from
:meth:`LocalSlackApp.approve` (the "Allow" click on Slack's install page) is exchanged once, with the app's
client id and secret, for that team's tokens.

With ``token_lifetime`` set the app has token rotation on: an install grants a short-lived bot token
(``xoxe.xoxb-…``) with ``expires_in`` and a ``refresh_token``; ``oauth.v2.access`` with
``grant_type=refresh_token`` grants a fresh one; an expired token is answered ``token_expired``. Calls with a
rotating token reach their workspace with the workspace's own bot token (what its recorded calls show), and
:meth:`LocalSlackApp.rotating_token_calls` lists which rotating token each call carried.

``GET /oauth/v2/authorize`` on the same server is Slack's install page: with ``team`` (and optionally
``user``) in the query it approves at once and redirects to the app's redirect URL, like a person clicking
Allow; tests call :meth:`LocalSlackApp.approve` directly. The workspaces share one Socket Mode server (the
first's), as one app's connections carry every workspace's envelopes. Injections and recorded calls stay on each
workspace (``workspace.calls_to(...)``); a scripted delay is not applied through this front.

Enterprise Grid: a workspace made with ``enterprise_id`` belongs to that org, and
``approve(..., enterprise_id=E)`` is an org admin's org-wide install. ``oauth.v2.access`` then answers as Slack
documents it for an organization-wide app (``team: null``, ``enterprise: {id, name}``,
``is_enterprise_install: true``) with one org token (``xoxb-org-E``) that serves every workspace of the org; the
org's workspaces deliver with ``authorizations[0].is_enterprise_install`` true and ``team_id`` null, and
:meth:`LocalSlackApp.org_token_calls` lists ``(method, team)`` of each call made with an org token (the
``team_id`` argument picks the workspace, else the org's first). :meth:`LocalSlackApp.uninstall_org` removes
an org-wide install.

:meth:`LocalSlackApp.uninstall` removes the app from a workspace as an admin would: its tokens answer
``token_revoked`` from then on (until it installs again) and the workspace sends ``tokens_revoked`` and
``app_uninstalled``.
"""

from __future__ import annotations

import base64
import dataclasses
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from aiohttp import web

from localslack.delivery import DeliveryResponse
from localslack.errors import NotReady
from localslack.recording import Injection, RecordedCall
from localslack.server import Reply, ServerThread, build_app
from localslack.workspace import LocalSlack

#: The path of Slack's install page (``https://slack.com/oauth/v2/authorize``) on the local server.
AUTHORIZE_PATH = "/oauth/v2/authorize"


@dataclass(frozen=True)
class Grant:
    """What one Allow click granted: a code to exchange once for the tokens of ``team_id``."""

    team_id: str
    user_id: str
    scope: str
    user_scope: str
    redirect_uri: str
    #: An org-wide install by an admin of this Enterprise Grid org ('' for a workspace install).
    enterprise_id: str = ""


class InstallRefused(ValueError):
    """The install URL is not this app's (wrong client id) or names a workspace that does not exist."""


class LocalSlackApp:
    """A Slack app installable into several local workspaces; see the module docstring."""

    def __init__(
        self,
        workspaces: Sequence[LocalSlack],
        *,
        client_id: str = "0000.local",
        client_secret: str = "local-client-secret",
        redirect_uri: str | None = None,
        token_lifetime: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not workspaces:
            raise ValueError("a local Slack app needs at least one workspace")
        self.workspaces = {workspace.identity.team_id: workspace for workspace in workspaces}
        # One app has one app-level token and one set of Socket Mode connections, over which Slack sends every
        # workspace's envelopes: the workspaces share the first one's Socket Mode server.
        for workspace in workspaces[1:]:
            workspace.socket = workspaces[0].socket
        self.client_id = client_id
        self.client_secret = client_secret
        #: The Redirect URL configured on the app (used when the install URL carries none).
        self.redirect_uri = redirect_uri
        #: Seconds a rotating bot token lives (None: token rotation off, the workspace's own token is granted).
        self.token_lifetime = token_lifetime
        self._clock = clock
        self._grants: dict[str, Grant] = {}
        #: Every grant exchanged (who installed where), for the tokens an uninstall revokes.
        self._granted: list[Grant] = []
        self._calls: list[RecordedCall] = []
        #: Rotating token -> (team id, expiry); refresh token -> team id.
        self._rotating: dict[str, tuple[str, float]] = {}
        self._refresh: dict[str, str] = {}
        self._rotating_calls: list[tuple[str, str]] = []
        #: Workspaces (and orgs) that removed the app: every token of theirs answers ``token_revoked`` until
        #: reinstalled.
        self._uninstalled: set[str] = set()
        #: Org token -> its org; ``(method, team)`` of every call made with one.
        self._org_tokens: dict[str, str] = {}
        self._org_calls: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._server: ServerThread | None = None

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> LocalSlackApp:
        """Start every workspace (their event deliveries) and the shared Web API server; returns ``self``."""
        # The first last: the Socket Mode server they share runs on the loop of the one that started last.
        for workspace in reversed(list(self.workspaces.values())):
            workspace.start()
        if self._server is None:
            app = build_app(self)
            app.router.add_get(AUTHORIZE_PATH, self._authorize_page)
            self._server = ServerThread(app, name="local-slack-app-http")
            self._server.start()
        return self

    def stop(self) -> None:
        """Stop the shared server and every workspace (idempotent)."""
        if self._server is not None:
            self._server.stop()
            self._server = None
        for workspace in self.workspaces.values():
            workspace.stop()

    def reset(self) -> None:
        """Reset every workspace (see :meth:`LocalSlack.reset`) and forget codes and ``oauth.v2.access`` calls."""
        for workspace in self.workspaces.values():
            workspace.reset()
        with self._lock:
            self._grants.clear()
            self._granted.clear()
            self._calls.clear()
            self._rotating.clear()
            self._refresh.clear()
            self._rotating_calls.clear()
            self._uninstalled.clear()
            self._org_tokens.clear()
            self._org_calls.clear()
        for workspace in self.workspaces.values():
            workspace.identity = dataclasses.replace(workspace.identity, org_install=False)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/`` of the shared server."""
        if self._server is None:
            raise NotReady("LocalSlackApp is not started: call start() first")
        return f"http://127.0.0.1:{self._server.port}/"

    @property
    def api_url(self) -> str:
        """The one Web API base URL for every workspace (``WebClient(base_url=...)`` form)."""
        return f"{self.base_url}api/"

    def oauth_calls(self) -> list[RecordedCall]:
        """Every ``oauth.v2.access`` call this app answered."""
        with self._lock:
            return list(self._calls)

    def rotating_token_calls(self) -> list[tuple[str, str]]:
        """``(method, rotating token)`` of every call made with a rotating token (token rotation on)."""
        with self._lock:
            return list(self._rotating_calls)

    def org_token_calls(self) -> list[tuple[str, str]]:
        """``(method, team id)`` of every call made with an org-wide install's token."""
        with self._lock:
            return list(self._org_calls)

    # -- installing --------------------------------------------------------------------------------

    def approve(
        self, authorize_url: str, *, team_id: str = "", user_id: str = "U0ALICE", enterprise_id: str = ""
    ) -> str:
        """A person in ``team_id`` (or, with ``enterprise_id``, an admin of that org installing org-wide) clicks
        Allow on the install page at ``authorize_url``: returns the URL Slack redirects the browser to (the app's
        redirect URL with ``code`` and ``state``)."""
        query = {key: values[0] for key, values in parse_qs(urlsplit(authorize_url).query).items()}
        if query.get("client_id") != self.client_id:
            raise InstallRefused(f"the install URL names client_id {query.get('client_id')!r}, not this app's")
        if enterprise_id and not self._org_workspaces(enterprise_id):
            raise InstallRefused(f"no local workspace belongs to org {enterprise_id!r}")
        if not enterprise_id and team_id not in self.workspaces:
            raise InstallRefused(f"no local workspace {team_id!r}")
        redirect_uri = query.get("redirect_uri") or self.redirect_uri
        if not redirect_uri:
            raise InstallRefused("the install URL has no redirect_uri and the app has none configured")
        code = f"{enterprise_id or team_id}.{secrets.token_urlsafe(16)}"
        with self._lock:
            self._grants[code] = Grant(
                "" if enterprise_id else team_id,
                user_id,
                query.get("scope", ""),
                query.get("user_scope", ""),
                redirect_uri,
                enterprise_id,
            )
        separator = "&" if "?" in redirect_uri else "?"
        return redirect_uri + separator + urlencode({"code": code, "state": query.get("state", "")})

    async def _authorize_page(self, request: web.Request) -> web.Response:
        team_id = request.query.get("team", "")
        try:
            target = self.approve(str(request.url), team_id=team_id, user_id=request.query.get("user", "U0ALICE"))
        except InstallRefused as refused:
            return web.Response(status=400, text=str(refused))
        raise web.HTTPFound(target)

    # -- Backend (called from the server thread) ---------------------------------------------------

    def uninstall(self, team_id: str, *, notify: bool = True) -> list[DeliveryResponse]:
        """An admin of ``team_id`` removes the app: its tokens stop working (``token_revoked``), and Slack sends
        ``tokens_revoked`` (the bot's and the installer's tokens) then ``app_uninstalled``, as it does (not when
        ``notify`` is false: events that never arrive)."""
        workspace = self.workspaces[team_id]
        with self._lock:
            self._uninstalled.add(team_id)
            users = sorted({grant.user_id for grant in self._granted if grant.team_id == team_id})
        return _removal_events(workspace, users) if notify else []

    def uninstall_org(self, enterprise_id: str) -> list[DeliveryResponse]:
        """An org admin removes the org-wide install: the org token answers ``token_revoked`` from then on, and
        the org's first workspace delivers ``tokens_revoked`` then ``app_uninstalled`` under the org's
        authorization (Slack documents no other shape for an org app's uninstall)."""
        workspace = self._org_workspaces(enterprise_id)[0]
        with self._lock:
            self._uninstalled.add(enterprise_id)
            users = sorted({grant.user_id for grant in self._granted if grant.enterprise_id == enterprise_id})
        responses = _removal_events(workspace, users)
        for each in self._org_workspaces(enterprise_id):
            each.identity = dataclasses.replace(each.identity, org_install=False)
        return responses

    def _org_workspaces(self, enterprise_id: str) -> list[LocalSlack]:
        return [w for w in self.workspaces.values() if w.identity.enterprise_id == enterprise_id]

    def take_injection(self, method: str) -> Injection | None:
        """Injections are scripted per workspace: :meth:`api_call` takes them from the one it routes to."""
        return None

    def api_call(
        self,
        method: str,
        params: dict[str, Any],
        headers: dict[str, str],
        injection: Injection | None,
        *,
        connection: str = "",
    ) -> Reply:
        """``oauth.v2.access`` here; any other method in the workspace whose bot token the call carries."""
        if method == "oauth.v2.access":
            reply = self._access(params, headers)
            with self._lock:
                self._calls.append(
                    RecordedCall(method, dict(params), headers, reply.status, dict(reply.body), connection)
                )
            return reply
        token = _token(params, headers)
        with self._lock:
            org = self._org_tokens.get(token)
        if org is not None:
            return self._org_call(org, method, params, headers, connection=connection)
        with self._lock:
            rotating = self._rotating.get(token)
            if rotating is not None:
                self._rotating_calls.append((method, token))
        if rotating is not None:
            team_id, expires_at = rotating
            if self._clock() >= expires_at:
                return Reply(200, {"ok": False, "error": "token_expired"})
            workspace = self.workspaces[team_id]
            headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
            headers["Authorization"] = f"Bearer {workspace.bot_token}"
            params = {k: v for k, v in params.items() if k != "token"}
        else:
            workspace = self._workspace_of(token)
        with self._lock:
            removed = workspace.identity.team_id in self._uninstalled and (
                rotating is not None or workspace.bot_token == token
            )
        if removed:
            return Reply(200, {"ok": False, "error": "token_revoked"})
        return workspace.api_call(method, params, headers, workspace.take_injection(method), connection=connection)

    def _org_call(
        self, enterprise_id: str, method: str, params: dict[str, Any], headers: dict[str, str], *, connection: str
    ) -> Reply:
        """A call with an org token: to the org workspace its ``team_id`` names, else the org's first."""
        members = self._org_workspaces(enterprise_id)
        workspace = next((w for w in members if w.identity.team_id == params.get("team_id")), members[0])
        with self._lock:
            self._org_calls.append((method, workspace.identity.team_id))
            removed = enterprise_id in self._uninstalled
        if removed:
            return Reply(200, {"ok": False, "error": "token_revoked"})
        headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
        headers["Authorization"] = f"Bearer {workspace.bot_token}"
        params = {k: v for k, v in params.items() if k != "token"}
        return workspace.api_call(method, params, headers, workspace.take_injection(method), connection=connection)

    def download(self, file_key: str, headers: dict[str, str]) -> Reply:
        """A file of the workspace whose token the download carries."""
        return self._workspace_of(_token({}, headers)).download(file_key, headers)

    def _workspace_of(self, token: str) -> LocalSlack:
        for workspace in self.workspaces.values():
            if workspace.bot_token == token:
                return workspace
        return next(iter(self.workspaces.values()))  # it answers not_authed / invalid_auth itself

    def _access(self, params: dict[str, Any], headers: dict[str, str]) -> Reply:
        client_id, client_secret = _client_credentials(params, headers)
        if (client_id, client_secret) != (self.client_id, self.client_secret):
            return Reply(
                200, {"ok": False, "error": "invalid_client_id" if client_id != self.client_id else "bad_client_secret"}
            )
        if params.get("grant_type") == "refresh_token":
            return self._refreshed(str(params.get("refresh_token") or ""))
        with self._lock:
            grant = self._grants.pop(str(params.get("code") or ""), None)
        if grant is None:
            return Reply(200, {"ok": False, "error": "invalid_code"})
        if params.get("redirect_uri") and params["redirect_uri"] != grant.redirect_uri:
            return Reply(200, {"ok": False, "error": "bad_redirect_uri"})
        if grant.enterprise_id:
            return Reply(200, self._org_access(grant))
        identity = self.workspaces[grant.team_id].identity
        with self._lock:
            self._uninstalled.discard(grant.team_id)  # installed again
            self._granted.append(grant)
        authed_user: dict[str, Any] = {"id": grant.user_id}
        if grant.user_scope:
            authed_user.update(
                scope=grant.user_scope, access_token=f"xoxp-{grant.team_id}-{grant.user_id}", token_type="user"
            )
        body: dict[str, Any] = {
            "ok": True,
            "app_id": identity.app_id,
            "authed_user": authed_user,
            "scope": grant.scope,
            "token_type": "bot",
            "access_token": identity.bot_token,
            "bot_user_id": identity.bot_user_id,
            "team": {"id": identity.team_id, "name": identity.team_name},
            "enterprise": None,
            "is_enterprise_install": False,
        }
        if self.token_lifetime is not None:
            refresh_token = f"xoxe-1-{secrets.token_urlsafe(12)}"
            with self._lock:
                self._refresh[refresh_token] = grant.team_id
            body.update(self._rotating_token(grant.team_id), refresh_token=refresh_token)
        return Reply(200, body)

    def _org_access(self, grant: Grant) -> dict[str, Any]:
        """An org-wide install's ``oauth.v2.access`` answer, as Slack documents it: no team, the org, one token."""
        members = self._org_workspaces(grant.enterprise_id)
        token = f"xoxb-org-{grant.enterprise_id}"
        with self._lock:
            self._uninstalled.discard(grant.enterprise_id)
            self._granted.append(grant)
            self._org_tokens[token] = grant.enterprise_id
        for workspace in members:
            workspace.identity = dataclasses.replace(workspace.identity, org_install=True)
        identity = members[0].identity
        return {
            "ok": True,
            "app_id": identity.app_id,
            "authed_user": {"id": grant.user_id},
            "scope": grant.scope,
            "token_type": "bot",
            "access_token": token,
            "bot_user_id": identity.bot_user_id,
            "team": None,
            "enterprise": {"id": grant.enterprise_id, "name": grant.enterprise_id},
            "is_enterprise_install": True,
        }

    def _refreshed(self, refresh_token: str) -> Reply:
        """``grant_type=refresh_token``: a fresh bot token for the refresh token's team (the refresh token stays)."""
        with self._lock:
            team_id = self._refresh.get(refresh_token)
        if team_id is None or self.token_lifetime is None:
            return Reply(200, {"ok": False, "error": "invalid_refresh_token"})
        identity = self.workspaces[team_id].identity
        body = {
            "ok": True,
            "app_id": identity.app_id,
            "token_type": "bot",
            "refresh_token": refresh_token,
            "bot_user_id": identity.bot_user_id,
            "team": {"id": team_id, "name": identity.team_name},
            "enterprise": None,
            "is_enterprise_install": False,
        }
        return Reply(200, {**body, **self._rotating_token(team_id)})

    def _rotating_token(self, team_id: str) -> dict[str, Any]:
        assert self.token_lifetime is not None
        token = f"xoxe.xoxb-{team_id}-{secrets.token_urlsafe(12)}"
        with self._lock:
            self._rotating[token] = (team_id, self._clock() + self.token_lifetime)
        return {"access_token": token, "expires_in": self.token_lifetime}


def _removal_events(workspace: LocalSlack, users: list[str]) -> list[DeliveryResponse]:
    """What Slack sends when the app is removed: ``tokens_revoked`` (the bot's and the installers' tokens), then
    ``app_uninstalled``."""
    revoked = {
        "type": "tokens_revoked",
        "tokens": {"oauth": users, "bot": [workspace.identity.bot_user_id]},
        "event_ts": f"{time.time():.6f}",
    }
    return [
        workspace.deliver_event(revoked),
        workspace.deliver_event({"type": "app_uninstalled", "event_ts": f"{time.time():.6f}"}),
    ]


def _header(headers: dict[str, str], name: str) -> str:
    return next((v for k, v in headers.items() if k.lower() == name.lower()), "")


def _token(params: dict[str, Any], headers: dict[str, str]) -> str:
    authorization = _header(headers, "Authorization")
    return authorization[7:] if authorization.lower().startswith("bearer ") else str(params.get("token") or "")


def _client_credentials(params: dict[str, Any], headers: dict[str, str]) -> tuple[str, str]:
    """The app's id and secret, from HTTP Basic auth (what slack_sdk sends) or the form fields."""
    authorization = _header(headers, "Authorization")
    if authorization.lower().startswith("basic "):
        try:
            user, _, password = base64.b64decode(authorization[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return "", ""
        return user, password
    return str(params.get("client_id") or ""), str(params.get("client_secret") or "")
