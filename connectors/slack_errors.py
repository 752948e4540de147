"""Turn what slack_sdk raises into the connector error tree, with a short reason fit for a Slack report.

Retryable: rate limits (HTTP 429 / ``ratelimited``, with ``Retry-After``), HTTP 5xx, Slack's own transient
errors (``fatal_error``, ``internal_error``, ``request_timeout``, ``service_unavailable``) and connection
problems (timeouts, refused or reset connections). Everything else is permanent: a bad channel, a missing
scope, a bad token or an argument Slack rejects will fail the same way next time, so an unknown error code
is permanent too (retrying it only delays the report).
"""

from __future__ import annotations

import logging
import ssl
import urllib.error
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from slack_sdk.errors import SlackApiError, SlackClientError

from connectors.base import ConnectorError, PermanentError, RetryableError

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Slack error codes worth retrying, with the reason shown to people.
RETRYABLE: dict[str, str] = {
    "ratelimited": "Slack is rate-limiting Baton",
    "rate_limited": "Slack is rate-limiting Baton",
    "fatal_error": "Slack had an internal problem",
    "internal_error": "Slack had an internal problem",
    "request_timeout": "Slack timed out",
    "service_unavailable": "Slack is temporarily unavailable",
}

#: Reasons for the permanent errors people are likely to meet; other codes are shown as they are.
PERMANENT: dict[str, str] = {
    "channel_not_found": "that channel does not exist or Baton cannot see it",
    "not_in_channel": "Baton is not a member of that channel (invite it with /invite)",
    "is_archived": "that channel is archived",
    "invalid_blocks": "Slack rejected the message layout",
    "invalid_blocks_format": "Slack rejected the message layout",
    "msg_too_long": "the message is too long",
    "msg_blocks_too_long": "the message is too long",
    "no_text": "the message is empty",
    "invalid_auth": "Baton's Slack token is not valid",
    "not_authed": "Baton has no Slack token",
    "account_inactive": "Baton's Slack token belongs to a deactivated app or workspace",
    "token_revoked": "Baton's Slack token was revoked",
    "token_expired": "Baton's Slack token expired",
    "missing_scope": "Baton's Slack app lacks a permission this needs",
    "restricted_action": "a workspace setting prevents Baton from posting there",
    "restricted_action_read_only_channel": "that channel is read-only",
    "restricted_action_thread_only_channel": "that channel only allows thread replies",
    "restricted_action_non_threadable_channel": "that channel does not allow thread replies",
    "restricted_action_thread_locked": "that thread is locked",
    "ekm_access_denied": "workspace admins have disabled posting there",
    "user_not_found": "that user does not exist",
    "cannot_dm_bot": "Baton cannot send a direct message to a bot",
    "user_disabled": "that user is deactivated",
    "message_not_found": "that message no longer exists",
    "cant_delete_message": "Baton can only delete its own messages",
    "thread_not_found": "that thread no longer exists",
    "invalid_time": "the scheduled time is not valid",
    "time_in_past": "the scheduled time is in the past",
    "time_too_far": "Slack only schedules messages up to 120 days ahead",
    "invalid_scheduled_message_id": "that scheduled message was already sent or deleted",
    "invalid_metadata_format": "Slack rejected the message metadata",
    "invalid_metadata_schema": "Slack rejected the message metadata",
    "metadata_too_large": "Slack rejected the message metadata",
    "too_many_attachments": "the message has too many attachments",
    "message_limit_exceeded": "the workspace has hit its message limit",
    "invalid_arguments": "Slack rejected the request's arguments",
}


def _header(headers: Mapping[str, Any] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name.lower():
            return str(value[0] if isinstance(value, list | tuple) else value)
    return None


def retry_after_seconds(value: str | None) -> float | None:
    """A ``Retry-After`` header in seconds (only the delta-seconds form; Slack never sends a date)."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return max(seconds, 0.0)


def slack_error(error: SlackClientError | OSError, *, doing: str) -> ConnectorError:
    """The connector error for ``error`` raised while ``doing`` (e.g. ``"posting to <#C1>"``)."""
    if isinstance(error, SlackApiError):
        response = error.response
        status = int(getattr(response, "status_code", 200) or 200)
        data = response.data if isinstance(response.data, dict) else {}
        code = str(data.get("error") or f"http_{status}")
        retry_after = retry_after_seconds(_header(getattr(response, "headers", None), "Retry-After"))
        if status == 429 or code in ("ratelimited", "rate_limited"):
            return RetryableError(
                f"{doing}: {RETRYABLE['ratelimited']} ({code})",
                retry_after=retry_after if retry_after is not None else 1.0,
            )
        if status >= 500 or code in RETRYABLE:
            transient = RETRYABLE.get(code, f"Slack answered HTTP {status}")
            return RetryableError(f"{doing}: {transient} ({code})", retry_after=retry_after)
        return PermanentError(f"{doing}: {PERMANENT.get(code, 'Slack refused')} ({code})")
    if isinstance(error, urllib.error.URLError):
        reason = error.reason
        if isinstance(reason, ssl.SSLCertVerificationError):
            return PermanentError(f"{doing}: Slack's TLS certificate could not be verified")
        if isinstance(reason, TimeoutError):
            return RetryableError(f"{doing}: Slack did not answer in time")
        return RetryableError(f"{doing}: could not reach Slack ({reason})")
    if isinstance(error, TimeoutError):
        return RetryableError(f"{doing}: Slack did not answer in time")
    if isinstance(error, OSError):  # refused, reset, DNS: the network, not the request
        return RetryableError(f"{doing}: could not reach Slack ({error})")
    return PermanentError(f"{doing}: {error}")  # a request slack_sdk itself refused to build


def call_slack(doing: str, call: Callable[[], T]) -> T:
    """Run one Web API ``call``; Slack and network failures become connector errors."""
    try:
        return call()
    except (SlackClientError, OSError) as error:
        mapped = slack_error(error, doing=doing)
        logger.info("%s failed: %s", doing, mapped)
        raise mapped from error


def undo_unless_gone(doing: str, call: Callable[[], Any], *, gone: str) -> bool:
    """Run an undo ``call``; False when Slack answers ``gone`` (already undone), True when it did it.

    Compensation must be safe to repeat: a second undo of a deleted message is not a failure.
    """
    try:
        call_slack(doing, call)
    except PermanentError as error:
        if api_error_code(error) != gone:
            raise
        return False
    return True


def api_error_code(error: BaseException) -> str | None:
    """The Slack ``error`` code behind ``error`` (or behind the error it was raised from), if any."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, SlackApiError) and isinstance(seen.response.data, dict):
            code = seen.response.data.get("error")
            return str(code) if code else None
        seen = seen.__cause__
    return None


def describe_error(error: BaseException) -> str:
    """A short reason for a log line: Slack's error code when there is one, else the exception's type and text."""
    code = api_error_code(error)
    return code if code is not None else f"{type(error).__name__}: {error}"
