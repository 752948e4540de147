"""Every Slack Web API client Baton makes: Baton's token, the configured base URL, a timeout, and the retry
policy the caller's kind of work allows.

- :func:`job_client`: jobs that read and render (cards, digests, look-ups). A 429 was not processed by
  Slack, so waiting out its ``Retry-After`` (twice) and sending again is safe.
- :func:`effect_client`: connectors. No retry handler at all: a post that reached Slack must never be sent
  again behind the connectors' idempotency checks, and retries of side effects belong to the executor,
  which extends the step's lease before waiting (so a long wait inside one call can never outlive the lease
  and let the reconciler start the same effect on another worker).
- :func:`async_client`: the web process's listeners (ephemeral notes, modals, card refreshes after a click).
- :func:`plain_client`: one-off calls of the command line (``auth.test`` for ``doctor`` and links).

In multi-workspace mode (``SLACK_CLIENT_ID`` set) there is no process-wide token: the job clients are
:class:`InstalledTokenClient`, whose every call carries the token of the workspace the running job works for,
bound around the job with :func:`team_token` (the worker resolves it from the installation store).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import aiohttp
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from core import defaults
from core.settings import Settings

#: Times a job's client waits out a 429 before the caller sees it.
RATE_LIMIT_RETRIES = 2


#: The bot token of the workspace the running job works for (multi-workspace mode only).
_team_token: ContextVar[str | None] = ContextVar("baton_team_token", default=None)


class NoInstalledToken(RuntimeError):
    """A Slack call in multi-workspace mode outside a job of an installed workspace."""


@contextmanager
def team_token(token: str | None) -> Iterator[None]:
    """Make ``token`` (a workspace's installed bot token, or None) the one job clients use inside the block."""
    reset = _team_token.set(token)
    try:
        yield
    finally:
        _team_token.reset(reset)


class InstalledTokenClient(WebClient):
    """A ``WebClient`` whose calls carry the bound workspace's token (:func:`team_token`), never a process-wide
    one; a call with none bound fails with :class:`NoInstalledToken` before anything is sent."""

    def api_call(self, api_method: str, *, headers: dict[str, Any] | None = None,
                 **kwargs: Any) -> Any:
        token = current_token(self)
        if token is None:
            raise NoInstalledToken(f"{api_method}: no installed workspace's token is bound to this job")
        # A request's own Authorization header wins over the client's (slack_sdk's _get_headers): thread-safe.
        return super().api_call(api_method, headers={**(headers or {}), "Authorization": f"Bearer {token}"},
                                **kwargs)


def current_token(client: WebClient) -> str | None:
    """The token ``client``'s calls carry now (the bound workspace's, for an :class:`InstalledTokenClient`)."""
    return _team_token.get() if isinstance(client, InstalledTokenClient) else client.token


def _timeout() -> int:
    return int(defaults.HTTP_TIMEOUT_SECONDS)


def plain_client(settings: Settings) -> WebClient:
    """A client with the settings' token, base URL and the default timeout, and no retries."""
    client = WebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url, timeout=_timeout())
    client.retry_handlers = []
    return client


def oauth_client(settings: Settings) -> WebClient:
    """A client with no token at all, for ``oauth.v2.access`` (the app's id and secret are its credentials)."""
    client = WebClient(base_url=settings.slack_api_url, timeout=_timeout())
    client.retry_handlers = []
    return client


def _worker_client(settings: Settings) -> WebClient:
    """:func:`plain_client`, or in multi-workspace mode an :class:`InstalledTokenClient` (the job's token)."""
    if not settings.oauth_enabled:
        return plain_client(settings)
    client = InstalledTokenClient(base_url=settings.slack_api_url, timeout=_timeout())
    client.retry_handlers = []
    return client


def job_client(settings: Settings) -> WebClient:
    """The client jobs use: waits out a 429's ``Retry-After`` :data:`RATE_LIMIT_RETRIES` times, nothing else."""
    client = _worker_client(settings)
    client.retry_handlers = [RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES)]
    return client


def effect_client(settings: Settings) -> WebClient:
    """The client connectors use for side effects: no retry handler of any kind (see the module docstring)."""
    return _worker_client(settings)


def async_client(settings: Settings, *, session: aiohttp.ClientSession | None = None) -> AsyncWebClient:
    """The web process's client for its listeners; give it the process's one ``session`` so every call reuses
    its keep-alive connections (without one, slack_sdk opens a connection, and a TLS handshake, per call).

    In multi-workspace mode it carries no token: bolt gives each request's copy its team's installed token."""
    token = None if settings.oauth_enabled else settings.slack_bot_token
    return AsyncWebClient(token=token, base_url=settings.slack_api_url, timeout=_timeout(), session=session)
