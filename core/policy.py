"""Who may approve what, and which plans may run without approval.

The effective policy for a channel is the defaults, overridden by the workspace row, overridden
by the channel row (``policies`` table; edited by admins). Pure: callers pass the stored overrides
and the facts (user ids, the user's groups) in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from core.types import ReviewedStep, Risk

#: Actions that may run without a click when every step is low risk: replies in the requesting thread
#: (the connector rates only those low) and remembering something for this channel or the requester
#: (internal, and undone with one click). Everything else waits for approval.
AUTO_RUN_ACTIONS = frozenset({"slack.post_message", "memory.remember"})


@dataclass(frozen=True)
class ApprovalPolicy:
    """Approval rules for one channel.

    ``approvers[risk]`` lists user ids allowed to approve plans of that risk; ``approver_groups[risk]``
    lists Slack user group ids whose members may. Both empty for a risk means any member may approve
    (subject to the self-approval rule).
    """

    approvers: Mapping[Risk, frozenset[str]] = field(default_factory=dict)
    approver_groups: Mapping[Risk, frozenset[str]] = field(default_factory=dict)
    #: Risks at which the requester may approve their own plan (never HIGH by default).
    self_approval: frozenset[Risk] = frozenset({Risk.LOW, Risk.MEDIUM})
    #: Whether an all-low-risk plan of read-only or same-thread steps runs without a click.
    auto_run_low_risk: bool = True
    expiry: timedelta = timedelta(hours=24)
    #: Channels Baton acts in; ``None`` means every channel it was invited to.
    allowed_channels: frozenset[str] | None = None
    #: Workspace or channel admins: may change memory they did not write (forget, delete).
    admins: frozenset[str] = frozenset()


DEFAULT_POLICY = ApprovalPolicy()


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str = ""


def effective_policy(*overrides: Mapping[str, Any] | None, base: ApprovalPolicy = DEFAULT_POLICY) -> ApprovalPolicy:
    """Apply stored overrides (workspace first, then channel) on top of ``base``.

    Override keys: ``approvers`` / ``approver_groups`` ({risk: [ids]}), ``self_approval`` ([risks]),
    ``auto_run_low_risk`` (bool), ``expiry_hours`` (number), ``allowed_channels`` ([ids] or null).
    Unknown keys are ignored so an older process never breaks on a newer policy row.
    """
    policy = base
    for override in overrides:
        if not override:
            continue
        changes: dict[str, Any] = {}
        if "approvers" in override:
            changes["approvers"] = _by_risk(override["approvers"])
        if "approver_groups" in override:
            changes["approver_groups"] = _by_risk(override["approver_groups"])
        if "self_approval" in override:
            changes["self_approval"] = frozenset(Risk(value) for value in override["self_approval"])
        if "auto_run_low_risk" in override:
            changes["auto_run_low_risk"] = bool(override["auto_run_low_risk"])
        if "expiry_hours" in override:
            changes["expiry"] = timedelta(hours=float(override["expiry_hours"]))
        if "admins" in override:
            changes["admins"] = frozenset(override["admins"])
        if "allowed_channels" in override:
            value = override["allowed_channels"]
            changes["allowed_channels"] = None if value is None else frozenset(value)
        policy = replace(policy, **changes)
    return policy


def _by_risk(raw: Mapping[str, Iterable[str]]) -> dict[Risk, frozenset[str]]:
    return {Risk(risk): frozenset(ids) for risk, ids in raw.items()}


def may_approve(
    policy: ApprovalPolicy, *, user_id: str, requester_id: str, risk: Risk, user_groups: frozenset[str] = frozenset()
) -> Verdict:
    """Whether ``user_id`` may approve (or reject) a plan of ``risk`` requested by ``requester_id``."""
    if user_id == requester_id and risk not in policy.self_approval:
        return Verdict(False, f"you requested this {risk.value}-risk plan, so someone else has to approve it")
    users = policy.approvers.get(risk, frozenset())
    groups = policy.approver_groups.get(risk, frozenset())
    if not users and not groups:
        return Verdict(True)
    if user_id in users or user_groups & groups:
        return Verdict(True)
    return Verdict(False, f"only designated approvers may approve {risk.value}-risk plans in this channel")


def runs_without_approval(policy: ApprovalPolicy, steps: Iterable[ReviewedStep]) -> bool:
    """True when every step is low risk and may run unapproved: by its connector's ``auto_run`` (an MCP tool's
    policy) where it has one, else when it is read-only or an auto-run action (see AUTO_RUN_ACTIONS)."""
    steps = list(steps)
    if not policy.auto_run_low_risk or not steps:
        return False
    return all(step.risk is Risk.LOW and _may_auto_run(step) for step in steps)


def _may_auto_run(step: ReviewedStep) -> bool:
    if step.auto_run is not None:
        return step.auto_run
    return step.read_only or step.action in AUTO_RUN_ACTIONS


def may_edit_memory(policy: ApprovalPolicy, *, user_id: str, author_id: str | None) -> Verdict:
    """The author of a memory, or an admin, may forget or delete it."""
    if user_id == author_id or user_id in policy.admins:
        return Verdict(True)
    return Verdict(False, "only the person who asked me to remember it, or an admin, can make me forget it")


def channel_allowed(policy: ApprovalPolicy, channel_id: str, *, is_dm: bool) -> bool:
    """DMs are always allowed; channels only when no allow-list is set or they are on it."""
    return is_dm or policy.allowed_channels is None or channel_id in policy.allowed_channels
