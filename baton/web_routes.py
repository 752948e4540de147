"""The HTTP surface of the web process: ``/slack/events``, ``/healthz``, ``/readyz`` (and the OAuth routes)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response

from bot.endpoint import SlackEndpoint, fingerprint
from bot.install import InstallEndpoint

log = logging.getLogger(__name__)

#: Returns ``{check_name: (ok, detail)}``.
ReadinessCheck = Callable[[], Awaitable[dict[str, tuple[bool, str]]]]

#: Slack never sends request bodies anywhere near this; larger ones are refused unread.
MAX_BODY_BYTES = 1024 * 1024


def build_web_app(endpoint: SlackEndpoint, *, readiness: ReadinessCheck,
                  install: InstallEndpoint | None = None) -> web.Application:
    """aiohttp application routing Slack traffic to the endpoint, plus health and readiness probes, and (in
    multi-workspace mode) ``/slack/install`` and ``/slack/oauth_redirect``."""
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    if install is not None:
        install.add_routes(app)

    async def slack_events(request: web.Request) -> web.Response:
        raw = await request.read()  # the raw bytes: the signature is checked on them before any parsing
        try:
            answer = await endpoint.handle(
                raw, headers=request.headers, content_type=request.content_type, query=request.query_string
            )
        except Exception:  # the endpoint answers every input itself; this is the last guard against a 500
            log.exception("the Slack endpoint failed (%s)", fingerprint(raw))
            return web.Response(status=400)
        return await to_aiohttp_response(answer)

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def readyz(_: web.Request) -> web.Response:
        results = await readiness()
        ok = all(passed for passed, _ in results.values())
        body: dict[str, Any] = {
            "ok": ok,
            "checks": {name: {"ok": p, "detail": d} for name, (p, d) in results.items()},
        }
        return web.json_response(body, status=200 if ok else 503)

    app.router.add_post("/slack/events", slack_events)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    return app
