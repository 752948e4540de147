"""The OpenAI SDK client Baton builds for every model call (chat and embeddings), and nothing else builds one."""

from __future__ import annotations

import weakref
from typing import Any

import openai
from openai import OpenAI

from workers.llm.capabilities import no_retry_on_rejection
from workers.llm.deadline import Deadline


def openai_client_for(
    *, api_key: str | None, base_url: str | None, timeout: float, max_retries: int, client: OpenAI | None = None,
    deadline: Deadline | None = None,
) -> OpenAI:
    """The one way Baton builds an OpenAI SDK client (chat and embeddings): explicit key and base URL,
    so the SDK never reads its own environment variables, and timeouts and retries always set; a
    ``deadline`` bounds all its attempts together (:mod:`workers.llm.deadline`), and an answer rejecting what
    was sent is never retried (:func:`workers.llm.capabilities.no_retry_on_rejection`)."""
    options: dict[str, Any] = {"timeout": timeout, "max_retries": max_retries}
    hooks: dict[str, list[Any]] = {"request": [], "response": [no_retry_on_rejection]}
    if deadline is not None:
        for event, more in deadline.event_hooks().items():
            hooks[event] += more
    http = openai.DefaultHttpx2Client(event_hooks=hooks)
    options["http_client"] = http
    if client is not None:
        sdk = client.with_options(**options)
    else:
        sdk = OpenAI(api_key=api_key or NO_API_KEY, base_url=base_url or OPENAI_BASE_URL, **options)
    # The SDK closes only the HTTP client it made itself; this one goes (sockets and all) with the SDK client.
    weakref.finalize(sdk, http.close)
    return sdk


#: Where the SDK would send requests by default; passed explicitly so it never reads OPENAI_BASE_URL itself.
OPENAI_BASE_URL = "https://api.openai.com/v1"
#: Sent as the key to keyless local servers (the SDK insists on some key, and must not read OPENAI_API_KEY).
NO_API_KEY = "no-key"
