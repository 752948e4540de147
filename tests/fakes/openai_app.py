"""The fake OpenAI API's HTTP side: an aiohttp application answering from a :class:`FakeState`.

Every request is recorded first, then authenticated (``Authorization: Bearer <api_key>``), then
validated; only a valid request consumes a scripted answer.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from tests.fakes.openai_profiles import PROFILES, bounded, rejection
from tests.fakes.openai_replies import ChatReply, build_completion, build_embeddings, error_body
from tests.fakes.openai_state import (
    Answer,
    Delay,
    ErrorAnswer,
    FakeState,
    Generation,
    Malformed,
    Path,
    RecordedRequest,
)
from tests.fakes.openai_validation import InvalidRequest, embedding_inputs, validate_chat

EMPTY_QUEUE_MESSAGE = "fake openai: no scripted reply queued"
#: Listed by ``/v1/models`` when the profile serves embeddings (as OpenAI lists its embedding models).
EMBEDDING_MODELS = ("text-embedding-3-small", "text-embedding-3-large", "nomic-embed-text")
_MISSING_KEY = (
    "You didn't provide an API key. You need to provide your API key in an Authorization header using "
    "Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
)
_BAD_JSON = (
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your "
    "HTTP library correctly.)"
)


def build_app(state: FakeState) -> web.Application:
    """Return the aiohttp application serving ``/v1/chat/completions``, ``/v1/embeddings``, ``/v1/models``."""
    handlers = _Handlers(state)
    app = web.Application(middlewares=[handlers.record_and_authenticate])
    app.router.add_post("/v1/chat/completions", handlers.chat)
    app.router.add_post("/v1/embeddings", handlers.embeddings)
    app.router.add_get("/v1/models", handlers.models)
    app.router.add_route("*", "/{tail:.*}", handlers.unknown)
    return app


def _json(payload: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(payload, status=status, headers=headers)


def _error(
    status: int,
    message: str | None,
    *,
    param: str | None = None,
    code: str | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    return _json(error_body(status, message, code=code, param=param), status=status, headers=headers)


def _mask(key: str) -> str:
    return key[:3] + "*" * (len(key) - 7) + key[-4:] if len(key) > 7 else "****"


class _Handlers:
    def __init__(self, state: FakeState) -> None:
        self.state = state

    @web.middleware
    async def record_and_authenticate(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        headers = {k.lower(): v for k, v in request.headers.items()}
        number = self.state.record(RecordedRequest(request.path, body, headers, request.method))
        response = await self._authenticated(request, handler, raw=raw, body=body)
        response.headers["x-request-id"] = f"req_fake{number}"
        return response

    async def _authenticated(
        self, request: web.Request, handler: Handler, *, raw: bytes, body: Any
    ) -> web.StreamResponse:
        scheme, _, key = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Bearer" or not key.strip():
            return _error(401, _MISSING_KEY)
        if key.strip() != self.state.api_key:
            message = f"Incorrect API key provided: {_mask(key.strip())}. You can find your API key at "
            return _error(
                401, message + "https://platform.openai.com/account/api-keys.", code="invalid_api_key"
            )
        if raw and body is None:
            return _error(400, _BAD_JSON)
        return await handler(request)

    async def chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        try:
            validate_chat(body)
        except InvalidRequest as exc:
            return _error(400, exc.message, param=exc.param, code=exc.code)
        refused = rejection(PROFILES[self.state.profile], body)
        if refused is not None:
            return _fault(refused)
        try:
            answer = self.state.respond(body)
        except Exception as exc:  # a bug in a test's responder: show it to the test, and do not retry
            return _error(500, f"fake openai: responder failed: {exc!r}", headers={"x-should-retry": "false"})
        if answer is None:
            answer = await self._next_answer("chat")
        if answer is None:
            # x-should-retry: false makes an SDK with retries fail at once, showing this message.
            return _error(500, EMPTY_QUEUE_MESSAGE, headers={"x-should-retry": "false"})
        if isinstance(answer, Malformed) and body.get("stream"):
            # Asked to stream, a broken server sends an event whose data is not a chunk.
            return web.Response(status=200, text=f"data: {answer.body}\n\n", content_type="text/event-stream")
        if not isinstance(answer, ChatReply):
            return _fault(answer)
        answer = bounded(PROFILES[self.state.profile], body, answer)
        call_ids = [self.state.next_call_id() for _ in answer.tool_calls]
        completion_id = self.state.next_completion_id()
        completion = build_completion(answer, request=body, completion_id=completion_id, call_ids=call_ids)
        pace = PROFILES[self.state.profile].seconds_per_piece
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            generation = self.state.start_generation(Generation(completion_id, True, len(_pieces(completion)[1])))
            return await _stream(request, completion, include_usage=include_usage, cut_after=answer.cut_after,
                                 interrupted_after=answer.interrupted_after, pace=pace, generation=generation,
                                 keepalive_for=answer.keepalive_for)
        if pace:
            # A whole reply is written before it is sent, and a hang-up does not stop that (shielded).
            generation = self.state.start_generation(Generation(completion_id, False, len(_pieces(completion)[1])))
            await asyncio.shield(_generate(generation, pace=pace))
        return _json(completion)

    async def embeddings(self, request: web.Request) -> web.StreamResponse:
        if not PROFILES[self.state.profile].embeddings:
            return await self.unknown(request)
        body = await request.json()
        try:
            inputs = embedding_inputs(body)
        except InvalidRequest as exc:
            return _error(400, exc.message, param=exc.param, code=exc.code)
        answer = await self._next_answer("embeddings")
        if answer is not None:
            return _fault(answer)
        dim = body.get("dimensions") or self.state.embedding_dim
        fmt = body.get("encoding_format", "float")
        return _json(build_embeddings(inputs, model=body["model"], dim=dim, encoding_format=fmt))

    async def models(self, request: web.Request) -> web.StreamResponse:
        bodies = [r.body for r in self.state.requests() if isinstance(r.body, dict)]
        used = [b["model"] for b in bodies if isinstance(b.get("model"), str)]
        served = EMBEDDING_MODELS if PROFILES[self.state.profile].embeddings else ()
        names = dict.fromkeys(["fake-model", *served, *used])
        data = [{"id": name, "object": "model", "created": 0, "owned_by": "fake-openai"} for name in names]
        return _json({"object": "list", "data": data})

    async def unknown(self, request: web.Request) -> web.StreamResponse:
        return _error(404, f"fake openai: unknown endpoint {request.method} {request.path}")

    async def _next_answer(self, path: Path) -> Answer | None:
        """Pop the next answer, first sleeping through any queued delays."""
        answer = self.state.pop(path)
        while isinstance(answer, Delay):
            await asyncio.sleep(answer.seconds)
            answer = self.state.pop(path)
        return answer


#: Seconds between the keep-alive comments of ``keepalive_for``.
KEEPALIVE_EVERY = 0.1
#: Characters of content per streamed chunk (so a short reply still arrives in several pieces).
STREAM_PIECE = 8


def _pieces(completion: dict[str, Any]) -> tuple[str, list[str]]:
    """The streamed field (``refusal`` streams like content, as OpenAI sends it) and its pieces."""
    message = completion["choices"][0]["message"]
    field = "refusal" if message.get("refusal") else "content"
    text = message.get(field) or ""
    return field, [text[i:i + STREAM_PIECE] for i in range(0, len(text), STREAM_PIECE)]


async def _generate(generation: Generation, *, pace: float) -> None:
    for _ in range(generation.pieces):
        await asyncio.sleep(pace)
        generation.produced += 1
    generation.finished = True


async def _stream(request: web.Request, completion: dict[str, Any], *, include_usage: bool, generation: Generation,
                  cut_after: int | None = None, interrupted_after: int | None = None,
                  pace: float = 0.0, keepalive_for: float | None = None) -> web.StreamResponse:
    """The completion as OpenAI streams it: server-sent ``chat.completion.chunk`` events, the content in pieces
    (each ``pace`` seconds after the one before), the finish reason in the last one, then (when asked) a usage
    chunk with no choices, then ``[DONE]``. ``cut_after``: the connection is dropped after that many chunks,
    mid-stream; ``interrupted_after``: ``[DONE]`` follows that many pieces, with no finish reason;
    ``keepalive_for``: that many seconds of keep-alive comments come first. A client that hangs up stops the
    generation (``generation`` records how far it got)."""
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    base = {"id": completion["id"], "object": "chat.completion.chunk", "created": completion["created"],
            "model": completion["model"]}
    choice = completion["choices"][0]
    field, pieces = _pieces(completion)
    chunks = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant", field: piece},
                                    "finish_reason": None}]} for piece in pieces]
    chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": choice["finish_reason"]}]})
    if include_usage:
        chunks.append({**base, "choices": [], "usage": completion["usage"]})
    try:
        thinking_until = asyncio.get_running_loop().time() + (keepalive_for or 0.0)
        while asyncio.get_running_loop().time() < thinking_until:
            await response.write(b": keepalive\n\n")
            await asyncio.sleep(KEEPALIVE_EVERY)
        for n, chunk in enumerate(chunks):
            if cut_after is not None and n == cut_after:
                assert request.transport is not None
                request.transport.close()  # no last chunk of the chunked body: the client sees a broken stream
                return response
            if n == interrupted_after:
                break
            if n < len(pieces):
                if pace:
                    await asyncio.sleep(pace)
                generation.produced += 1
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
    except ConnectionResetError:
        generation.hung_up = True
        return response
    except asyncio.CancelledError:
        generation.hung_up = True
        raise
    generation.finished = interrupted_after is None
    return response


def _fault(answer: Answer) -> web.StreamResponse:
    if isinstance(answer, Malformed):
        return web.Response(status=200, text=answer.body, content_type="application/json")
    if not isinstance(answer, ErrorAnswer):
        raise TypeError(f"not a fault: {answer!r}")
    headers = {} if answer.retry_after is None else {"Retry-After": f"{answer.retry_after:g}"}
    return _error(answer.status, answer.message, code=answer.code, headers=headers)
