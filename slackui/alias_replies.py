"""What Baton says about chat aliases and ``/baton run``: acks, errors, and the alias listing of ``/baton help``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from slackui.limits import MESSAGE_TEXT, clip

RUN_USAGE = '`/baton run <action> key=value …` (quote a value with spaces: `text="two words"`)'
RUN_ACK = "Planning `{action}` directly (no model) — the plan card follows."
RUN_FAILED = "`/baton run` could not plan that: {problems}"
ALIAS_FAILED = "The alias “{pattern}” matched, but I could not plan it: {problems}"
ALIASES_HEADER = "*Aliases you can use here* (planned without the model, approved like any plan):"
RUN_LINE = "• " + RUN_USAGE + " — any action, directly"
#: Risk of an alias whose built-in action rates each request by its arguments (e.g. where a message goes).
RISK_BY_ARGUMENTS = "risk depends on the arguments"


def run_error(problem: str) -> str:
    """A ``/baton run`` line that could not be read."""
    return f"{RUN_FAILED.format(problems=problem)}\nUsage: {RUN_USAGE}"


def run_failed(problems: Sequence[str]) -> str:
    """``/baton run`` read, but the action or its arguments are not right."""
    return clip(RUN_FAILED.format(problems="; ".join(problems[:5])), MESSAGE_TEXT)


def alias_failed(pattern: str, problems: Sequence[str]) -> str:
    return clip(ALIAS_FAILED.format(pattern=pattern, problems="; ".join(problems[:5])), MESSAGE_TEXT)


@dataclass(frozen=True)
class AliasLine:
    """One alias as ``/baton help`` lists it; ``risk`` None when it depends on the arguments."""

    pattern: str
    action: str
    risk: str | None


def alias_listing(aliases: Sequence[AliasLine]) -> str:
    """The aliases a person may run here (their action is available), and ``/baton run``."""
    lines = [ALIASES_HEADER]
    for alias in aliases:
        risk = f"{alias.risk} risk" if alias.risk else RISK_BY_ARGUMENTS
        lines.append(f"• `{alias.pattern}` → `{alias.action}` · {risk}")
    lines.append(RUN_LINE)
    return clip("\n".join(lines), MESSAGE_TEXT)
