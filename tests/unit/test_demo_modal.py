"""Forms and message inputs in the terminal demo: typed ``name=value`` words become what Slack's client sends."""

from __future__ import annotations

import pytest

from baton.demo_modal import ModalError, modal_values, pick_value, render_fields

USERS = {"U0ALICE": "alice", "U0BOB": "bob"}
STEPS = [{"text": {"type": "plain_text", "text": f"{n}. Step {n}"}, "value": str(n - 1)} for n in (1, 2, 3)]
VIEW = {
    "id": "V1",
    "title": {"type": "plain_text", "text": "Review steps"},
    "submit": {"type": "plain_text", "text": "Approve selected"},
    "blocks": [
        {"type": "section", "text": {"type": "mrkdwn", "text": "Untick what you don't want"}},
        {
            "type": "input",
            "block_id": "steps",
            "label": {"type": "plain_text", "text": "Steps to run"},
            "element": {"type": "checkboxes", "action_id": "steps", "options": STEPS, "initial_options": STEPS},
        },
        {
            "type": "input",
            "block_id": "reason",
            "optional": True,
            "label": {"type": "plain_text", "text": "Why"},
            "element": {"type": "plain_text_input", "action_id": "reason_text"},
        },
        {
            "type": "input",
            "block_id": "owner",
            "optional": True,
            "label": {"type": "plain_text", "text": "Owner"},
            "element": {"type": "users_select", "action_id": "owner", "initial_user": "U0ALICE"},
        },
    ],
}


def test_the_forms_fields_are_listed_with_their_names_and_values():
    lines = render_fields(VIEW, users=USERS)
    assert lines[0] == "(form 'Review steps': /modal <field>=<value> … sends it with [Approve selected])"
    assert "  steps: Steps to run (checkboxes, required)" in lines and "      2. [x] 2. Step 2" in lines
    assert "  reason: Why (plain_text_input, optional)" in lines and "      now: alice" in lines


def test_typed_values_fill_the_form_and_the_rest_keep_their_initial_values():
    values = modal_values(VIEW, "steps=1,3 reason=not step two, it is risky", users=USERS)
    assert values["steps"]["steps"] == {"type": "checkboxes", "selected_options": [STEPS[0], STEPS[2]]}
    assert values["reason"]["reason_text"] == {"type": "plain_text_input", "value": "not step two, it is risky"}
    assert values["owner"]["owner"] == {"type": "users_select", "selected_user": "U0ALICE"}
    assert modal_values(VIEW, "owner=@bob", users=USERS)["owner"]["owner"]["selected_user"] == "U0BOB"
    assert modal_values(VIEW, "", users=USERS)["steps"]["steps"]["selected_options"] == STEPS


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("steps=none", "the field 'steps' is required"),
        ("steps=4", "pick options by their number, 1 to 3"),
        ("colour=red", "the form has no field 'colour'; its fields: steps, reason, owner"),
        ("just words", "write the form's fields as name=value"),
        ("owner=zed", "no member named 'zed'"),
    ],
)
def test_values_that_do_not_fit_say_what_to_type(typed, problem):
    with pytest.raises(ModalError, match=problem):
        modal_values(VIEW, typed, users=USERS)


def test_a_pick_on_a_message_becomes_the_value_slacks_client_sends():
    tick = {"type": "checkboxes", "action_id": "sel", "options": [{"text": {"text": "Follow up"}, "value": "yes"}]}
    assert pick_value(tick, "off", users=USERS) == ([], "unticked")
    assert pick_value(tick, "on", users=USERS) == (["yes"], "ticked")
    assert pick_value({"type": "users_select", "action_id": "o"}, "bob", users=USERS) == ("U0BOB", "@bob")
    assert pick_value({"type": "datepicker", "action_id": "d"}, "2031-01-31", users=USERS) == (
        "2031-01-31",
        "2031-01-31",
    )
    with pytest.raises(ModalError, match="YYYY-MM-DD"):
        pick_value({"type": "datepicker", "action_id": "d"}, "friday", users=USERS)
    select = {"type": "static_select", "action_id": "s", "options": STEPS}
    assert pick_value(select, "2", users=USERS) == ("1", "2. Step 2")
    with pytest.raises(ModalError, match="pick one of the 3 options"):
        pick_value(select, "none", users=USERS)
    with pytest.raises(ModalError, match="say what to pick"):
        pick_value(select, "", users=USERS)
