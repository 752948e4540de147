"""Render an audit timeline as text (pure): shared by ``/baton audit`` and ``baton audit``."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from core.audit_entry import AuditEntry

DETAIL_LIMIT = 300


def render_timeline(
    plan_id: int,
    entries: Sequence[AuditEntry],
    *,
    slack: bool = True,
    user_name: Callable[[str], str | None] = lambda user_id: None,
) -> str:
    """One line per entry: time, what happened, who, and the details; in plain text a person is shown by
    ``user_name(id)`` when it knows them (the store keeps ids only), else by id."""
    if not entries:
        return f"No audit trail for plan #{plan_id} in this workspace."
    lines = [f"*Audit trail of plan #{plan_id}*" if slack else f"Audit trail of plan #{plan_id}"]
    for entry in entries:
        who = ""
        if entry.actor:
            person = entry.actor.startswith(("U", "W"))
            if slack:
                who = f" by <@{entry.actor}>" if person else f" by {entry.actor}"
            else:
                who = f" by {(user_name(entry.actor) if person else None) or entry.actor}"
        detail = json.dumps(entry.detail, ensure_ascii=False, sort_keys=True) if entry.detail else ""
        if len(detail) > DETAIL_LIMIT:
            detail = detail[: DETAIL_LIMIT - 1] + "…"
        stamp = entry.at.strftime("%Y-%m-%d %H:%M:%S")
        lines.append(f"{'`' if slack else ''}{stamp}{'`' if slack else ''} {entry.kind}{who} {detail}".rstrip())
    return "\n".join(lines)
