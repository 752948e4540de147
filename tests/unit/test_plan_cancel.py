"""The plan state machine's ``cancel`` (a workspace removed Baton): from what could still run, never from an end."""

from __future__ import annotations

import pytest

from core.states import PLAN_FINAL, InvalidTransition, plan_transition


def test_a_plan_is_cancelled_from_every_state_that_could_still_run_and_from_no_finished_one():
    for status in ("pending", "approved", "running"):
        assert plan_transition(status, "cancel") == "cancelled"
    for status in PLAN_FINAL:
        with pytest.raises(InvalidTransition):
            plan_transition(status, "cancel")
