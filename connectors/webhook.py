"""``http.webhook``: POST a JSON payload to an allow-listed URL, handing the idempotency key to the receiver.

Only URLs under a configured prefix (``BATON_WEBHOOK_ALLOWLIST``) are reachable, and a URL outside fails
``parse`` with a ``pydantic.ValidationError`` like any bad argument. A URL is under a prefix when the
scheme, host and port are equal and the path continues the prefix's path at a ``/`` boundary. Anything
that could make the URL mean something else to the HTTP stack than to that comparison is refused:
userinfo (``https://allowed@evil``), non-ASCII, whitespace, backslashes, ``.``/``..`` path segments (also
percent-encoded). Redirects are never followed (they could leave the allow-list).

Exactly once: each POST carries ``Idempotency-Key: <key>``; a receiver that honours it (as Stripe-style
APIs do) answers a repeat without acting twice. A receiver that ignores it may see a retried call again:
that is the far side's choice, and the reason every webhook step is HIGH risk.

With a secret set, ``X-Baton-Signature: sha256=<hex>`` is the HMAC-SHA256 of ``"{timestamp}.{body}"``
(``X-Baton-Timestamp`` in Unix seconds, ``body`` the exact bytes sent), as Slack signs its own requests.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar
from urllib.parse import SplitResult, unquote, urlsplit

from pydantic import Field, ValidationInfo, field_validator

from connectors.base import Args, Connector, PermanentError, RetryableError
from core.types import RequestOrigin, Risk

logger = logging.getLogger(__name__)

#: Largest JSON body Baton sends (compact encoding, UTF-8).
MAX_PAYLOAD_BYTES = 16 * 1024
#: How much of the receiver's answer is kept in the result (and the audit log).
RESPONSE_EXCERPT_CHARS = 500
#: How much of the answer is read at all.
_READ_LIMIT = 64 * 1024
#: Statuses that say "try again later" although they are 4xx.
_RETRYABLE_4XX = frozenset({408, 425, 429})
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _utc_now() -> datetime:
    return datetime.now(UTC)


def encode_payload(payload: Mapping[str, Any]) -> bytes:
    """The exact body sent: compact JSON, UTF-8, no NaN/Infinity (not JSON)."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` HMAC of ``"{timestamp}.{body}"`` with ``secret``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


# -- the allow-list ------------------------------------------------------------------------------------


def _split_strict(url: str) -> SplitResult:
    """Split an absolute http(s) URL, refusing every form that different parsers read differently."""
    if not url.isascii() or any(ch <= " " or ch == "\x7f" for ch in url) or "\\" in url:
        raise ValueError("must be a plain ASCII URL without spaces or backslashes")
    parts = urlsplit(url)
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise ValueError("must be an absolute http:// or https:// URL")
    if "@" in parts.netloc:
        raise ValueError("must not contain a user name or password")
    try:
        parts.port  # noqa: B018  (raises ValueError on a malformed port)
    except ValueError:
        raise ValueError("has a malformed port") from None
    # ";params" are dropped first: some servers read "/..;/" as "/../".
    segments = [unquote(segment).split(";")[0] for segment in parts.path.split("/")]
    if any(segment in (".", "..") for segment in segments):
        raise ValueError("must not contain . or .. path segments")
    return parts


def _origin_and_path(parts: SplitResult) -> tuple[str, str, int, str]:
    port = parts.port or _DEFAULT_PORTS[parts.scheme]
    return parts.scheme, (parts.hostname or "").lower(), port, parts.path or "/"


def _path_under(path: str, prefix: str) -> bool:
    if prefix.endswith("/"):
        return path.startswith(prefix)
    return path == prefix or path.startswith(prefix + "/")


def check_allowlist(allowlist: tuple[str, ...]) -> tuple[str, ...]:
    """Validate allow-list prefixes (absolute http(s), no userinfo, query or fragment); returns them."""
    for prefix in allowlist:
        try:
            parts = _split_strict(prefix)
        except ValueError as error:
            raise ValueError(f"webhook allow-list entry {prefix!r} {error}") from None
        if parts.query or parts.fragment:
            raise ValueError(f"webhook allow-list entry {prefix!r} must not have a query or fragment")
    return allowlist


def url_allowed(url: str, allowlist: tuple[str, ...]) -> bool:
    """True when ``url`` is under one of the allow-listed prefixes (see the module docstring)."""
    try:
        target = _origin_and_path(_split_strict(url))
    except ValueError:
        return False
    for prefix in allowlist:
        try:
            scheme, host, port, path = _origin_and_path(_split_strict(prefix))
        except ValueError:
            continue
        if target[:3] == (scheme, host, port) and _path_under(target[3], path):
            return True
    return False


class WebhookArgs(Args):
    """Arguments of ``http.webhook``; ``url`` is checked against the connector's allow-list."""

    url: str = Field(max_length=2000, description="An https URL under one of the allow-listed prefixes.")
    payload: dict[str, Any] = Field(description="JSON object to POST (at most 16 KB encoded).")

    @field_validator("url")
    @classmethod
    def _url_allowed(cls, value: str, info: ValidationInfo) -> str:
        _split_strict(value)  # a precise reason for malformed URLs
        allowlist = tuple((info.context or {}).get("allowlist") or ())
        if not url_allowed(value, allowlist):
            raise ValueError("is not under an allow-listed webhook prefix (BATON_WEBHOOK_ALLOWLIST)")
        return value

    @field_validator("payload")
    @classmethod
    def _payload_fits(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            size = len(encode_payload(value))
        except (TypeError, ValueError):
            raise ValueError("must be JSON (strings, numbers, booleans, null, lists and objects)") from None
        if size > MAX_PAYLOAD_BYTES:
            raise ValueError(f"is {size} bytes as JSON; the limit is {MAX_PAYLOAD_BYTES}")
        return value


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Refuse every redirect: the 3xx reaches the caller as an HTTPError."""

    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str,
                         headers: Any, newurl: str) -> urllib.request.Request | None:
        return None


def default_opener(*handlers: urllib.request.BaseHandler) -> urllib.request.OpenerDirector:
    """urllib's opener (environment proxies honoured unless a ``ProxyHandler`` is given) that never follows
    redirects."""
    return urllib.request.build_opener(_NoRedirects(), *handlers)


class Webhook(Connector):
    """POST JSON to an allow-listed URL with an ``Idempotency-Key`` and, if configured, an HMAC signature."""

    action: ClassVar[str] = "http.webhook"
    summary: ClassVar[str] = "POST a JSON payload to an allow-listed webhook URL (an external system)."
    args_model: ClassVar[type[Args]] = WebhookArgs

    def __init__(self, *, allowlist: tuple[str, ...], secret: str | None,
                 opener: urllib.request.OpenerDirector | None = None, timeout: float = 10.0,
                 now: Callable[[], datetime] = _utc_now) -> None:
        self._allowlist = check_allowlist(tuple(allowlist))
        self._secret = secret
        self._opener = opener or default_opener()
        self._timeout = timeout
        self._now = now

    def parse(self, raw: Mapping[str, Any]) -> Args:
        """Validate arguments; a URL outside the allow-list is a ``pydantic.ValidationError``."""
        return self.args_model.model_validate(dict(raw), context={"allowlist": self._allowlist})

    def preview(self, args: WebhookArgs, *, origin: RequestOrigin) -> str:
        body = json.dumps(args.payload, indent=2, ensure_ascii=False)
        size = len(encode_payload(args.payload))
        return f"POST to `{args.url}` (an external system, {size} bytes of JSON):\n```{body}```"

    def risk(self, args: WebhookArgs, *, origin: RequestOrigin) -> Risk:
        return Risk.HIGH  # an external recipient: nothing Baton can see or undo

    def execute(self, args: WebhookArgs, *, origin: RequestOrigin, key: str) -> dict[str, Any]:
        if not url_allowed(args.url, self._allowlist):  # args may come from storage, not from parse
            raise PermanentError("the webhook URL is not on the allow-list")
        body = encode_payload(args.payload)
        timestamp = str(int(self._now().timestamp()))
        headers = {"Content-Type": "application/json", "User-Agent": "Baton", "Idempotency-Key": key,
                   "X-Baton-Timestamp": timestamp}
        if self._secret:
            headers["X-Baton-Signature"] = signature(self._secret, timestamp, body)
        request = urllib.request.Request(args.url, data=body, headers=headers, method="POST")
        host = urlsplit(args.url).hostname
        try:
            with self._opener.open(request, timeout=self._timeout) as response:
                status = int(response.status)
                excerpt = self._excerpt(response)
        except urllib.error.HTTPError as error:
            with error:
                raise self._http_error(error, host) from error
        except urllib.error.URLError as error:
            raise self._network_error(error.reason, host) from error
        except OSError as error:  # TimeoutError, ConnectionRefusedError, ConnectionResetError, ...
            raise self._network_error(error, host) from error
        except http.client.HTTPException as error:  # a malformed or cut-off answer
            raise RetryableError(f"webhook to {host} sent a malformed answer ({type(error).__name__})") from error
        if not 200 <= status < 300:  # 1xx/3xx from an opener that does not raise for them
            raise PermanentError(f"webhook to {host} answered HTTP {status}")
        return {"status": status, "response": excerpt}

    # -- answers -----------------------------------------------------------------------------------

    @staticmethod
    def _excerpt(response: Any) -> str:
        raw: bytes = response.read(_READ_LIMIT) or b""
        return raw.decode("utf-8", errors="replace")[:RESPONSE_EXCERPT_CHARS]

    @classmethod
    def _error_detail(cls, error: urllib.error.HTTPError) -> str:
        try:
            return cls._excerpt(error)[:200].strip()
        except (OSError, http.client.HTTPException):  # the status is what matters; the body is a bonus
            return ""

    def _http_error(self, error: urllib.error.HTTPError, host: str | None) -> Exception:
        code = error.code
        detail = self._error_detail(error)
        suffix = f": {detail}" if detail else ""
        if code == 429 or code >= 500 or code in _RETRYABLE_4XX:
            retry_after = self._retry_after(error.headers.get("Retry-After") if error.headers else None)
            return RetryableError(f"webhook to {host} answered HTTP {code}{suffix}", retry_after=retry_after)
        if 300 <= code < 400:
            return PermanentError(f"webhook to {host} answered with a redirect (HTTP {code}); redirects are "
                                  "not followed")
        return PermanentError(f"webhook to {host} answered HTTP {code}{suffix}")

    @staticmethod
    def _network_error(reason: object, host: str | None) -> Exception:
        if isinstance(reason, ssl.SSLCertVerificationError):
            return PermanentError(f"webhook to {host}: its TLS certificate could not be verified")
        if isinstance(reason, TimeoutError):
            return RetryableError(f"webhook to {host} did not answer in time")
        if isinstance(reason, ConnectionRefusedError):
            return RetryableError(f"webhook to {host}: connection refused")
        return RetryableError(f"webhook to {host} could not be reached ({reason})")

    def _retry_after(self, value: str | None) -> float | None:
        """``Retry-After`` in seconds: delta-seconds, or an HTTP date relative to the injected clock."""
        if not value:
            return None
        value = value.strip()
        if value.isdigit():
            return float(value)
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max((when - self._now()).total_seconds(), 0.0)
