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
"""

from __future__ import annotations

import aiohttp
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from core import defaults
from core.settings import Settings

#: Times a job's client waits out a 429 before the caller sees it.
RATE_LIMIT_RETRIES = 2


def _timeout() -> int:
    return int(defaults.HTTP_TIMEOUT_SECONDS)


def plain_client(settings: Settings) -> WebClient:
    """A client with the settings' token, base URL and the default timeout, and no retries."""
    client = WebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url, timeout=_timeout())
    client.retry_handlers = []
    return client


def job_client(settings: Settings) -> WebClient:
    """The client jobs use: waits out a 429's ``Retry-After`` :data:`RATE_LIMIT_RETRIES` times, nothing else."""
    client = plain_client(settings)
    client.retry_handlers = [RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES)]
    return client


def effect_client(settings: Settings) -> WebClient:
    """The client connectors use for side effects: no retry handler of any kind (see the module docstring)."""
    return plain_client(settings)


def async_client(settings: Settings, *, session: aiohttp.ClientSession | None = None) -> AsyncWebClient:
    """The web process's client for its listeners; give it the process's one ``session`` so every call reuses
    its keep-alive connections (without one, slack_sdk opens a connection, and a TLS handshake, per call).

    In multi-workspace mode it carries no token: bolt gives each request's copy its team's installed token."""
    token = None if settings.oauth_enabled else settings.slack_bot_token
    return AsyncWebClient(token=token, base_url=settings.slack_api_url, timeout=_timeout(), session=session)
