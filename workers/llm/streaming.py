"""One chat completion, read whole or as it streams; a streamed one is stopped as soon as reading on cannot help.

A model server that is asked without ``stream`` writes its whole reply before sending a byte, and most keep
writing when the client hangs up (``llama-cpp-python`` does): a call Baton gave up on at its deadline keeps the
server busy, and the next call queues behind it. Streamed, the reply arrives as it is written and Baton stops
reading, closing the connection (which ``llama-cpp-python`` notices and stops generating; vLLM aborts such a
request too), when

- ``"time"``: the attempt's time is up (its purpose's timeout, or the work's deadline if that comes first). A
  per-read timeout alone never ends a server that keeps trickling tokens, or a proxy that sends keep-alive
  comments while the model thinks (OpenRouter does), so a watchdog hangs up at that time whatever arrives;
- ``"limit"``: more pieces arrived than the output limit allows, so the server ignores the limit parameter sent
  (each piece carries at least one token, :func:`core.model_capabilities.ignored_limit`; and the text is longer
  than the limit at four characters a token, so a proxy splitting tokens finer is not taken for one);
- ``"object"``: a JSON object closed and the model went on writing something else (small models in plain-text
  mode add a fence, an explanation, a second object); the text up to the object's end is kept.

A stream that ends without a finish reason and without a whole object was cut off by the server
(:attr:`Completion.broken_off`; ``llama-cpp-python`` ends a stream early when another request arrives, unless it
runs with ``--interrupt_requests False``): the caller asks again without streaming and remembers not to stream to
that model.

A server that goes wholly silent mid-stream is ended by the attempt's read timeout: closing the connection from
the watchdog's thread does not wake a read that nothing arrives for.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from core.context_budget import CHARS_PER_TOKEN
from core.json_stream import ObjectEnd, cut_after_object
from core.model_capabilities import ignored_limit

Stop = Literal["time", "limit", "object"]


class ChunkStream(Protocol):
    """What the SDK's ``Stream[ChatCompletionChunk]`` is to this module: chunks, and a way to hang up."""

    def __iter__(self) -> Iterator[Any]: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Completion:
    """The parts of a chat completion Baton uses, however it arrived.

    ``usage`` is the SDK's usage object, None when the server sent none (a stream Baton stopped never gets one).
    ``pieces`` counts the streamed chunks that carried content (0 for a whole reply); ``stopped`` says why Baton
    stopped reading a stream early, None when the server finished it."""

    content: str
    refusal: str | None
    finish_reason: str | None
    model: str | None
    usage: Any | None
    streamed: bool = False
    pieces: int = 0
    stopped: Stop | None = None

    @property
    def broken_off(self) -> bool:
        """A stream the server ended without finishing its reply (no finish reason, no whole object)."""
        if not self.streamed or self.stopped is not None or self.finish_reason is not None:
            return False
        scan = ObjectEnd()
        scan.feed(self.content)
        return scan.end is None


def whole(completion: Any) -> Completion | None:
    """A non-streamed SDK ``ChatCompletion`` as a :class:`Completion`; None when it has no choices."""
    if not completion.choices:
        return None
    choice = completion.choices[0]
    model = completion.model if isinstance(completion.model, str) and completion.model else None
    return Completion(content=choice.message.content or "", refusal=choice.message.refusal,
                      finish_reason=choice.finish_reason, model=model, usage=completion.usage)


class Reading:
    """What the chunks of one stream said so far (:meth:`take` each chunk as it comes)."""

    def __init__(self) -> None:
        self.content: list[str] = []
        self.refusal: list[str] = []
        self.finish_reason: str | None = None
        self.model: str | None = None
        self.usage: Any | None = None
        #: Chunks that carried content (each carries at least one token), and their characters.
        self.pieces = 0
        self.chars = 0

    def take(self, chunk: Any) -> str:
        """Note the SDK's ``chunk``; the content it carried ("" when none). ValueError for an event that is not a
        chunk (``data: null``)."""
        if not hasattr(chunk, "choices"):
            raise ValueError(f"the model API streamed {type(chunk).__name__} where a chunk belongs")
        if isinstance(chunk.model, str) and chunk.model:
            self.model = chunk.model
        if chunk.usage is not None:
            self.usage = chunk.usage
        text = ""
        for choice in chunk.choices or ():
            if choice.finish_reason is not None:
                self.finish_reason = choice.finish_reason
            delta = choice.delta
            if delta is None:
                continue
            if delta.refusal:
                self.refusal.append(delta.refusal)
            if delta.content:
                self.pieces += 1
                self.chars += len(delta.content)
                self.content.append(delta.content)
                text += delta.content
        return text


def read_stream(stream: ChunkStream, *, limit: int, ends_at: float,
                clock: Callable[[], float] = time.monotonic) -> Completion:
    """Read ``stream`` to its end, or stop early (see the module docstring) and hang up; ``ends_at`` is when the
    attempt's time is up, on ``clock``. The SDK's errors (a broken connection, a read timeout) pass through."""
    reading, scan = Reading(), ObjectEnd()
    stopped: Stop | None = None
    watchdog = _Watchdog(stream, after=ends_at - clock())
    try:
        for chunk in stream:
            scan.feed(reading.take(chunk))
            stopped = _why_stop(scan, reading, limit=limit, time_up=clock() >= ends_at)
            if stopped is not None:
                break
    except Exception:
        if not watchdog.fired:
            raise
        # The watchdog hung up under the read: whatever the read then raised says only that.
    finally:
        watchdog.cancel()
        stream.close()  # a stream stopped early hangs up here, and the server sees the connection go
    if watchdog.fired and stopped is None and reading.finish_reason is None:
        stopped = "object" if scan.end is not None else "time"
    text = cut_after_object("".join(reading.content), scan)
    return Completion(content=text, refusal="".join(reading.refusal) or None,
                      finish_reason="length" if stopped == "limit" else reading.finish_reason, model=reading.model,
                      usage=reading.usage, streamed=True, pieces=reading.pieces, stopped=stopped)


class _Watchdog:
    """Hangs ``stream`` up ``after`` seconds from now, from its own thread, unless cancelled first."""

    def __init__(self, stream: ChunkStream, *, after: float) -> None:
        self._stream = stream
        self.fired = False
        self._timer = threading.Timer(max(0.0, after), self._hang_up)
        self._timer.daemon = True
        self._timer.start()

    def _hang_up(self) -> None:
        self.fired = True
        self._stream.close()

    def cancel(self) -> None:
        self._timer.cancel()


def _why_stop(scan: ObjectEnd, reading: Reading, *, limit: int, time_up: bool) -> Stop | None:
    if reading.finish_reason is not None:
        return None  # the server is done; only its usage chunk may follow, and it is wanted
    if scan.end is not None and (scan.trailing or time_up):
        return "object"  # a whole object is as good as a finished reply, even when the time ran out just after
    if ignored_limit(limit=limit, completion_tokens=reading.pieces) and reading.chars > limit * CHARS_PER_TOKEN:
        return "limit"
    if time_up:
        return "time"
    return None
