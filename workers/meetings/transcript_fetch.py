"""Fetch an uploaded transcript from Slack: ``files.info``, then the private URL with the bot token.

Refused before downloading: files over the size limit (``files.info`` reports the size), and files
Slack already knows are images, audio, video or PDFs. The download itself stops at the limit too,
so a file whose reported size is wrong cannot fill memory.
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from slackui import replies

log = logging.getLogger(__name__)

_CHUNK = 64 * 1024
#: Kinds Slack reports that are never transcripts, and how to name them to the uploader.
_NOT_TEXT_TYPES = {"pdf": "a PDF", "png": "an image", "jpg": "an image", "jpeg": "an image", "gif": "an image",
                   "heic": "an image", "webp": "an image", "mp4": "a video", "mov": "a video", "mp3": "audio",
                   "m4a": "audio", "wav": "audio", "zip": "a zip archive"}


class FetchRefused(Exception):
    """The file is not fetched; ``reason`` is the reply for the uploader."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class FetchedFile:
    file_id: str
    name: str
    data: bytes
    created: int | None


def fetch_transcript(slack: WebClient, file_id: str, *, token: str, max_bytes: int,
                     timeout: float = 30.0) -> FetchedFile:
    """The file's bytes, or :class:`FetchRefused` saying why not."""
    try:
        info: Any = slack.files_info(file=file_id)
    except SlackApiError as err:
        raise FetchRefused(replies.TRANSCRIPT_NOT_READABLE.format(error=err.response.get("error"))) from err
    file = info.get("file") or {}
    name = str(file.get("name") or file.get("title") or file_id)
    size = int(file.get("size") or 0)
    if size > max_bytes:
        raise FetchRefused(replies.transcript_too_big(name, size, max_bytes))
    kind = _kind(file)
    if kind is not None:
        raise FetchRefused(replies.transcript_wrong_kind(name, kind))
    url = file.get("url_private_download") or file.get("url_private")
    if not url:
        raise FetchRefused(replies.TRANSCRIPT_NOT_READABLE.format(error="no download URL"))
    data = _download(str(url), token=token, max_bytes=max_bytes, timeout=timeout, name=name)
    created = file.get("created")
    return FetchedFile(file_id=file_id, name=name, data=data, created=int(created) if created else None)


def _kind(file: dict[str, Any]) -> str | None:
    mimetype = str(file.get("mimetype") or "")
    filetype = str(file.get("filetype") or "").lower()
    if filetype in _NOT_TEXT_TYPES:
        return _NOT_TEXT_TYPES[filetype]
    for prefix, kind in (("image/", "an image"), ("video/", "a video"), ("audio/", "audio")):
        if mimetype.startswith(prefix):
            return kind
    return "a PDF" if mimetype == "application/pdf" else None


def _download(url: str, *, token: str, max_bytes: int, timeout: float, name: str) -> bytes:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            content_type = reply.headers.get("Content-Type", "")
            length = reply.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > max_bytes:
                raise FetchRefused(replies.transcript_too_big(name, int(length), max_bytes))
            chunks: list[bytes] = []
            total = 0
            while chunk := reply.read(_CHUNK):
                total += len(chunk)
                if total > max_bytes:
                    raise FetchRefused(replies.transcript_too_big(name, total, max_bytes, at_least=True))
                chunks.append(chunk)
    except (urllib.error.URLError, TimeoutError, OSError) as err:
        log.warning("downloading %s failed: %s", name, err)
        raise FetchRefused(replies.TRANSCRIPT_NOT_READABLE.format(error=type(err).__name__)) from err
    data = b"".join(chunks)
    if content_type.startswith("text/html") and b"<html" in data[:2048].lower():
        # Slack answers a request without a valid token with its login page (HTTP 200).
        raise FetchRefused(replies.TRANSCRIPT_NOT_READABLE.format(error="Slack sent its login page"))
    return data
