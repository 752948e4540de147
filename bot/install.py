"""``GET /slack/install`` and ``GET /slack/oauth_redirect``: bolt's OAuth v2 flow (multi-workspace mode).

Install sets a state (Postgres, ``memory.oauth_states``) and a browser cookie holding it, and sends the person
to Slack's install page; the redirect checks both (a forged, replayed or expired state is refused with bolt's
failure page, status 400), exchanges the code with ``oauth.v2.access`` through Baton's Slack client (so its
base URL, a local workspace's in tests, is used), and stores the installation encrypted
(``memory.installations``). Bolt's authorize then finds each request's token by its team.
"""

from __future__ import annotations

import logging

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient

from core import defaults
from core.installations import authorize_url

log = logging.getLogger(__name__)

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"


def build_oauth_flow(
    *,
    client: AsyncWebClient,
    client_id: str,
    client_secret: str,
    installation_store: AsyncInstallationStore,
    state_store: AsyncOAuthStateStore,
    api_url: str,
) -> AsyncOAuthFlow:
    """Bolt's OAuth flow with Baton's stores, the manifest's scopes and every Slack call through ``client``."""
    settings = AsyncOAuthSettings(
        client_id=client_id,
        client_secret=client_secret,
        scopes=list(defaults.SLACK_BOT_SCOPES),
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        # A plain redirect to Slack's page: the install link is the whole page.
        install_page_rendering_enabled=False,
        authorization_url=authorize_url(api_url),
        installation_store=installation_store,
        state_store=state_store,
        state_expiration_seconds=defaults.OAUTH_STATE_EXPIRY_SECONDS,
        logger=log,
    )
    # Bolt's default authorize refreshes expiring bot tokens with a client of its own (slack.com); give it ours.
    settings.authorize = AsyncInstallationStoreAuthorize(
        logger=log,
        installation_store=installation_store,
        client_id=client_id,
        client_secret=client_secret,
        token_rotation_expiration_minutes=settings.token_rotation_expiration_minutes,
        client=client,
        # auth.test once per token, not on every request: nothing slow before the ack (keyed by token, so a
        # refreshed token is asked about afresh).
        cache_enabled=True,
    )
    return AsyncOAuthFlow(client=client, settings=settings, logger=log)


class InstallEndpoint:
    """The two OAuth routes, answered by bolt's flow."""

    def __init__(self, flow: AsyncOAuthFlow) -> None:
        self.flow = flow

    async def install(self, request: web.Request) -> web.Response:
        """Start an install: a fresh state, its cookie, and a redirect to Slack's install page."""
        return await to_aiohttp_response(await self.flow.handle_installation(await to_bolt_request(request)))

    async def redirect(self, request: web.Request) -> web.Response:
        """Finish an install: check the state, exchange the code, store the installation."""
        return await to_aiohttp_response(await self.flow.handle_callback(await to_bolt_request(request)))

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get(INSTALL_PATH, self.install)
        app.router.add_get(REDIRECT_PATH, self.redirect)
