"""``/baton budget``: today's model spend (UTC day) against each budget, by model, purpose and person.

Acked at once; the spend is read from ``llm_calls`` in a thread and sent back as an ephemeral reply.
Models without a price are listed with a warning: their calls are counted, their cost is not.
"""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond

from bot.deps import AppDeps
from core.budgets import WHO_CAN_RAISE, Budgets, format_usd
from core.settings import ENV_VARS
from memory.llm_calls import BudgetReport, SpendLine, budget_report, utc_day

TITLE = "*Model spend today* (UTC day {day})"
NO_LIMIT = "no limit"
ZERO_BUDGET = "budget $0: no model calls are made"
USED_UP = ":no_entry: used up: further calls are not made"
PRICE_UNKNOWN = ":warning: price unknown: cost not counted"
HOW_TO_PRICE = "set its price in {var} (model=input/cached/output per 1M tokens)"
RAISE = ("{who} can raise or lower these by setting {vars} in Baton's environment (0 allows no model calls, unset "
         "means no limit) and restarting Baton.")
NOTHING_YET = "No model calls today."
_BUDGET_VARS = ("budget_request_usd", "budget_request_tokens", "budget_channel_day_usd", "budget_workspace_day_usd")


async def handle_budget(deps: AppDeps, *, command: dict[str, Any], ack: AsyncAck, respond: AsyncRespond) -> None:
    """Answer ``/baton budget`` with :func:`render_budget` for the command's channel and workspace."""
    await ack()
    team_id, channel_id = str(command.get("team_id", "")), str(command.get("channel_id", ""))
    day_start, day_end = utc_day(deps.now())

    def load() -> BudgetReport:
        with deps.sync_pool.connection() as conn:
            return budget_report(conn, team_id, channel_id, day_start, day_end)

    report = await asyncio.to_thread(load)
    budgets = Budgets.from_settings(deps.settings) if deps.settings is not None else Budgets()
    await respond(response_type="ephemeral", text=render_budget(report, budgets, day=day_start.date()))


def render_budget(report: BudgetReport, budgets: Budgets, *, day: date) -> str:
    """The reply: the channel and the workspace against their daily budgets, the per-request limits, top models
    (unknown prices flagged), purposes and people, and who can raise the budgets."""
    lines = [
        TITLE.format(day=day.isoformat()),
        f"• This channel (<#{report.channel.key}>): {_against(report.channel, budgets.channel_day_usd)}",
        f"• Workspace: {_against(report.workspace, budgets.workspace_day_usd)}",
        f"• Per request (one plan, one meeting's notes, one digest): {_per_request(budgets)}",
    ]
    if not report.workspace.calls and not report.workspace.cache_hits and not report.workspace.refused:
        lines.append(NOTHING_YET)
    if report.models:
        lines.append("*Models*")
        lines += [f"• {_model_line(line)}" for line in report.models]
    if report.purposes:
        lines.append("*By purpose:* " + " · ".join(f"{_escape(p.key)} {_spend(p)}" for p in report.purposes))
    if report.users:
        lines.append("*Top people:* " + " · ".join(f"<@{u.key}> {_spend(u)}" for u in report.users))
    extras = []
    if report.workspace.cache_hits:
        extras.append(f"{report.workspace.cache_hits:,} answers replayed from the cache at no cost")
    if report.workspace.refused:
        extras.append(f"{_calls(report.workspace.refused)} not made because of a budget")
    if extras:
        lines.append("; ".join(extras) + ".")
    variables = ", ".join(f"`{ENV_VARS[field]}`" for field in _BUDGET_VARS)
    lines.append(RAISE.format(who=WHO_CAN_RAISE.capitalize(), vars=variables))
    return "\n".join(lines)


def _against(line: SpendLine, limit: Decimal | None) -> str:
    spent = format_usd(line.usd)
    unknown = f" (+ {_calls(line.unknown_cost_calls)} at an unknown price)" if line.unknown_cost_calls else ""
    if limit is None:
        return f"{spent}{unknown} · {NO_LIMIT}"
    if limit == 0:
        return f"{spent}{unknown} · {ZERO_BUDGET}"
    share = f"{int(line.usd * 100 / limit)}%"
    status = f" · {USED_UP}" if line.usd >= limit else ""
    return f"{spent} of {format_usd(limit)} ({share}){unknown}{status}"


def _per_request(budgets: Budgets) -> str:
    usd, tokens = budgets.request_usd, budgets.request_tokens
    parts = [
        NO_LIMIT + " on cost" if usd is None else (ZERO_BUDGET if usd == 0 else f"at most {format_usd(usd)}"),
        NO_LIMIT + " on tokens" if tokens is None else f"at most {tokens:,} tokens",
    ]
    return " · ".join(parts)


def _model_line(line: SpendLine) -> str:
    if line.unknown_cost_calls:
        fix = HOW_TO_PRICE.format(var=f"`{ENV_VARS['model_prices']}`")
        return (f"{_escape(line.key)}: {PRICE_UNKNOWN} ({_calls(line.unknown_cost_calls)}, {line.tokens:,} tokens); "
                f"{fix}")
    return f"{_escape(line.key)}: {_spend(line)}, {line.tokens:,} tokens"


def _spend(line: SpendLine) -> str:
    return f"{format_usd(line.usd)} ({_calls(line.calls)})"


def _calls(n: int) -> str:
    return f"{n:,} call" + ("" if n == 1 else "s")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
