"""One line of the append-only audit trail, as read back (``memory.audit``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class AuditEntry:
    id: int
    kind: str
    actor: str | None
    detail: dict[str, Any]
    at: datetime
    plan_id: int | None
    request_id: int | None
