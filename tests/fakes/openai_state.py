"""The fake OpenAI API's shared state: scripted answers and recorded requests.

Tests write to it from their own thread and the server's handlers read it from the server thread, so
every access goes through one lock.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from tests.fakes.openai_replies import ChatReply, to_content

Path = Literal["chat", "embeddings"]


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake received it: ``headers`` keys are lower-cased and ``body`` is the parsed
    JSON (``None`` for an empty or unparsable body)."""

    path: str
    body: Any
    headers: dict[str, str]
    method: str = "POST"


@dataclass(frozen=True)
class ErrorAnswer:
    """Answer with an HTTP error and OpenAI's error body."""

    status: int
    message: str | None = None
    retry_after: float | None = None
    code: str | None = None


@dataclass(frozen=True)
class Delay:
    """Wait, then take the next answer as usual."""

    seconds: float


@dataclass(frozen=True)
class Malformed:
    """Answer HTTP 200 ``application/json`` with a body that is not JSON."""

    body: str


Answer = ChatReply | ErrorAnswer | Delay | Malformed


@dataclass
class Generation:
    """One reply the fake "generated" (at its profile's pace): how many content pieces it had and how many it
    produced before it finished or the client hung up (a streamed reply stops then, a whole one does not)."""

    completion_id: str
    streamed: bool
    pieces: int
    produced: int = 0
    hung_up: bool = False
    finished: bool = False

#: Answers a chat request by its body: content (a string, or a dict/list sent as JSON), a full
#: :class:`ChatReply` or an :class:`ErrorAnswer`; ``None`` passes the request on (to the next responder, then
#: the queue).
Responder = Callable[[dict[str, Any]], "str | dict[str, Any] | list[Any] | ChatReply | ErrorAnswer | None"]


class FakeState:
    """Queues of next answers (one per path, FIFO), recorded requests and id counters, all thread-safe."""

    def __init__(self, *, api_key: str, embedding_dim: int) -> None:
        self.api_key = api_key
        #: The name of the server profile played (``tests.fakes.openai_profiles.PROFILES``).
        self.profile = "openai"
        self.embedding_dim = embedding_dim
        self._default_dim = embedding_dim
        self._lock = threading.Lock()
        self._queues: dict[Path, deque[Answer]] = {"chat": deque(), "embeddings": deque()}
        self._requests: list[RecordedRequest] = []
        self._generations: list[Generation] = []
        self._responders: list[Responder] = []
        self._completion_ids = itertools.count(1)
        self._call_ids = itertools.count(1)

    def push(self, path: Path, answer: Answer) -> None:
        """Queue ``answer`` for the next request to ``path`` that is not yet answered."""
        if path not in self._queues:
            raise ValueError(f"path must be 'chat' or 'embeddings', not {path!r}")
        with self._lock:
            self._queues[path].append(answer)

    def pop(self, path: Path) -> Answer | None:
        """Take the oldest queued answer for ``path``, or ``None`` if there is none."""
        with self._lock:
            queue = self._queues[path]
            return queue.popleft() if queue else None

    def add_responder(self, responder: Responder) -> None:
        """Consult ``responder`` for every chat request, after those added before it and before the queue."""
        with self._lock:
            self._responders.append(responder)

    def respond(self, body: dict[str, Any]) -> ChatReply | ErrorAnswer | None:
        """The first responder's answer to ``body``, or ``None`` when none answers (or none is set).

        Responders run outside the lock, so one may read the fake's state (e.g. the recorded requests)."""
        with self._lock:
            responders = list(self._responders)
        for responder in responders:
            answer = responder(body)
            if answer is None:
                continue
            if isinstance(answer, ChatReply | ErrorAnswer):
                return answer
            return ChatReply(to_content(answer))
        return None

    def pending(self, path: Path) -> int:
        """How many answers are queued for ``path``."""
        with self._lock:
            return len(self._queues[path])

    def record(self, request: RecordedRequest) -> int:
        """Record ``request`` and return its 1-based number since the last reset."""
        with self._lock:
            self._requests.append(request)
            return len(self._requests)

    def start_generation(self, generation: Generation) -> Generation:
        """Keep ``generation`` (its handler updates it as it goes) and return it."""
        with self._lock:
            self._generations.append(generation)
        return generation

    def generations(self) -> list[Generation]:
        """The replies generated since the last reset, oldest first (live objects: read, do not change)."""
        with self._lock:
            return list(self._generations)

    def requests(self) -> list[RecordedRequest]:
        """A copy of the recorded requests, oldest first."""
        with self._lock:
            return list(self._requests)

    def next_completion_id(self) -> str:
        """A fresh ``chatcmpl-...`` id."""
        with self._lock:
            return f"chatcmpl-fake{next(self._completion_ids)}"

    def next_call_id(self) -> str:
        """A fresh tool-call id: ``call_1``, ``call_2``... counted since the last reset."""
        with self._lock:
            return f"call_{next(self._call_ids)}"

    def reset(self) -> None:
        """Clear queues, responders, recorded requests and counters; restore the default embedding dimension."""
        with self._lock:
            for queue in self._queues.values():
                queue.clear()
            self._requests.clear()
            self._generations.clear()
            self._responders.clear()
            self._completion_ids = itertools.count(1)
            self._call_ids = itertools.count(1)
            self.embedding_dim = self._default_dim
            self.profile = "openai"
