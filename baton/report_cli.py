"""``baton report``: the seed metrics for a period, as a table (or ``--json``).

``baton report`` covers the last 7 days; ``--since 24h|7d|2w|YYYY-MM-DD`` and ``--until`` (same forms,
default now) choose the period, ``--team T`` one workspace. The rules behind each figure are in
``core.report``; a period with no plans prints zeros and "n/a", never an error.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from baton.backends import resolve_backends
from baton.config import CommandError, build_settings
from core.report import FINISHED, Report, build_report, parse_when
from memory.db import connect
from memory.report_sql import load_plans, load_step_events

Add = Callable[[str, Callable[[argparse.Namespace], int], str], argparse.ArgumentParser]

DEFAULT_SINCE = "7d"


def add_report_parser(subparsers: Any, add: Add) -> argparse.ArgumentParser:
    """Register ``baton report`` through the CLI's ``add(name, func, help)`` helper."""
    del subparsers  # ``add`` already adds to them; taken so the call reads like the CLI's other wiring
    report = add("report", cmd_report, "Print the seed metrics (completion, recovery, overrides, cost, "
                 "approval wait) for a period.")
    report.add_argument("--since", default=DEFAULT_SINCE,
                        help=f"start: 24h, 7d, 2w or YYYY-MM-DD (default {DEFAULT_SINCE})")
    report.add_argument("--until", help="end: the same forms (default now)")
    report.add_argument("--team", help="only this workspace (team id, e.g. T0123ABC)")
    report.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return report


def cmd_report(args: argparse.Namespace, *, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> int:
    """Load the period's rows, compute the report and print it."""

    moment = now()
    try:
        since = parse_when(args.since, now=moment)
        until = parse_when(args.until, now=moment) if args.until else moment
    except ValueError as err:
        raise CommandError(str(err)) from None
    if until <= since:
        raise CommandError(f"--until ({until:%Y-%m-%d %H:%M}) must be after --since ({since:%Y-%m-%d %H:%M})")
    settings, _services = resolve_backends(build_settings(args))
    assert settings.database_url is not None
    with connect(settings.database_url) as conn:
        plans = load_plans(conn, since=since, until=until, team_id=args.team)
        events = load_step_events(conn, [plan.id for plan in plans])
    report = build_report(plans, events, since=since, until=until)
    print(json.dumps(as_json(report), indent=2) if args.json else render(report))
    return 0


def as_json(report: Report) -> dict[str, Any]:
    """The report as JSON-able values (None for "n/a")."""
    cost = report.cost_per_completed_usd
    return {
        "since": report.since.isoformat(),
        "until": report.until.isoformat(),
        "plans": report.plans,
        "by_status": report.by_status,
        "workflow_completion_rate": report.completion_rate,
        "mttr_seconds": report.mttr_seconds,
        "recovered_steps": report.recovered_steps,
        "unrecovered_steps": report.unrecovered_steps,
        "human_decisions": report.human_decisions,
        "human_overrides": report.overrides,
        "human_override_rate": report.override_rate,
        "completed_workflows": report.succeeded,
        "token_cost_per_completed_workflow_usd": str(cost) if cost is not None else None,
        "unpriced_llm_calls": report.unpriced_calls,
        "median_approval_wait_seconds": report.median_approval_wait_seconds,
    }


def render(report: Report) -> str:
    """A readable table: one seed metric a line, with the counts it comes from."""
    finished = sum(report.by_status.get(status, 0) for status in FINISHED)
    cost = report.cost_per_completed_usd
    unpriced = f" (+{report.unpriced_calls} calls with unknown price)" if report.unpriced_calls else ""
    rows = [
        ("workflow completion rate", _percent(report.completion_rate),
         f"{report.by_status.get('succeeded', 0)} succeeded of {finished} finished"),
        ("mean time to recovery", _duration(report.mttr_seconds),
         f"{report.recovered_steps} failed steps recovered, {report.unrecovered_steps} not"),
        ("human override frequency", _percent(report.override_rate),
         f"{report.overrides} rejected or edited of {report.human_decisions} decided by a person"),
        ("token cost per completed workflow", f"${cost:.4f}" if cost is not None else "n/a",
         f"{report.succeeded} completed{unpriced}"),
        ("approvals' median wait", _duration(report.median_approval_wait_seconds),
         f"{report.human_decisions} decisions"),
    ]
    statuses = ", ".join(f"{status} {count}" for status, count in sorted(report.by_status.items())) or "none"
    since, until = report.since.astimezone(UTC), report.until.astimezone(UTC)
    lines = [
        f"Baton report {since:%Y-%m-%d %H:%M} to {until:%Y-%m-%d %H:%M} UTC: {report.plans} plans ({statuses})",
        "",
    ]
    width = max(len(name) for name, _, _ in rows)
    lines += [f"{name:<{width}}  {value:>10}  {detail}" for name, value, detail in rows]
    return "\n".join(lines)


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    if seconds < 120:
        return f"{seconds:.1f}s"
    if seconds < 7200:
        return f"{seconds / 60:.1f}m"
    return f"{seconds / 3600:.1f}h"
