"""Slack's request signature (v0): an HMAC-SHA256 of ``v0:<timestamp>:<raw body>`` under the signing secret.

Checked on the raw bytes before anything is parsed. slack_sdk's ``SignatureVerifier`` does the same sum
but raises on hostile headers and bodies (a non-numeric timestamp, a non-ASCII signature, a body that
is not UTF-8), so this one answers ``False`` for anything it cannot check.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping

from core import defaults

_TIMESTAMP = re.compile(r"[0-9]{1,12}")


def signature_problem(
    *,
    signing_secret: str,
    body: bytes,
    headers: Mapping[str, str],
    now: float,
    max_age: int = defaults.SIGNATURE_MAX_AGE_SECONDS,
) -> str | None:
    """Why the request is not Slack's (``"missing headers"``, ``"stale timestamp"``, ``"bad signature"``),
    or None when its signature is good and its timestamp within ``max_age`` seconds of ``now``.

    ``headers`` must be case-insensitive (aiohttp's are) or use Slack's lower-case names.
    """
    timestamp = headers.get("x-slack-request-timestamp")
    signature = headers.get("x-slack-signature")
    if not timestamp or not signature or not signing_secret:
        return "missing headers"
    if not _TIMESTAMP.fullmatch(timestamp) or abs(now - int(timestamp)) > max_age:
        return "stale timestamp"
    digest = hmac.new(signing_secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256)
    expected = b"v0=" + digest.hexdigest().encode()
    if not signature.isascii() or not hmac.compare_digest(expected, signature.encode()):
        return "bad signature"
    return None
