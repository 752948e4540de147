"""``/baton policy …`` parsing, merging a change into a stored override, and describing a policy."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.policy import effective_policy, may_approve
from core.policy_command import (
    POLICY_USAGE,
    PolicyCommand,
    PolicyCommandError,
    describe_policy,
    merge_override,
    parse_policy_command,
    policy_sources,
)
from core.types import Risk


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", PolicyCommand("show")),
        ("show", PolicyCommand("show")),
        ("--workspace", PolicyCommand("show", workspace=True)),
        ("help", PolicyCommand("help")),
        ("reset", PolicyCommand("reset")),
        ("RESET workspace", PolicyCommand("reset", workspace=True)),
        ("set approvers high <@U0BOB>", PolicyCommand("set", False, "approvers", {"approvers": {"high": ["U0BOB"]}})),
        ("set approvers HIGH <@U0BOB|bob>, <@U0CAROL|carol> <@U0BOB>",
         PolicyCommand("set", False, "approvers", {"approvers": {"high": ["U0BOB", "U0CAROL"]}})),
        ("set approvers medium U0BOB,W0DAN", PolicyCommand("set", False, "approvers",
                                                           {"approvers": {"medium": ["U0BOB", "W0DAN"]}})),
        ("set approvers low none --workspace", PolicyCommand("set", True, "approvers", {"approvers": {"low": None}})),
        ("set approver_groups high <!subteam^S0OPS|@ops> S0SRE",
         PolicyCommand("set", False, "approver_groups", {"approver_groups": {"high": ["S0OPS", "S0SRE"]}})),
        ("set approver-groups high none", PolicyCommand("set", False, "approver_groups",
                                                        {"approver_groups": {"high": None}})),
        ("set self_approval medium,low", PolicyCommand("set", False, "self_approval",
                                                       {"self_approval": ["low", "medium"]})),
        ("set self_approval none", PolicyCommand("set", False, "self_approval", {"self_approval": []})),
        ("set auto_run_low_risk off", PolicyCommand("set", False, "auto_run_low_risk", {"auto_run_low_risk": False})),
        ("set auto_run_low_risk On", PolicyCommand("set", False, "auto_run_low_risk", {"auto_run_low_risk": True})),
        ("set expiry_hours 48", PolicyCommand("set", False, "expiry_hours", {"expiry_hours": 48})),
        ("set expiry_hours 1.5", PolicyCommand("set", False, "expiry_hours", {"expiry_hours": 1.5})),
        ("set expiry_hours 720", PolicyCommand("set", False, "expiry_hours", {"expiry_hours": 720})),
        # workspace-wide keys go to the workspace row even when set from a channel
        ("set allowed_channels <#C0OPS|ops>, <#C0GENERAL>", PolicyCommand(
            "set", True, "allowed_channels", {"allowed_channels": ["C0OPS", "C0GENERAL"]})),
        ("set allowed_channels all", PolicyCommand("set", True, "allowed_channels", {"allowed_channels": None})),
        ("set admins <@U0ALICE>", PolicyCommand("set", True, "admins", {"admins": ["U0ALICE"]})),
        ("set admins none", PolicyCommand("set", True, "admins", {"admins": []})),
    ],
)
def test_parses(text, expected):
    assert parse_policy_command(text) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("set", "Say which setting"),
        ("set colour blue", "`colour` is not a policy setting"),
        ("set approvers", "needs a risk"),
        ("set approvers extreme <@U0BOB>", "`extreme` is not a risk"),
        ("set approvers high", "needs who, or `none`"),
        ("set approvers high @bob", "`@bob` is not a person"),
        ("set approvers high <@U0BOB> none", "`none` is not a person"),
        ("set approvers high <#C0OPS|ops>", "is not a person"),
        ("set approver_groups high <@U0BOB>", "is not a user group"),
        ("set self_approval sometimes", "`sometimes` is not a risk"),
        ("set auto_run_low_risk maybe", "`auto_run_low_risk` is `on` or `off`"),
        ("set auto_run_low_risk", "needs a value"),
        ("set expiry_hours 0", "from 1 to 720"),
        ("set expiry_hours 721", "from 1 to 720"),
        ("set expiry_hours nan", "from 1 to 720"),
        ("set expiry_hours 2 days", "from 1 to 720"),
        ("set allowed_channels general", "`general` is not a channel"),
        ("set admins everyone", "is not a person"),
        ("reset now", "`reset` takes nothing more"),
        ("approvers high <@U0BOB>", "Start with `set`"),
        ("delete everything", "I don't understand `delete`"),
    ],
)
def test_malformed_commands_name_the_problem_and_show_usage(text, problem):
    with pytest.raises(PolicyCommandError) as caught:
        parse_policy_command(text)
    assert problem in caught.value.problem
    assert caught.value.reason == f"{caught.value.problem}\n{POLICY_USAGE}"
    assert isinstance(caught.value, ValueError)


def test_merge_changes_one_risk_and_keeps_the_others():
    stored = {"approvers": {"medium": ["U0CAROL"]}, "expiry_hours": 12}
    merged = merge_override(stored, {"approvers": {"high": ["U0BOB"]}})
    assert merged == {"approvers": {"medium": ["U0CAROL"], "high": ["U0BOB"]}, "expiry_hours": 12}
    assert stored == {"approvers": {"medium": ["U0CAROL"]}, "expiry_hours": 12}  # not mutated
    assert merge_override(merged, {"approvers": {"medium": None}, "expiry_hours": None}) == {
        "approvers": {"high": ["U0BOB"]}}


def test_a_channel_without_its_own_mapping_starts_from_the_workspace_one():
    workspace = {"approvers": {"medium": ["U0CAROL"], "high": ["U0DAN"]}}
    channel = merge_override({}, {"approvers": {"high": ["U0BOB"]}}, inherited=workspace)
    assert channel == {"approvers": {"medium": ["U0CAROL"], "high": ["U0BOB"]}}
    # "none" for the only risk leaves an explicit empty mapping: anyone may approve here.
    emptied = merge_override({"approvers": {"high": ["U0BOB"]}}, {"approvers": {"high": None}}, inherited=workspace)
    assert emptied == {"approvers": {}}
    policy = effective_policy(workspace, emptied)
    assert may_approve(policy, user_id="U0EVE", requester_id="U0ALICE", risk=Risk.HIGH).allowed


def test_merged_values_are_what_effective_policy_reads():
    override = {}
    for text in ("set approvers high <@U0BOB>", "set self_approval low", "set auto_run_low_risk off",
                 "set expiry_hours 48", "set allowed_channels <#C0OPS>", "set admins <@U0ALICE>"):
        override = merge_override(override, parse_policy_command(text).changes)
    policy = effective_policy(override)
    assert policy.approvers == {Risk.HIGH: frozenset({"U0BOB"})}
    assert policy.self_approval == frozenset({Risk.LOW})
    assert policy.auto_run_low_risk is False
    assert policy.expiry == timedelta(hours=48)
    assert policy.allowed_channels == frozenset({"C0OPS"})
    assert policy.admins == frozenset({"U0ALICE"})
    all_channels = merge_override(override, parse_policy_command("set allowed_channels all").changes)
    assert effective_policy(all_channels).allowed_channels is None


def test_sources_say_where_each_value_comes_from():
    sources = policy_sources({"admins": ["U0ALICE"], "approvers": {}}, {"approvers": {"high": ["U0BOB"]}})
    assert sources["approvers"] == "channel"
    assert sources["admins"] == "workspace"
    assert sources["expiry_hours"] == "default"
    assert set(policy_sources(None, None).values()) == {"default"}


def test_describe_shows_every_setting_with_its_source():
    workspace = {"admins": ["U0ALICE"], "approver_groups": {"medium": ["S0OPS"]}}
    channel = {"approvers": {"high": ["U0BOB"]}, "expiry_hours": 1}
    text = describe_policy(effective_policy(workspace, channel), channel_id="C0GENERAL",
                           sources=policy_sources(workspace, channel))
    lines = text.splitlines()
    assert lines[0] == "*Approval policy in <#C0GENERAL>*"
    assert ("• *Approvers*: high: <@U0BOB>; medium: members of the approver groups; low: anyone "
            "_(this channel)_") in lines
    assert "• *Approver groups*: high: none; medium: <!subteam^S0OPS>; low: none _(workspace)_" in lines
    assert "• *Requesters may approve their own plans at*: low, medium _(default)_" in lines
    assert "• *Low-risk replies and memories run without a click*: on _(default)_" in lines
    assert "• *Pending plans expire after*: 1 hour _(this channel)_" in lines
    assert "• *Channels Baton acts in*: all channels Baton is in (and DMs) _(default)_" in lines
    assert "• *Admins*: <@U0ALICE> _(workspace)_" in lines


def test_describe_for_a_terminal_uses_plain_ids():
    workspace = {"allowed_channels": ["C0OPS"], "self_approval": [], "expiry_hours": 36}
    text = describe_policy(effective_policy(workspace), channel_id="", sources=policy_sources(workspace, {}),
                           slack=False)
    assert text.splitlines()[0] == "Workspace approval policy (channels without their own settings)"
    assert "- Channels Baton acts in: C0OPS (and DMs) (workspace)" in text
    assert "- Requesters may approve their own plans at: no risk (workspace)" in text
    assert "- Pending plans expire after: 36 hours (workspace)" in text
    assert "- Admins: none (default)" in text
    assert "<@" not in text and "*" not in text
