"""What ``/baton status|plans|policy`` and their ``baton`` twins show: the facts gathered once, rendered for
Slack (mrkdwn, mentions, links) or for a terminal (plain ids and URLs) by the same functions.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from core import defaults
from core.policy import effective_policy
from core.policy_command import describe_policy, policy_sources
from core.status import ModelHealth, ModelSpend, PendingPlan, StatusFacts

#: ``link(channel, ts)``: a message's URL, or None when it cannot be built.
Linker = Callable[[str | None, str | None], str | None]
#: Most pending plans listed in one answer.
PLANS_LIMIT = 20


#: ``names(kind, id)``: the name of a ``"user"`` or ``"channel"`` id for plain text, or None to show the id.
Namer = Callable[[str, str], str | None]


def no_names(kind: str, ident: str) -> str | None:
    """The :data:`Namer` that knows no names (the store keeps ids only)."""
    del kind, ident
    return None


@dataclass(frozen=True)
class Style:
    """Slack mrkdwn (Slack shows names for mentions) or plain terminal text (names from ``names``, else ids)."""

    slack: bool
    names: Namer = no_names

    def bold(self, text: str) -> str:
        return f"*{text}*" if self.slack else text

    def code(self, text: str) -> str:
        return f"`{text}`" if self.slack else text

    def user(self, user_id: str) -> str:
        return f"<@{user_id}>" if self.slack else self.names("user", user_id) or user_id

    def channel(self, channel_id: str) -> str:
        return f"<#{channel_id}>" if self.slack else "#" + (self.names("channel", channel_id) or channel_id)

    def text(self, value: str) -> str:
        """Untrusted text (a plan title): Slack's mention and link markup made readable (``#ops``, ``@bob``), and
        escaped for Slack, so it cannot mention anyone or break the link it is the label of."""
        readable = _MARKUP.sub(lambda match: _readable(match, self.names), value)
        return html.escape(readable, quote=False) if self.slack else readable

    def link(self, url: str | None, label: str) -> str:
        if url is None:
            return label
        return f"<{url}|{label}>" if self.slack else f"{label} <{url}>"

    @property
    def bullet(self) -> str:
        return "•" if self.slack else "-"

    @property
    def warning(self) -> str:
        return ":warning: " if self.slack else "warning: "


SLACK, PLAIN = Style(slack=True), Style(slack=False)

_MARKUP = re.compile(r"<([#@!])([^>|]*)(?:\|([^>]*))?>|<([^>|]+)\|([^>]*)>")


def _readable(match: re.Match[str], names: Namer) -> str:
    sigil, ident, label, _url, text = match.groups()
    if sigil is None:  # <url|text>
        return str(text)
    if sigil == "!":  # <!here>, <!subteam^S…|@ops>
        return label or "@" + ident.split("^")[0]
    name = (label or names("channel" if sigil == "#" else "user", ident) or ident).lstrip("#@")
    return f"{sigil}{name}"


def archive_linker(workspace_url: str | None) -> Linker:
    """Links built from the workspace URL ``auth.test`` returns: ``https://<domain>/archives/<channel>/p<ts>``."""

    def link(channel: str | None, ts: str | None) -> str | None:
        if not (workspace_url and channel and ts):
            return None
        return f"{workspace_url.rstrip('/')}/archives/{channel}/p{ts.replace('.', '')}"

    return link


def age(delta: timedelta) -> str:
    """``45 s``, ``12 min``, ``3 h 5 min``, ``2 d 4 h``."""
    seconds = max(int(delta.total_seconds()), 0)
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def _usd(amount: Decimal) -> str:
    return f"${amount:.2f}" if amount >= 1 else f"${amount:.4f}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _spend(spend: ModelSpend) -> str:
    return f"{_usd(spend.cost_usd)} in {_plural(spend.calls, 'call')}"


def render_status(facts: StatusFacts, *, style: Style = SLACK) -> str:
    """The status answer: queues, approvals waiting, planning stuck, today's spend."""
    s = style
    lines = [f"{s.bold('Baton status')} at {facts.now.astimezone(UTC):%Y-%m-%d %H:%M} UTC", s.bold("Queues")]
    if facts.queues.error is not None:
        lines.append(f"{s.bullet} {s.warning}queue depths unknown: {facts.queues.error}")
    for depth in facts.queues.depths:
        lines.append(f"{s.bullet} {s.code(depth.name)}: {depth.queued} queued, {depth.running} running, "
                     f"{depth.scheduled} scheduled, {depth.failed} failed")
    failed = sum(depth.failed for depth in facts.queues.depths)
    if failed:
        lines.append(f"{s.warning}{_plural(failed, 'failed job')}: once the cause is fixed, "
                     f"{s.code('baton requeue-failed')} runs them again (jobs are idempotent).")
    approvals = facts.approvals
    waiting = (f"{_plural(approvals.count, 'plan')} waiting for approval"
               + (f" (oldest {age(facts.now - approvals.oldest)})" if approvals.oldest else ""))
    lines.append(f"{s.bold('Approvals')}: {waiting if approvals.count else 'none waiting'}")
    stuck = facts.stuck
    stuck_minutes = defaults.PLANNING_STUCK_SECONDS // 60
    stuck_text = (f"{_plural(stuck.count, 'request')} stuck for over {stuck_minutes} min"
                  + (f" (oldest {age(facts.now - stuck.oldest)})" if stuck.oldest else "")
                  if stuck.count else "nothing stuck")
    lines.append(f"{s.bold('Planning')}: {stuck_text}")
    spend = [f"workspace {_spend(facts.workspace_spend)}"]
    if facts.channel_id and facts.channel_spend is not None:
        spend.insert(0, f"{s.channel(facts.channel_id)} {_spend(facts.channel_spend)}")
    lines.append(f"{s.bold('Model spend today (UTC)')}: " + "; ".join(spend))
    if facts.workspace_spend.unknown_cost:
        lines.append(f"{s.warning}{_plural(facts.workspace_spend.unknown_cost, 'call')} had no known price and "
                     "count as $0 (prices can be added with BATON_MODEL_PRICES).")
    if facts.model is not None:
        lines.append(f"{s.bold('Model')}: {_model_health(facts.model, now=facts.now, style=s)}")
    if facts.unsettled_steps:
        lines.append(f"{s.bold('Outcome unknown')}: {_plural(facts.unsettled_steps, 'step')} waiting for a person "
                     "(It happened / Run it again / Skip in the plan's thread)")
    for server, problem in facts.mcp_unavailable:
        lines.append(f"{s.warning}MCP server {s.code(server)} is unavailable, its tools are absent: {problem}")
    return "\n".join(lines)


#: Shown by ``status`` when no model is configured.
NO_MODEL_CONFIGURED = ("none configured: degraded mode, simple rules only (set OPENAI_API_KEY or OPENAI_BASE_URL; "
                       "baton doctor checks it)")


def _model_health(health: ModelHealth, *, now: datetime, style: Style) -> str:
    """Which model, when it last answered, and its newest failure after that (what failed and what to do)."""
    if health.model is None:
        return NO_MODEL_CONFIGURED
    hours = defaults.STATUS_MODEL_WINDOW_HOURS
    text = style.code(health.model) + (f", last answered {age(now - health.last_ok)} ago" if health.last_ok
                                       else f", no answer in the last {hours} h")
    failure = health.last_failure
    if failure is not None and (health.last_ok is None or failure.at >= health.last_ok):
        text += (f"\n{style.warning}last call failed {age(now - failure.at)} ago ({failure.purpose} on "
                 f"{style.code(failure.model)}): {style.text(failure.error)}")
    return text


# -- plans ---------------------------------------------------------------------------------------------------
def render_plans(plans: list[PendingPlan], total: int, *, channel_id: str | None, now: datetime, link: Linker,
                 style: Style = SLACK) -> str:
    """Pending plans, oldest first, each linked to its card; at most ``len(plans)`` then "…and N more"."""
    s = style
    where = f"in {s.channel(channel_id)}" if channel_id else "in this workspace"
    if not plans:
        return f"No plans are waiting for approval {where}."
    lines = [f"{s.bold(f'Plans waiting for approval {where}')} ({total})"]
    for plan in plans:
        label = s.text(f"#{plan.id} {plan.title}")
        place = "" if channel_id else f" in {s.channel(plan.channel_id)}"
        kind = " (meeting follow-ups)" if plan.kind == "meeting" else ""
        lines.append(f"{s.bullet} {s.link(link(plan.card_channel, plan.card_ts), label)}{kind}{place}: "
                     f"{plan.risk} risk, asked by {s.user(plan.requester_id)} {age(now - plan.created_at)} ago, "
                     f"expires in {age(plan.expires_at - now)}")
    if total > len(plans):
        lines.append(f"…and {total - len(plans)} more")
    return "\n".join(lines)


# -- policy --------------------------------------------------------------------------------------------------
def render_policy(workspace: Mapping[str, Any], channel: Mapping[str, Any], *, channel_id: str,
                  settings_admins: tuple[str, ...] = (), admin_group: str | None = None,
                  style: Style = SLACK) -> str:
    """The effective policy of ``channel_id`` (``""``: the workspace) from its stored rows, and who else is an
    admin by configuration."""
    s = style
    policy = effective_policy(workspace, channel) if channel_id else effective_policy(workspace)
    text = describe_policy(policy, channel_id=channel_id, sources=policy_sources(workspace, channel),
                           slack=s.slack)
    configured = [", ".join(s.user(u) for u in settings_admins)] if settings_admins else []
    if admin_group:
        configured.append(f"members of {f'<!subteam^{admin_group}>' if s.slack else admin_group}")
    if configured:
        text += f"\n{s.bullet} {s.bold('Admins by configuration')}: " + "; ".join(configured)
    return text
