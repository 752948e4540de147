"""Compose and run the web process: settings -> Postgres pool, Redis, bolt app -> aiohttp server.

Slack traffic arrives on ``/slack/events`` or, in Socket Mode, over a websocket the process opens itself
(``bot.socket_mode``); either way the aiohttp server answers ``/healthz``, ``/readyz`` and ``/metrics``
on ``PORT``, and in Socket Mode ``/readyz`` fails while the websocket is down.

Runs either as the main program (``baton serve``) or in a background thread with its own event
loop (``baton demo`` and the tests), bound to port 0 when asked so nothing collides.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import aiohttp
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool, ConnectionPool
from slack_sdk.web.async_client import AsyncWebClient

from baton.backends import restart_log
from baton.metrics import (
    AckMetrics,
    EmbeddedRestartsCollector,
    FactsCollector,
    SocketMetrics,
    process_registry,
    slack_kind,
)
from baton.web_routes import build_web_app
from bot.app import build_endpoint
from bot.deps import AppDeps, utc_now
from bot.endpoint import SlackEndpoint
from bot.enqueuer import BatchingEnqueuer
from bot.install import InstallEndpoint, build_oauth_flow
from bot.socket_mode import BatonSocketModeHandler, SocketOptions
from bot.spool import EventSpool, replay_forever
from connectors.slack_clients import async_client
from core import correlation, defaults
from core.settings import Settings
from memory import migrate
from memory.db import (
    ACK_CONNECT_TIMEOUT_SECONDS,
    ACK_STATEMENT_TIMEOUT_MS,
    CONNECT_TIMEOUT_SECONDS,
    STATEMENT_TIMEOUT_MS,
    WEB_CONNECT_TIMEOUT_SECONDS,
    WEB_RECONNECT_SECONDS,
    check_when_suspect,
)
from memory.health import applied_migrations
from memory.installations import PostgresInstallationStore
from memory.oauth_states import PostgresOAuthStateStore
from memory.token_cipher import TokenCipher
from workers import api

log = logging.getLogger(__name__)


class WebServer:
    """The Slack app (on ``/slack/events``, or over Socket Mode when ``settings.socket_mode``) and its probes,
    bound to ``host:port`` (port 0 picks a free one; see :attr:`url`)."""

    def __init__(self, settings: Settings, *, host: str = "0.0.0.0", port: int | None = None,
                 now: Callable[[], datetime] = utc_now, socket_options: SocketOptions | None = None) -> None:
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
        self._replayer: asyncio.Task[None] | None = None
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
        #: Socket Mode (``settings.socket_mode``): the bolt adapter and the task opening its first connection.
        self.socket: BatonSocketModeHandler | None = None
        self._socket_options = socket_options or SocketOptions()
        self._socket_connect: asyncio.Future[None] | None = None
        self.socket_metrics = SocketMetrics(self.registry, is_open=self._socket_open) if settings.socket_mode else None

    # -- async lifecycle ------------------------------------------------------------------------
    async def start(self) -> str:
        """Open the pool, bind the socket, return the base URL (``http://host:port``)."""
        # Async for the intake SQL before the ack (so bounded well inside Slack's 3 s); sync (used from threads)
        # for the approval transitions whose SQL the workers share (after the ack: the clicker waits on it).
        self._pool = AsyncConnectionPool(
            self.settings.database_url or "",
            check=check_when_suspect,  # no round trip on every checkout, before every ack
            **_pool_options(wait=ACK_CONNECT_TIMEOUT_SECONDS, statement_ms=ACK_STATEMENT_TIMEOUT_MS),
        )
        await self._pool.open(wait=True, timeout=CONNECT_TIMEOUT_SECONDS)
        self._sync_pool = ConnectionPool(
            self.settings.database_url or "",
            check=ConnectionPool.check_connection,
            **_pool_options(wait=WEB_CONNECT_TIMEOUT_SECONDS, statement_ms=STATEMENT_TIMEOUT_MS),
        )
        await asyncio.to_thread(self._sync_pool.open, True, CONNECT_TIMEOUT_SECONDS)
        # One HTTP session for every Web API call the listeners make: keep-alive connections are reused.
        self._session = aiohttp.ClientSession()
        client = async_client(self.settings, session=self._session)
        spool = EventSpool(self._redis)
        deps = AppDeps(
            pool=self._pool,
            sync_pool=self._sync_pool,
            enqueue=BatchingEnqueuer(lambda jobs: self._enqueue_sync(jobs)),
            chat_model=self.settings.chat_model,
            now=self._now,
            settings=self.settings,
            spool=spool,
        )
        install = self._install_endpoint(client)
        endpoint = build_endpoint(signing_secret=self.settings.slack_signing_secret or "", client=client, deps=deps,
                                  oauth_flow=install.flow if install is not None else None)
        if self.settings.socket_mode:
            self._start_socket(endpoint, client)
        # Events kept while Postgres was unavailable are recorded once it is back (bot/spool.py).
        self._replayer = asyncio.create_task(replay_forever(endpoint.app, spool))
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
        if self.socket is not None:
            log.info("Slack app connecting over Socket Mode; /healthz, /readyz and /metrics on %s", self.url)
        else:
            log.info("Slack HTTP app listening on %s (events at /slack/events%s)", self.url,
                     ", installs at /slack/install" if install is not None else "")
        return self.url

    def _start_socket(self, endpoint: SlackEndpoint, client: AsyncWebClient) -> None:
        """Build the Socket Mode adapter and open its connection in the background: the probes answer (and
        ``/readyz`` says the socket is down) while Slack cannot be reached; slack_sdk keeps trying."""
        self.socket = BatonSocketModeHandler(
            endpoint, app_token=self.settings.slack_app_token or "", web_client=client,
            options=self._socket_options, observe=self.ack_metrics.observe,
            on_hello=self.socket_metrics.on_hello if self.socket_metrics is not None else None,
        )
        self._socket_connect = asyncio.ensure_future(self.socket.connect_async())  # type: ignore[no-untyped-call]

    def _socket_open(self) -> bool:
        return self.socket is not None and self.socket.socket_open()

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
        if self.socket is not None:
            await self.socket.close_async()  # type: ignore[no-untyped-call]
            self.socket = None
        if self._socket_connect is not None:
            self._socket_connect.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._socket_connect
            self._socket_connect = None
        if self._replayer is not None:
            self._replayer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._replayer
            self._replayer = None
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
        """Postgres reachable with migrations current, Redis reachable; in Socket Mode, the websocket open."""
        results: dict[str, tuple[bool, str]] = {}
        if self.socket is not None:
            connected = await self.socket.is_connected()
            reconnects = self.socket.state.reconnects
            results["slack_socket"] = (
                connected, ("connected" if connected else "disconnected, reconnecting") + f" ({reconnects} reconnects)"
            )
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

    def _enqueue_sync(self, jobs: Sequence[api.JobRef]) -> None:
        api.enqueue_jobs(self._redis, jobs)

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


def _pool_options(*, wait: float, statement_ms: int) -> dict[str, Any]:
    """A web pool that waits at most ``wait`` seconds for a connection (a Postgres that is down is answered for at
    once, not after a long hang) and checks each connection it hands out (one left broken by a restart is
    replaced, not given to a request)."""
    return {
        "min_size": 1,
        "max_size": 10,
        "open": False,
        "timeout": wait,
        # psycopg_pool retries a failed connection after 1, 2, 4, ... s for this long, then lets the next request
        # try at once: a Postgres back after a long outage is used within seconds, not after a long backoff.
        "reconnect_timeout": WEB_RECONNECT_SECONDS,
        "kwargs": {
            "autocommit": True,
            "row_factory": dict_row,
            "connect_timeout": max(2, int(wait)),  # libpq's smallest
            "options": f"-c statement_timeout={statement_ms}",
        },
    }


async def _request_kind(request: web.Request) -> str:
    try:
        return slack_kind(await request.read(), request.content_type)  # aiohttp keeps the body read once
    except Exception:
        return "other"

