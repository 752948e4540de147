"""``/baton policy …`` (and ``baton policy …``): the arguments read into a :class:`PolicyCommand`, a stored
override merged with a change, and the effective policy described for people.

The text parsed is what follows the word ``policy``. Keywords are case-insensitive; ``--workspace`` (or the
word ``workspace``) anywhere targets the workspace row instead of the current channel's::

    ""                                            show the effective policy here
    "set approvers <risk> <@U…>[, <@U…>] | none"   who may approve plans of that risk (none: anyone)
    "set approver_groups <risk> <!subteam^S…> … | none"
    "set self_approval <risk>[,<risk>] | none"     risks at which requesters may approve their own plans
    "set auto_run_low_risk on|off"
    "set expiry_hours <1..720>"
    "set allowed_channels <#C…>[, <#C…>] | all"    workspace-wide only
    "set admins <@U…>[, <@U…>] | none"             workspace-wide only
    "reset"                                       drop this channel's overrides (``--workspace``: the workspace's)
    "help"

``allowed_channels`` and ``admins`` are always stored in the workspace row: an allow-list only means
something across channels, and admins are who may change any channel's policy. Setting them from a channel
changes the workspace (the reply says so).

Anything else raises :class:`PolicyCommandError` (a ``ValueError``) whose ``reason`` is the specific
problem followed by :data:`POLICY_USAGE`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from core.policy import ApprovalPolicy
from core.types import Risk

__all__ = [
    "KEYS",
    "POLICY_USAGE",
    "WORKSPACE_ONLY_KEYS",
    "PolicyAction",
    "PolicyCommand",
    "PolicyCommandError",
    "Source",
    "describe_policy",
    "merge_override",
    "parse_policy_command",
    "policy_sources",
]

PolicyAction = Literal["show", "set", "reset", "help"]
#: Where an effective value comes from.
Source = Literal["default", "workspace", "channel"]

#: The override keys ``effective_policy`` reads, in the order they are described.
KEYS = ("approvers", "approver_groups", "self_approval", "auto_run_low_risk", "expiry_hours", "allowed_channels",
        "admins")
#: Keys only the workspace row holds (see the module docstring).
WORKSPACE_ONLY_KEYS = frozenset({"allowed_channels", "admins"})
#: Bounds of ``expiry_hours``: at least an hour to notice a card, at most 30 days.
EXPIRY_HOURS_RANGE = (1.0, 720.0)

POLICY_USAGE = """Usage:
• `/baton policy` shows the approval policy in this channel
• `/baton policy set approvers <risk> @person[, @person]` (or `none`: anyone may approve)
• `/baton policy set approver_groups <risk> @group[, @group]` (or `none`)
• `/baton policy set self_approval low,medium` (or `none`): risks at which requesters may approve their own plans
• `/baton policy set auto_run_low_risk on|off`
• `/baton policy set expiry_hours 48` (1 to 720)
• `/baton policy set allowed_channels #channel[, #channel]` (or `all`), workspace-wide
• `/baton policy set admins @person[, @person]` (or `none`), workspace-wide
• `/baton policy reset` drops this channel's own settings
Risks are `low`, `medium` and `high`. Add `--workspace` to change the defaults of every channel.
Changing the policy is for admins."""

_RISK_ORDER = (Risk.HIGH, Risk.MEDIUM, Risk.LOW)
_ON = frozenset({"on", "true", "yes", "1"})
_OFF = frozenset({"off", "false", "no", "0"})
_TOKEN = re.compile(r"<[^>]*>|[^\s,]+")
_USER = re.compile(r"<@([UW][A-Z0-9]{2,})(?:\|[^>]*)?>|([UW][A-Z0-9]{2,})")
_GROUP = re.compile(r"<!subteam\^(S[A-Z0-9]{2,})(?:\|[^>]*)?>|(S[A-Z0-9]{2,})")
_CHANNEL = re.compile(r"<#([CG][A-Z0-9]{2,})(?:\|[^>]*)?>|([CG][A-Z0-9]{2,})")


class PolicyCommandError(ValueError):
    """The arguments are not a policy command; ``reason`` is the reply for the user (problem plus usage)."""

    def __init__(self, problem: str) -> None:
        self.problem = problem
        self.reason = f"{problem}\n{POLICY_USAGE}"
        super().__init__(self.reason)


@dataclass(frozen=True)
class PolicyCommand:
    """A parsed policy command.

    For ``set``, ``changes`` is the change to the stored override: ``{key: value}`` where ``None`` removes
    the key, and for ``approvers`` / ``approver_groups`` the value is ``{risk: [ids] | None}`` merged into
    the stored mapping (``None`` removes that risk). See :func:`merge_override`.
    """

    action: PolicyAction
    workspace: bool = False
    key: str | None = None
    changes: Mapping[str, Any] = field(default_factory=dict)


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def _ids(tokens: list[str], pattern: re.Pattern[str], what: str, hint: str) -> list[str]:
    found: list[str] = []
    for token in tokens:
        match = pattern.fullmatch(token)
        if match is None:
            raise PolicyCommandError(f"`{token}` is not {what}; {hint}.")
        ident = match.group(1) or match.group(2)
        if ident not in found:
            found.append(ident)
    return found


def _is_word(tokens: list[str], word: str) -> bool:
    return len(tokens) == 1 and tokens[0].lower() == word


def _risk(text: str | None, key: str) -> Risk:
    if text is None:
        raise PolicyCommandError(f"`{key}` needs a risk first, like `{key} high …`.")
    try:
        return Risk(text.lower())
    except ValueError:
        raise PolicyCommandError(f"`{text}` is not a risk; use `low`, `medium` or `high`.") from None


_USER_HINT = ("mention the person with Slack's autocomplete (so it becomes a real mention) or give their "
              "member id (U…)")


def _set_value(key: str, values: list[str]) -> Any:
    """The stored value for ``set <key> <values>`` (per-risk keys come without their risk)."""
    if not values:
        raise PolicyCommandError(f"`{key}` needs a value.")
    if key == "self_approval":
        if _is_word(values, "none"):
            return []
        risks = {_risk(value, key) for value in values}
        return [risk.value for risk in reversed(_RISK_ORDER) if risk in risks]
    if key == "auto_run_low_risk":
        word = values[0].lower() if len(values) == 1 else ""
        if word not in _ON | _OFF:
            raise PolicyCommandError(f"`{key}` is `on` or `off`, not `{' '.join(values)}`.")
        return word in _ON
    if key == "expiry_hours":
        return _expiry(values)
    if key == "allowed_channels":
        if _is_word(values, "all"):
            return None
        return _ids(values, _CHANNEL, "a channel", "pick channels with Slack's autocomplete (#channel) or give "
                    "their ids (C…)")
    # admins
    if _is_word(values, "none"):
        return []
    return _ids(values, _USER, "a person", _USER_HINT)


def _expiry(values: list[str]) -> int | float:
    low, high = EXPIRY_HOURS_RANGE
    text = " ".join(values)
    try:
        hours = float(values[0]) if len(values) == 1 else math.nan
    except ValueError:
        hours = math.nan
    if not math.isfinite(hours) or not low <= hours <= high:
        raise PolicyCommandError(f"`expiry_hours` is a number of hours from {low:g} to {high:g}, not `{text}`.")
    return int(hours) if hours.is_integer() else hours


def _set(words: list[str], workspace: bool) -> PolicyCommand:
    if not words:
        raise PolicyCommandError("Say which setting to change: " + ", ".join(f"`{k}`" for k in KEYS) + ".")
    key = words[0].lower().replace("-", "_")
    if key not in KEYS:
        raise PolicyCommandError(f"`{words[0]}` is not a policy setting; the settings are "
                                 + ", ".join(f"`{k}`" for k in KEYS) + ".")
    rest = _tokens(" ".join(words[1:]))
    if key in ("approvers", "approver_groups"):
        risk = _risk(rest[0] if rest else None, key)
        values = rest[1:]
        if not values:
            raise PolicyCommandError(f"`{key} {risk.value}` needs who, or `none`.")
        if _is_word(values, "none"):
            ids: list[str] | None = None
        elif key == "approvers":
            ids = _ids(values, _USER, "a person", _USER_HINT)
        else:
            ids = _ids(values, _GROUP, "a user group", "mention the group with Slack's autocomplete "
                       "(@group) or give its id (S…)")
        return PolicyCommand("set", workspace, key, {key: {risk.value: ids}})
    value = _set_value(key, rest)
    return PolicyCommand("set", workspace or key in WORKSPACE_ONLY_KEYS, key, {key: value})


def parse_policy_command(text: str) -> PolicyCommand:
    """Read the arguments after ``policy``; raises :class:`PolicyCommandError` for anything else."""
    words = text.split()
    workspace = any(word.lower() in ("--workspace", "workspace") for word in words)
    words = [word for word in words if word.lower() not in ("--workspace", "workspace")]
    if not words:
        return PolicyCommand("show", workspace)
    action, rest = words[0].lower(), words[1:]
    if action in ("help", "usage"):
        return PolicyCommand("help", workspace)
    if action == "show" and not rest:
        return PolicyCommand("show", workspace)
    if action == "reset":
        if rest:
            raise PolicyCommandError(f"`reset` takes nothing more, not `{' '.join(rest)}`.")
        return PolicyCommand("reset", workspace)
    if action == "set":
        return _set(rest, workspace)
    if action.replace("-", "_") in KEYS:
        raise PolicyCommandError(f"Start with `set`, like `set {' '.join(words)}`.")
    raise PolicyCommandError(f"I don't understand `{words[0]}`.")


def merge_override(current: Mapping[str, Any], changes: Mapping[str, Any],
                   *, inherited: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``current`` with ``changes`` applied: a ``None`` value removes a key; a mapping value (per-risk keys)
    is merged into the stored mapping, where a ``None`` entry removes that risk.

    A channel row that has no per-risk mapping yet starts from ``inherited`` (the workspace row's), because
    a channel's mapping replaces the workspace's whole: setting ``high`` here must keep the workspace's
    ``medium``. An emptied mapping stays (``{}``: anyone may approve here, whatever the workspace says).
    """
    result = {key: value for key, value in current.items()}
    for key, value in changes.items():
        if value is None:
            result.pop(key, None)
            continue
        if isinstance(value, Mapping):
            base = result.get(key)
            if not isinstance(base, Mapping):
                base = (inherited or {}).get(key)
            merged = dict(base) if isinstance(base, Mapping) else {}
            for sub, sub_value in value.items():
                if sub_value is None:
                    merged.pop(sub, None)
                else:
                    merged[sub] = list(sub_value)
            result[key] = merged
        else:
            result[key] = list(value) if isinstance(value, list | tuple) else value
    return result


def policy_sources(workspace: Mapping[str, Any] | None, channel: Mapping[str, Any] | None) -> dict[str, Source]:
    """Where each key of the effective policy comes from: the channel row, the workspace row or the defaults."""
    sources: dict[str, Source] = {}
    for key in KEYS:
        if channel and key in channel:
            sources[key] = "channel"
        elif workspace and key in workspace:
            sources[key] = "workspace"
        else:
            sources[key] = "default"
    return sources


def _people(ids: frozenset[str] | set[str], *, slack: bool, group: bool = False) -> str:
    if slack:
        return ", ".join(f"<!subteam^{i}>" if group else f"<@{i}>" for i in sorted(ids))
    return ", ".join(sorted(ids))


def _by_risk(policy: ApprovalPolicy, *, slack: bool, group: bool) -> str:
    """Per risk, who: approvers fall back to "anyone" only when the risk has no groups either."""
    mapping = policy.approver_groups if group else policy.approvers
    other = policy.approvers if group else policy.approver_groups
    parts = []
    for risk in _RISK_ORDER:
        ids = mapping.get(risk, frozenset())
        if ids:
            who = _people(ids, slack=slack, group=group)
        elif group:
            who = "none"
        else:
            who = "members of the approver groups" if other.get(risk) else "anyone"
        parts.append(f"{risk.value}: {who}")
    return "; ".join(parts)


def _hours(expiry: timedelta) -> str:
    hours = expiry.total_seconds() / 3600
    return "1 hour" if hours == 1 else f"{hours:g} hours"


_SOURCE_TEXT: dict[Source, str] = {"default": "default", "workspace": "workspace", "channel": "this channel"}


def describe_policy(policy: ApprovalPolicy, *, channel_id: str, sources: Mapping[str, Source],
                    slack: bool = True) -> str:
    """The effective policy, one line per setting, each saying whether it is the default or set for the
    workspace or this channel. ``channel_id`` ``""`` describes the workspace row. ``slack=False`` writes
    plain ids for a terminal instead of mentions and Slack formatting."""
    bold = "*" if slack else ""
    if channel_id:
        where = f"<#{channel_id}>" if slack else channel_id
        title = f"{bold}Approval policy in {where}{bold}"
    else:
        title = f"{bold}Workspace approval policy{bold} (channels without their own settings)"
    self_risks = [risk.value for risk in reversed(_RISK_ORDER) if risk in policy.self_approval]
    if policy.allowed_channels is None:
        channels = "all channels Baton is in (and DMs)"
    else:
        listed = sorted(policy.allowed_channels)
        shown = ", ".join(f"<#{c}>" for c in listed) if slack else ", ".join(listed)
        channels = (shown or "none") + " (and DMs)"
    rows = [
        ("Approvers", _by_risk(policy, slack=slack, group=False), "approvers"),
        ("Approver groups", _by_risk(policy, slack=slack, group=True) if any(policy.approver_groups.values())
         else "none", "approver_groups"),
        ("Requesters may approve their own plans at", ", ".join(self_risks) or "no risk", "self_approval"),
        ("Low-risk replies and memories run without a click", "on" if policy.auto_run_low_risk else "off",
         "auto_run_low_risk"),
        ("Pending plans expire after", _hours(policy.expiry), "expiry_hours"),
        ("Channels Baton acts in", channels, "allowed_channels"),
        ("Admins", _people(policy.admins, slack=slack) or "none", "admins"),
    ]
    lines = [title]
    for label, value, key in rows:
        source = _SOURCE_TEXT[sources.get(key, "default")]
        lines.append(f"• *{label}*: {value} _({source})_" if slack else f"- {label}: {value} ({source})")
    return "\n".join(lines)
