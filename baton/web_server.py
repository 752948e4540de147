"""Compose and run the web process: settings -> Postgres pool, Redis, bolt app -> aiohttp server.

Runs either as the main program (``baton serve``) or in a background thread with its own event
loop (``baton demo`` and the tests), bound to port 0 when asked so nothing collides.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import aiohttp
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool, ConnectionPool
from slack_sdk.web.async_client import AsyncWebClient

from baton.backends import restart_log
from baton.metrics import AckMetrics, EmbeddedRestartsCollector, FactsCollector, process_registry, slack_kind
from baton.web_routes import build_web_app
from bot.app import build_endpoint, redis_enqueuer
from bot.deps import AppDeps, utc_now
from bot.install import InstallEndpoint, build_oauth_flow
from connectors.slack_clients import async_client
from core import correlation, defaults
from core.settings import Settings
from memory import migrate
from memory.db import CONNECT_TIMEOUT_SECONDS, STATEMENT_TIMEOUT_MS
from memory.health import applied_migrations
from memory.installations import PostgresInstallationStore
from memory.oauth_states import PostgresOAuthStateStore
from memory.token_cipher import TokenCipher
from workers import api

log = logging.getLogger(__name__)


class WebServer:
    """The Slack HTTP app bound to ``host:port`` (port 0 picks a free one; see :attr:`url`)."""

    def __init__(self, settings: Settings, *, host: str = "0.0.0.0", port: int | None = None,
                 now: Callable[[], datetime] = utc_now) -> None:
        if settings.database_url is None or settings.redis_url is None:
            raise ValueError("resolve DATABASE_URL and REDIS_URL (embedded or not) before building the server")
        self.settings = settings
        self.host = host
        self.port = settings.port if port is None else port
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._pool: AsyncConnectionPool | None = None
        self._sync_pool: ConnectionPool | None = None
        self._session: aiohttp.ClientSession | None = None
        #: The clock for approval expiry checks (injected: tests move time).
        self._now = now
        self._redis = api.connect_redis(settings.redis_url)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        #: What ``GET /metrics`` serves: Postgres and Redis facts, the ack latency, this process's resources.
        self.facts = FactsCollector(connect=self._metrics_connection, redis_conn=self._redis)
        self.registry = process_registry(self.facts)
        if (restarts := restart_log(settings)) is not None:
            self.registry.register(EmbeddedRestartsCollector(restarts, settings.embedded))
        self.ack_metrics = AckMetrics(self.registry)

    # -- async lifecycle ------------------------------------------------------------------------
    async def start(self) -> str:
        """Open the pool, bind the socket, return the base URL (``http://host:port``)."""
        # Async for the intake SQL before the ack; sync (used from threads) for the approval
        # transitions whose SQL the workers share.
        self._pool = AsyncConnectionPool(self.settings.database_url or "", **_pool_options())
        await self._pool.open(wait=True, timeout=CONNECT_TIMEOUT_SECONDS)
        self._sync_pool = ConnectionPool(self.settings.database_url or "", **_pool_options())
        await asyncio.to_thread(self._sync_pool.open, True, CONNECT_TIMEOUT_SECONDS)
        # One HTTP session for every Web API call the listeners make: keep-alive connections are reused.
        self._session = aiohttp.ClientSession()
        client = async_client(self.settings, session=self._session)
        deps = AppDeps(
            pool=self._pool,
            sync_pool=self._sync_pool,
            enqueue=redis_enqueuer(lambda kind, ident: self._enqueue_sync(kind, ident)),
            chat_model=self.settings.chat_model,
            now=self._now,
            settings=self.settings,
        )
        install = self._install_endpoint(client)
        endpoint = build_endpoint(signing_secret=self.settings.slack_signing_secret or "", client=client, deps=deps,
                                  oauth_flow=install.flow if install is not None else None)
        app = build_web_app(endpoint, readiness=self.readiness, install=install)
        app.middlewares.append(web.middleware(lambda request, handler: self._measure_slack(request, handler)))
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        addresses = self._runner.addresses
        bound_port = addresses[0][1] if addresses else self.port
        shown_host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        self.url = f"http://{shown_host}:{bound_port}"
        log.info("Slack HTTP app listening on %s (events at /slack/events%s)", self.url,
                 ", installs at /slack/install" if install is not None else "")
        return self.url

    def _install_endpoint(self, client: AsyncWebClient) -> InstallEndpoint | None:
        """Multi-workspace mode (``SLACK_CLIENT_ID`` set): bolt's OAuth flow on Baton's Postgres stores."""
        settings = self.settings
        if not settings.oauth_enabled:
            return None
        assert self._pool is not None and settings.slack_client_id and settings.slack_client_secret
        flow = build_oauth_flow(
            client=client, client_id=settings.slack_client_id, client_secret=settings.slack_client_secret,
            installation_store=PostgresInstallationStore(self._pool, TokenCipher(settings.encryption_keys)),
            state_store=PostgresOAuthStateStore(self._pool, now=self._now), api_url=settings.slack_api_url,
        )
        return InstallEndpoint(flow)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
        if self._sync_pool is not None:
            await asyncio.to_thread(self._sync_pool.close)
            self._sync_pool = None
        self._redis.close()

    async def readiness(self) -> dict[str, tuple[bool, str]]:
        """Postgres reachable with migrations current, Redis reachable."""
        results: dict[str, tuple[bool, str]] = {}
        try:
            assert self._pool is not None
            async with self._pool.connection(timeout=defaults.READINESS_TIMEOUT_SECONDS) as conn:
                done = await applied_migrations(conn)
            missing = [m.name for m in migrate.available() if m.name not in done]
            results["postgres"] = (True, "reachable")
            results["migrations"] = (
                not missing,
                "current" if not missing else "pending: " + ", ".join(missing),
            )
        except Exception as err:
            results["postgres"] = (False, f"unreachable: {err}")
            results["migrations"] = (False, "unknown (postgres unreachable)")
        try:
            await asyncio.to_thread(self._redis.ping)
            results["redis"] = (True, "reachable")
        except Exception as err:
            results["redis"] = (False, f"unreachable: {err}")
        return results

    # -- observability ----------------------------------------------------------------------------
    async def _measure_slack(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """Time each Slack request from arrival to response (the ack), labelled event/command/action.

        Each request starts with no correlation id (a kept-alive connection must not lend it the last
        request's); bolt's middleware sets it, and the closing log line carries it.
        """
        if request.path != "/slack/events":
            passed: web.StreamResponse = await handler(request)
            return passed
        started = time.perf_counter()
        with correlation.bind(None):
            status = 500
            try:
                response: web.StreamResponse = await handler(request)
                status = response.status
                return response
            except web.HTTPException as err:  # e.g. 413 for an oversized body
                status = err.status
                raise
            finally:
                elapsed = time.perf_counter() - started
                kind = await _request_kind(request)
                self.ack_metrics.observe(kind, status, elapsed)
                log.info("slack %s answered %s in %.1f ms", kind, status, elapsed * 1000)

    async def _metrics(self, _: web.Request) -> web.Response:
        """``GET /metrics`` in Prometheus' text format (the database part is read off the event loop)."""
        body = await asyncio.to_thread(generate_latest, self.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    def _metrics_connection(self) -> Any:
        if self._sync_pool is None:
            raise RuntimeError("the web server is not started")
        return self._sync_pool.connection(timeout=defaults.READINESS_TIMEOUT_SECONDS)

    def _enqueue_sync(self, kind: str, ident: int) -> None:
        api.enqueue_job(self._redis, kind, ident)

    # -- running ----------------------------------------------------------------------------------
    def serve_forever(self) -> None:
        """Run in the current thread until interrupted (``baton serve``)."""

        async def main() -> None:
            await self.start()
            try:
                await asyncio.Event().wait()
            finally:
                await self.stop()

        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(main())

    def start_in_thread(self) -> str:
        """Start on a private event loop in a daemon thread; return the URL once listening."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.start())
            except BaseException as err:
                failure.append(err)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self.stop())
            loop.close()

        self._thread = threading.Thread(target=run, name="baton-web", daemon=True)
        self._thread.start()
        ready.wait(timeout=60)
        if failure:
            raise failure[0]
        return self.url

    def stop_thread(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=30)
            self._thread = None
            self._loop = None


def _pool_options() -> dict[str, Any]:
    return {
        "min_size": 1,
        "max_size": 10,
        "open": False,
        "timeout": CONNECT_TIMEOUT_SECONDS,
        "kwargs": {
            "autocommit": True,
            "row_factory": dict_row,
            "options": f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
        },
    }


async def _request_kind(request: web.Request) -> str:
    try:
        return slack_kind(await request.read(), request.content_type)  # aiohttp keeps the body read once
    except Exception:
        return "other"

