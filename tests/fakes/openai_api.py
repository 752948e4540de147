"""A fake OpenAI-compatible API served over real HTTP, for tests.

An aiohttp server runs on ``127.0.0.1`` port 0 in a daemon thread with its own event loop; code under test
reaches it only through ``base_url``. Tests script the next answers (replies and faults), then inspect
the recorded requests::

    fake = FakeOpenAI(api_key="sk-test").start()
    fake.queue_chat("hello")
    client = OpenAI(base_url=fake.base_url, api_key="sk-test")

Chat requests consume one FIFO queue of answers; an empty queue answers 500 with
:data:`EMPTY_QUEUE_MESSAGE`. Concurrent requests take queued answers in arrival order, which a test
cannot predict; :meth:`FakeOpenAI.respond_with` answers by request content instead, before the queue.
Embeddings are computed (see :func:`tests.fakes.openai_replies.embed`) unless a fault was queued with
``path="embeddings"``. Requests that fail authentication or validation are recorded but consume nothing.

Modules: ``openai_state`` (queues, responders, recordings), ``openai_app`` (HTTP handlers),
``openai_validation`` (400s), ``openai_replies`` (response bodies, embeddings).
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from types import TracebackType
from typing import Any

from aiohttp import web

from tests.fakes.openai_app import EMPTY_QUEUE_MESSAGE, build_app
from tests.fakes.openai_profiles import PROFILES
from tests.fakes.openai_replies import ChatReply, to_arguments, to_content
from tests.fakes.openai_state import (
    Delay,
    ErrorAnswer,
    FakeState,
    Generation,
    Malformed,
    Path,
    RecordedRequest,
    Responder,
)

__all__ = [
    "DEFAULT_EMBEDDING_DIM",
    "EMPTY_QUEUE_MESSAGE",
    "ChatReply",
    "ErrorAnswer",
    "FakeOpenAI",
    "RecordedRequest",
    "Responder",
]

DEFAULT_EMBEDDING_DIM = 1536
_THREAD_TIMEOUT = 10.0
# How long stopping waits for in-flight handlers (e.g. a queued delay) before cancelling them.
_SHUTDOWN_TIMEOUT = 0.1


class FakeOpenAI:
    """A scriptable OpenAI-compatible HTTP server; see the module docstring for the behaviour."""

    def __init__(self, *, api_key: str = "sk-test", embedding_dim: int = DEFAULT_EMBEDDING_DIM) -> None:
        self._state = FakeState(api_key=api_key, embedding_dim=embedding_dim)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._port = 0

    # -- lifecycle -------------------------------------------------------------------------------------

    def start(self) -> FakeOpenAI:
        """Start serving in a daemon thread and return ``self``."""
        if self._thread is not None:
            raise RuntimeError("FakeOpenAI is already started")
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fake-openai", daemon=True)
        self._thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self._serve(), self._loop).result(_THREAD_TIMEOUT)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the server, its thread and its event loop. Safe to call twice."""
        loop, thread, runner = self._loop, self._thread, self._runner
        self._loop, self._thread, self._runner, self._port = None, None, None, 0
        if loop is None or thread is None:
            return
        if runner is not None:
            asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(_THREAD_TIMEOUT)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(_THREAD_TIMEOUT)
        loop.close()

    def reset(self) -> None:
        """Forget scripted answers, injected faults and recorded requests; restore ``embedding_dim``."""
        self._state.reset()

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    async def _serve(self) -> None:
        # handler_cancellation: a client that times out and hangs up ends its (sleeping) handler too.
        self._runner = web.AppRunner(
            build_app(self._state),
            access_log=None,
            handler_cancellation=True,
            shutdown_timeout=_SHUTDOWN_TIMEOUT,
        )
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind(("127.0.0.1", 0))
            await web.SockSite(self._runner, sock).start()  # the site owns the socket from here on
        except BaseException:
            sock.close()
            raise
        self._port = sock.getsockname()[1]

    # -- configuration -----------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The URL to give the SDK as ``base_url``: ``http://127.0.0.1:<port>/v1``."""
        if not self._port:
            raise RuntimeError("FakeOpenAI is not started")
        return f"http://127.0.0.1:{self._port}/v1"

    @property
    def api_key(self) -> str:
        """The only key the fake accepts as ``Authorization: Bearer <api_key>``."""
        return self._state.api_key

    @property
    def embedding_dim(self) -> int:
        """Vector length when a request has no ``dimensions``; ``reset()`` restores the constructor value."""
        return self._state.embedding_dim

    @embedding_dim.setter
    def embedding_dim(self, value: int) -> None:
        self._state.embedding_dim = value

    @property
    def profile(self) -> str:
        """The name of the server profile the fake plays (:mod:`tests.fakes.openai_profiles`); ``reset()`` restores
        ``openai``."""
        return self._state.profile

    @profile.setter
    def profile(self, name: str) -> None:
        if name not in PROFILES:
            raise ValueError(f"unknown profile {name!r}; one of {', '.join(PROFILES)}")
        self._state.profile = name

    # -- scripting -------------------------------------------------------------------------------------

    def queue_chat(
        self,
        content: str | dict[str, Any] | list[Any] | None = None,
        *,
        tool_calls: list[dict[str, Any]] | None = None,
        usage: dict[str, Any] | None = None,
        finish_reason: str | None = None,
        model: str | None = None,
        refusal: str | None = None,
        cut_after: int | None = None,
        interrupted_after: int | None = None,
        keepalive_for: float | None = None,
    ) -> None:
        """Queue an assistant reply (``cut_after``: streamed, the connection drops after that many content chunks;
        ``interrupted_after``: streamed, it ends cleanly after that many, with no finish reason; ``keepalive_for``:
        streamed, seconds of keep-alive comments come before the first piece).

        Dict/list ``content`` is sent as JSON text. Each tool call is ``{"name": str, "arguments": dict |
        str}`` and gets id ``call_<n>``; a string is sent as is, so it may be broken JSON. ``usage`` replaces
        the estimate, ``model`` the echoed request model; ``finish_reason`` defaults to ``"tool_calls"``
        when there are tool calls and ``"stop"`` otherwise.
        """
        calls = tuple((call["name"], to_arguments(call.get("arguments", {}))) for call in tool_calls or ())
        self._state.push("chat", ChatReply(to_content(content), calls, usage, finish_reason, model, refusal, cut_after,
                                           interrupted_after, keepalive_for))

    def queue_invalid_json_content(self, content: str = 'Sure! Here is the JSON: {"answer": ') -> None:
        """Queue a well-formed completion whose message content is not valid JSON (a misbehaving model)."""
        try:
            json.loads(content)
        except ValueError:
            self.queue_chat(content)
        else:
            raise ValueError(f"content is valid JSON: {content!r}")

    def queue_error(
        self,
        status: int,
        *,
        retry_after: float | None = None,
        message: str | None = None,
        times: int = 1,
        code: str | None = None,
        path: Path = "chat",
    ) -> None:
        """Queue ``times`` error answers with OpenAI's error body; ``retry_after`` sets ``Retry-After``
        (seconds), ``code`` the body's ``error.code`` (429 defaults to ``rate_limit_exceeded``)."""
        for _ in range(times):
            self._state.push(path, ErrorAnswer(status, message, retry_after, code))

    def queue_timeout(self, seconds: float, *, path: Path = "chat") -> None:
        """Make the next request wait ``seconds``, then take the following answer as usual.

        A client that gives up first hangs up, which cancels the wait without consuming that answer.
        """
        self._state.push(path, Delay(seconds))

    def queue_malformed(self, body: str = "{not json", *, path: Path = "chat") -> None:
        """Queue an HTTP 200 ``application/json`` answer whose body is ``body`` (not valid JSON)."""
        self._state.push(path, Malformed(body))

    def respond_with(self, responder: Responder) -> None:
        """Answer chat requests by their content: ``responder(body)`` gets each valid request's JSON body.

        It returns the reply's content (a string, or a dict/list sent as JSON), a :class:`ChatReply` (to set
        usage, model, finish reason...), an :class:`ErrorAnswer`, or ``None`` to leave the request to the
        next responder and then to the queue. Responders are consulted in the order added, before the
        queue, until :meth:`reset`; one that raises makes the request fail with a 500 naming the error.
        """
        self._state.add_responder(responder)

    # -- inspection ------------------------------------------------------------------------------------

    @property
    def pending(self) -> int:
        """How many scripted chat answers (replies and faults) are still queued."""
        return self._state.pending("chat")

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received since the last reset, oldest first (a copy)."""
        return self._state.requests()

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        """Only the ``/v1/chat/completions`` requests."""
        return [r for r in self.requests if r.path == "/v1/chat/completions"]

    @property
    def generations(self) -> list[Generation]:
        """The chat replies generated since the last reset, oldest first, and how far each got before it finished
        or its client hung up (a streamed one stops then)."""
        return self._state.generations()

    @property
    def embedding_requests(self) -> list[RecordedRequest]:
        """Only the ``/v1/embeddings`` requests."""
        return [r for r in self.requests if r.path == "/v1/embeddings"]
