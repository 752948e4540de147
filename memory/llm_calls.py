"""The ``llm_calls`` log: one row per call to a language model, successful or not."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

import psycopg


@dataclass(frozen=True)
class LLMCallRecord:
    """One LLM call, shaped like a row of ``llm_calls`` (``input_tokens`` includes ``cached_tokens``)."""

    team_id: str
    purpose: str
    model: str
    ok: bool
    request_id: int | None = None
    plan_id: int | None = None
    template: str | None = None
    template_hash: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    latency_ms: int = 0
    cost_usd: Decimal = Decimal(0)
    error: str | None = None


_INSERT = """
INSERT INTO llm_calls (team_id, request_id, plan_id, purpose, model, template, template_hash, input_tokens,
                       output_tokens, cached_tokens, latency_ms, cost_usd, ok, error)
VALUES (%(team_id)s, %(request_id)s, %(plan_id)s, %(purpose)s, %(model)s, %(template)s, %(template_hash)s,
        %(input_tokens)s, %(output_tokens)s, %(cached_tokens)s, %(latency_ms)s, %(cost_usd)s, %(ok)s, %(error)s)
RETURNING id
"""


def record_llm_call(conn: psycopg.Connection[Any], record: LLMCallRecord) -> int:
    """Insert ``record`` into ``llm_calls`` and return the new row's id."""
    row = conn.execute(_INSERT, asdict(record)).fetchone()
    assert row is not None  # INSERT ... RETURNING always returns the row
    return int(row["id"] if isinstance(row, dict) else row[0])
