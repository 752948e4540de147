"""Input elements in messages (users_select, datepicker, checkboxes, static_select, timepicker) and file
uploads in threads, in the local Slack workspace, driven by the real slack_sdk client."""

from __future__ import annotations

import copy
import json
import time
import urllib.request
from typing import TYPE_CHECKING, Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from localslack import LocalSlack, UnknownObject
from localslack.errors import InvalidValue, LocalSlackError

if TYPE_CHECKING:
    from tests.fakes.slack_api import EventReceiver

pytest_plugins = ["tests.fakes.slack_api"]

NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def option(value: str) -> dict[str, Any]:
    return {"text": plain(value.title()), "value": value}


def button(action_id: str) -> dict[str, Any]:
    return {"type": "button", "action_id": action_id, "text": plain("Save"), "value": "v1"}


def form_blocks(*, owner: str = "U0ALICE", due: str = "2026-11-27") -> list[dict[str, Any]]:
    """A message with every input kind: section accessories and an actions block, plus a button."""
    return [
        {"type": "section", "block_id": "who", "text": {"type": "mrkdwn", "text": "Owner?"},
         "accessory": {"type": "users_select", "action_id": "owner", "initial_user": owner,
                       "placeholder": plain("Pick someone")}},
        {"type": "actions", "block_id": "when", "elements": [
            {"type": "datepicker", "action_id": "due", "initial_date": due},
            {"type": "timepicker", "action_id": "at"},
            {"type": "static_select", "action_id": "env", "options": [option("staging"), option("prod")],
             "initial_option": option("staging")},
        ]},
        {"type": "section", "block_id": "items", "text": {"type": "mrkdwn", "text": "Items"},
         "accessory": {"type": "checkboxes", "action_id": "item_0_selected",
                       "options": [option("a"), option("b"), option("c")],
                       "initial_options": [option("a"), option("b")]}},
        {"type": "actions", "block_id": "go", "elements": [button("save")]},
    ]


INITIAL = {
    "who": {"owner": {"type": "users_select", "selected_user": "U0ALICE"}},
    "when": {"due": {"type": "datepicker", "selected_date": "2026-11-27"},
             "at": {"type": "timepicker", "selected_time": None},
             "env": {"type": "static_select", "selected_option": option("staging")}},
    "items": {"item_0_selected": {"type": "checkboxes", "selected_options": [option("a"), option("b")]}},
}


def with_changes(**changes: tuple[str, str, str, Any]) -> dict[str, Any]:
    """INITIAL with ``name=(block_id, action_id, field, value)`` changes applied."""
    values = copy.deepcopy(INITIAL)
    for block_id, action_id, field, value in changes.values():
        values[block_id][action_id][field] = value
    return values


@pytest.fixture
def form(local_slack: LocalSlack, slack_client: WebClient) -> str:
    """The ts of a form message the bot posted in #ops."""
    return str(slack_client.chat_postMessage(channel="C0OPS", text="Form", blocks=form_blocks())["ts"])


def click(slack: LocalSlack, user: str, ts: str, action_id: str, value: Any = None,
          receiver: EventReceiver | None = None) -> dict[str, Any]:
    """Click as ``user`` and return the block_actions payload the bot received."""
    assert slack.click(user, channel="C0OPS", message_ts=ts, action_id=action_id, value=value).status == 200
    assert receiver is not None
    return receiver.interactions()[-1]


# -- state.values ----------------------------------------------------------------------------------


def test_a_plain_button_click_carries_the_initial_values(local_slack: LocalSlack, form: str,
                                                         event_receiver: EventReceiver) -> None:
    payload = click(local_slack, "U0BOB", form, "save", receiver=event_receiver)
    assert payload["state"] == {"values": INITIAL}
    assert payload["actions"][0]["value"] == "v1"
    assert local_slack.input_state("U0BOB", "C0OPS", form) == INITIAL


def test_changes_are_sent_and_remembered_for_the_next_click(local_slack: LocalSlack, form: str,
                                                             event_receiver: EventReceiver) -> None:
    picked = click(local_slack, "U0ALICE", form, "owner", "U0BOB", event_receiver)
    [action] = picked["actions"]
    assert (action["type"], action["selected_user"], action["initial_user"], action["block_id"]) == (
        "users_select", "U0BOB", "U0ALICE", "who")
    assert action["placeholder"] == plain("Pick someone") and "action_ts" in action
    assert picked["state"]["values"]["who"]["owner"] == {"type": "users_select", "selected_user": "U0BOB"}

    dated = click(local_slack, "U0ALICE", form, "due", "2026-12-01", event_receiver)
    assert (dated["actions"][0]["selected_date"], dated["actions"][0]["initial_date"]) == (
        "2026-12-01", "2026-11-27")
    timed = click(local_slack, "U0ALICE", form, "at", "09:30", event_receiver)
    assert timed["actions"][0]["selected_time"] == "09:30" and "initial_time" not in timed["actions"][0]
    chosen = click(local_slack, "U0ALICE", form, "env", "prod", event_receiver)
    assert chosen["actions"][0]["selected_option"] == option("prod")
    assert chosen["actions"][0]["initial_option"] == option("staging")
    ticked = click(local_slack, "U0ALICE", form, "item_0_selected", ["c", "a"], event_receiver)
    assert ticked["actions"][0]["selected_options"] == [option("a"), option("c")]  # in the options' order

    saved = click(local_slack, "U0ALICE", form, "save", receiver=event_receiver)
    assert saved["state"]["values"] == with_changes(
        owner=("who", "owner", "selected_user", "U0BOB"),
        due=("when", "due", "selected_date", "2026-12-01"),
        at=("when", "at", "selected_time", "09:30"),
        env=("when", "env", "selected_option", option("prod")),
        items=("items", "item_0_selected", "selected_options", [option("a"), option("c")]))
    assert local_slack.input_state("U0ALICE", "C0OPS", form) == saved["state"]["values"]


def test_state_is_per_person(local_slack: LocalSlack, form: str, event_receiver: EventReceiver) -> None:
    click(local_slack, "U0ALICE", form, "owner", "U0BOB", event_receiver)
    click(local_slack, "U0ALICE", form, "item_0_selected", [], event_receiver)
    bobs = click(local_slack, "U0BOB", form, "save", receiver=event_receiver)
    assert bobs["state"]["values"] == INITIAL
    bob_ticks = click(local_slack, "U0BOB", form, "item_0_selected", ["c"], event_receiver)
    assert bob_ticks["state"]["values"]["who"] == INITIAL["who"]
    alices = click(local_slack, "U0ALICE", form, "save", receiver=event_receiver)
    assert alices["state"]["values"]["items"]["item_0_selected"]["selected_options"] == []
    assert alices["state"]["values"]["who"]["owner"]["selected_user"] == "U0BOB"


def test_checkboxes_untick_all_with_an_empty_list_and_toggle_with_one_value(
        local_slack: LocalSlack, form: str, event_receiver: EventReceiver) -> None:
    cleared = click(local_slack, "U0ALICE", form, "item_0_selected", [], event_receiver)
    assert cleared["actions"][0]["selected_options"] == []
    assert cleared["actions"][0]["initial_options"] == [option("a"), option("b")]
    assert cleared["state"]["values"]["items"]["item_0_selected"] == {"type": "checkboxes",
                                                                      "selected_options": []}
    ticked = click(local_slack, "U0ALICE", form, "item_0_selected", "b", event_receiver)
    assert ticked["actions"][0]["selected_options"] == [option("b")]
    both = click(local_slack, "U0ALICE", form, "item_0_selected", "c", event_receiver)
    assert both["actions"][0]["selected_options"] == [option("b"), option("c")]
    untick = click(local_slack, "U0ALICE", form, "item_0_selected", "b", event_receiver)
    assert untick["actions"][0]["selected_options"] == [option("c")]


def test_static_select_can_be_deselected(local_slack: LocalSlack, form: str,
                                         event_receiver: EventReceiver) -> None:
    cleared = click(local_slack, "U0ALICE", form, "env", None, event_receiver)
    assert cleared["actions"][0]["selected_option"] is None
    assert cleared["state"]["values"]["when"]["env"] == {"type": "static_select", "selected_option": None}


def test_elements_without_initial_values_report_null_and_empty(local_slack: LocalSlack,
                                                               slack_client: WebClient,
                                                               event_receiver: EventReceiver) -> None:
    blocks = [{"type": "actions", "block_id": "b", "elements": [
        {"type": "users_select", "action_id": "u"}, {"type": "datepicker", "action_id": "d"},
        {"type": "static_select", "action_id": "s", "options": [option("x")]},
        {"type": "checkboxes", "action_id": "c", "options": [option("x")]}, button("go")]}]
    ts = str(slack_client.chat_postMessage(channel="C0OPS", text="x", blocks=blocks)["ts"])
    payload = click(local_slack, "U0BOB", ts, "go", receiver=event_receiver)
    assert payload["state"]["values"] == {"b": {
        "u": {"type": "users_select", "selected_user": None},
        "d": {"type": "datepicker", "selected_date": None},
        "s": {"type": "static_select", "selected_option": None},
        "c": {"type": "checkboxes", "selected_options": []}}}
    picked = click(local_slack, "U0BOB", ts, "u", "U0ALICE", event_receiver)
    assert "initial_user" not in picked["actions"][0] and "placeholder" not in picked["actions"][0]


def test_a_message_with_only_buttons_has_empty_state(local_slack: LocalSlack, slack_client: WebClient,
                                                     event_receiver: EventReceiver) -> None:
    blocks = [{"type": "actions", "block_id": "go", "elements": [button("save")]}]
    ts = str(slack_client.chat_postMessage(channel="C0OPS", text="x", blocks=blocks)["ts"])
    assert click(local_slack, "U0ALICE", ts, "save", receiver=event_receiver)["state"] == {"values": {}}


def test_ephemeral_messages_keep_input_state_too(local_slack: LocalSlack, slack_client: WebClient,
                                                 event_receiver: EventReceiver) -> None:
    ts = slack_client.chat_postEphemeral(channel="C0OPS", user="U0ALICE", text="Form",
                                         blocks=form_blocks())["message_ts"]
    click(local_slack, "U0ALICE", ts, "due", "2027-01-02", event_receiver)
    saved = click(local_slack, "U0ALICE", ts, "save", receiver=event_receiver)
    assert saved["container"]["is_ephemeral"] and "message" not in saved
    assert saved["state"]["values"]["when"]["due"]["selected_date"] == "2027-01-02"


def test_missing_ids_of_input_blocks_are_generated_like_slack(local_slack: LocalSlack,
                                                              slack_client: WebClient,
                                                              event_receiver: EventReceiver) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "plain"}},
              {"type": "actions", "elements": [{"type": "datepicker", "action_id": "due"},
                                               {"type": "users_select"}, button("go")]}]
    answer = slack_client.chat_postMessage(channel="C0OPS", text="x", blocks=blocks)
    stored = answer["message"]["blocks"]
    assert stored[0] == blocks[0]  # blocks without inputs stay as sent
    block_id = stored[1]["block_id"]
    generated = stored[1]["elements"][1]["action_id"]
    assert block_id and generated and "action_id" in stored[1]["elements"][0]
    assert local_slack.messages("C0OPS")[0]["blocks"] == stored
    payload = click(local_slack, "U0BOB", answer["ts"], "go", receiver=event_receiver)
    assert set(payload["state"]["values"][block_id]) == {"due", generated}


def test_input_block_elements_count_in_state_and_dispatch_only_when_asked(
        local_slack: LocalSlack, slack_client: WebClient, event_receiver: EventReceiver) -> None:
    blocks = [{"type": "input", "block_id": "when", "label": plain("When?"), "dispatch_action": True,
               "element": {"type": "datepicker", "action_id": "due", "initial_date": "2026-01-05"}},
              {"type": "input", "block_id": "who", "label": plain("Who?"),
               "element": {"type": "users_select", "action_id": "owner"}}]
    ts = str(slack_client.chat_postMessage(channel="C0OPS", text="x", blocks=blocks)["ts"])
    payload = click(local_slack, "U0BOB", ts, "due", "2026-02-03", event_receiver)
    assert payload["state"]["values"] == {
        "when": {"due": {"type": "datepicker", "selected_date": "2026-02-03"}},
        "who": {"owner": {"type": "users_select", "selected_user": None}}}
    with pytest.raises(UnknownObject):
        local_slack.click("U0BOB", channel="C0OPS", message_ts=ts, action_id="owner", value="U0ALICE")


# -- chat.update, replace_original, chat.delete -------------------------------------------------------


def test_chat_update_keeps_picks_only_where_the_initial_value_is_unchanged(
        local_slack: LocalSlack, slack_client: WebClient, form: str, event_receiver: EventReceiver) -> None:
    for action_id, value in (("owner", "U0BOB"), ("due", "2026-12-01"), ("at", "10:00"),
                             ("item_0_selected", ["c"])):
        click(local_slack, "U0ALICE", form, action_id, value, event_receiver)
    # New default owner; the date's initial value unchanged; the time picker and the checkboxes gone.
    blocks = form_blocks(owner="U0BOB")
    blocks[1]["elements"] = [e for e in blocks[1]["elements"] if e["action_id"] != "at"]
    del blocks[2]
    slack_client.chat_update(channel="C0OPS", ts=form, text="Form v2", blocks=blocks)
    after = click(local_slack, "U0ALICE", form, "save", receiver=event_receiver)
    assert after["state"]["values"] == {
        "who": {"owner": {"type": "users_select", "selected_user": "U0BOB"}},  # the new initial value
        "when": {"due": {"type": "datepicker", "selected_date": "2026-12-01"},  # kept
                 "env": {"type": "static_select", "selected_option": option("staging")}}}
    # The pick on the new initial owner is reset too: choosing Alice again, then restoring the old blocks.
    click(local_slack, "U0ALICE", form, "owner", "U0ALICE", event_receiver)
    slack_client.chat_update(channel="C0OPS", ts=form, text="Form v3", blocks=form_blocks())
    restored = click(local_slack, "U0ALICE", form, "save", receiver=event_receiver)
    assert restored["state"]["values"] == with_changes(due=("when", "due", "selected_date", "2026-12-01"))


def test_chat_update_with_a_new_date_default_resets_the_date(local_slack: LocalSlack, slack_client: WebClient,
                                                             form: str, event_receiver: EventReceiver) -> None:
    click(local_slack, "U0ALICE", form, "due", "2026-12-01", event_receiver)
    slack_client.chat_update(channel="C0OPS", ts=form, text="Form", blocks=form_blocks(due="2027-03-01"))
    assert local_slack.input_state("U0ALICE", "C0OPS", form)["when"]["due"]["selected_date"] == "2027-03-01"


def test_replace_original_follows_the_same_rule(local_slack: LocalSlack, form: str,
                                                event_receiver: EventReceiver) -> None:
    payload = click(local_slack, "U0ALICE", form, "due", "2026-12-24", event_receiver)
    click(local_slack, "U0ALICE", form, "owner", "U0BOB", event_receiver)
    body = {"replace_original": True, "text": "v2", "blocks": form_blocks(owner="U0BATON")}
    request = urllib.request.Request(payload["response_url"], method="POST", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with NO_PROXY.open(request, timeout=5) as response:
        assert response.status == 200
    state = local_slack.input_state("U0ALICE", "C0OPS", form)
    assert state["when"]["due"]["selected_date"] == "2026-12-24"
    assert state["who"]["owner"]["selected_user"] == "U0BATON"  # a new initial value resets the pick


def test_chat_delete_forgets_the_state(local_slack: LocalSlack, slack_client: WebClient, form: str,
                                       event_receiver: EventReceiver) -> None:
    click(local_slack, "U0ALICE", form, "due", "2026-12-01", event_receiver)
    slack_client.chat_delete(channel="C0OPS", ts=form)
    assert local_slack._state.inputs == {}  # nothing left behind for a deleted message
    with pytest.raises(UnknownObject):
        local_slack.input_state("U0ALICE", "C0OPS", form)


# -- values no person could pick ---------------------------------------------------------------------


@pytest.mark.parametrize(("action_id", "value", "error"), [
    ("due", "27/11/2026", InvalidValue),
    ("due", "2026-02-30", InvalidValue),
    ("due", None, InvalidValue),
    ("at", "9:30", InvalidValue),
    ("at", "24:00", InvalidValue),
    ("owner", "U0NOPE", UnknownObject),
    ("owner", ["U0BOB"], InvalidValue),
    ("env", "qa", UnknownObject),
    ("item_0_selected", ["a", "zzz"], UnknownObject),
    ("item_0_selected", None, InvalidValue),
    ("save", ["v1"], InvalidValue),
])
def test_invalid_values_are_refused_and_nothing_is_sent(local_slack: LocalSlack, form: str,
                                                        event_receiver: EventReceiver, action_id: str,
                                                        value: Any, error: type[Exception]) -> None:
    with pytest.raises(error) as caught:
        local_slack.click("U0ALICE", channel="C0OPS", message_ts=form, action_id=action_id, value=value)
    assert isinstance(caught.value, LocalSlackError)
    assert event_receiver.interactions() == []
    assert local_slack.input_state("U0ALICE", "C0OPS", form) == INITIAL


def test_input_state_of_unknown_things(local_slack: LocalSlack, form: str) -> None:
    with pytest.raises(UnknownObject):
        local_slack.input_state("U0ALICE", "C0OPS", "1.000001")
    with pytest.raises(UnknownObject):
        local_slack.input_state("U0NOPE", "C0OPS", form)


# -- Block Kit validation -----------------------------------------------------------------------------


def checkboxes(**fields: Any) -> dict[str, Any]:
    return {"type": "checkboxes", "action_id": "c", "options": [option("a"), option("b")], **fields}


@pytest.mark.parametrize(("element", "problem"), [
    (checkboxes(options=[option(f"o{i}") for i in range(11)]),
     "no more than 10 items allowed [json-pointer:/blocks/0/elements/0/options]"),
    ({"type": "radio_buttons", "action_id": "r", "options": [option(f"o{i}") for i in range(11)]},
     "no more than 10 items allowed [json-pointer:/blocks/0/elements/0/options]"),
    ({"type": "checkboxes", "action_id": "c"},
     "must provide at least 1 item [json-pointer:/blocks/0/elements/0/options]"),
    (checkboxes(initial_options=[option("a"), option("z")]),
     "must match one of the options [json-pointer:/blocks/0/elements/0/initial_options/1]"),
    (checkboxes(initial_options=[{"text": plain("Other text"), "value": "a"}]),
     "must match one of the options [json-pointer:/blocks/0/elements/0/initial_options/0]"),
    (checkboxes(initial_options=option("a")), "must be an array [json-pointer:/blocks/0/elements/0/initial_options]"),
    ({"type": "static_select", "action_id": "s", "options": [option("a")], "initial_option": option("b")},
     "must match one of the options [json-pointer:/blocks/0/elements/0/initial_option]"),
    ({"type": "static_select", "action_id": "s"},
     "must provide at least 1 item [json-pointer:/blocks/0/elements/0/options]"),
    ({"type": "datepicker", "action_id": "d", "initial_date": "2026-11-31"},
     "must be a valid date in the format YYYY-MM-DD [json-pointer:/blocks/0/elements/0/initial_date]"),
    ({"type": "datepicker", "action_id": "d", "initial_date": "27.11.2026"},
     "must be a valid date in the format YYYY-MM-DD [json-pointer:/blocks/0/elements/0/initial_date]"),
    ({"type": "timepicker", "action_id": "t", "initial_time": "7pm"},
     "must be a valid time in the format HH:mm [json-pointer:/blocks/0/elements/0/initial_time]"),
    ({"type": "users_select", "action_id": "u", "initial_user": ["U0BOB"]},
     "must be a string [json-pointer:/blocks/0/elements/0/initial_user]"),
    ({"type": "users_select", "action_id": "u", "placeholder": plain("p" * 151)},
     "must be less than 151 characters [json-pointer:/blocks/0/elements/0/placeholder/text]"),
])
def test_invalid_input_elements(slack_client: WebClient, local_slack: LocalSlack, element: dict[str, Any],
                                problem: str) -> None:
    blocks = [{"type": "actions", "block_id": "b", "elements": [element]}]
    with pytest.raises(SlackApiError) as caught:
        slack_client.chat_postMessage(channel="C0OPS", text="x", blocks=blocks)
    assert caught.value.response["error"] == "invalid_blocks"
    assert problem in caught.value.response["errors"]
    assert local_slack.messages("C0OPS") == []


def test_valid_input_elements_are_accepted(slack_client: WebClient) -> None:
    grouped = {"type": "static_select", "action_id": "g", "initial_option": option("b"),
               "option_groups": [{"label": plain("G"), "options": [option("a"), option("b")]}]}
    blocks = [*form_blocks(), {"type": "actions", "block_id": "more", "elements": [
        grouped, checkboxes(options=[option(f"o{i}") for i in range(10)], initial_options=[]),
        {"type": "timepicker", "action_id": "t", "initial_time": "23:59"}]}]
    assert slack_client.chat_postMessage(channel="C0OPS", text="x", blocks=blocks)["ok"]


def test_input_block_elements_of_modals_are_validated(local_slack: LocalSlack, slack_client: WebClient,
                                                      event_receiver: EventReceiver) -> None:
    ts = str(slack_client.chat_postMessage(channel="C0OPS", text="x", blocks=form_blocks())["ts"])
    trigger_id = click(local_slack, "U0ALICE", ts, "save", receiver=event_receiver)["trigger_id"]
    view = {"type": "modal", "title": plain("Steps"), "blocks": [
        {"type": "input", "block_id": "steps", "label": plain("Steps"),
         "element": checkboxes(options=[option(f"o{i}") for i in range(11)])}]}
    with pytest.raises(SlackApiError) as caught:
        slack_client.views_open(trigger_id=trigger_id, view=view)
    assert caught.value.response["error"] == "invalid_arguments"
    assert caught.value.response["errors"] == [
        "no more than 10 items allowed [json-pointer:/view/blocks/0/element/options]"]


# -- files ---------------------------------------------------------------------------------------------


def test_upload_in_a_thread(local_slack: LocalSlack, slack_client: WebClient,
                            event_receiver: EventReceiver) -> None:
    root = local_slack.post_as_user("U0BOB", "C0OPS", "what happened?").ts
    reply = slack_client.chat_postMessage(channel="C0OPS", text="Send the log", thread_ts=root)["ts"]
    local_slack.wait_for_deliveries()  # the echo of the bot's reply
    event_receiver.reset()
    file_id = local_slack.upload_file("U0ALICE", "C0OPS", name="api.log", content=b"boom\n",
                                      initial_comment="here", thread_ts=reply)
    [envelope] = event_receiver.events()
    event = envelope["event"]
    assert (event["subtype"], event["thread_ts"], event["parent_user_id"], event["text"]) == (
        "file_share", root, "U0BOB", "here")
    assert event["files"][0]["id"] == file_id
    parent = local_slack.messages("C0OPS")[0]
    assert parent["reply_count"] == 2 and parent["reply_users"] == ["U0BATON", "U0ALICE"]
    thread = slack_client.conversations_replies(channel="C0OPS", ts=root)["messages"]
    assert [m.get("files", [{}])[0].get("id") for m in thread][-1] == file_id
    history = slack_client.conversations_history(channel="C0OPS")["messages"]
    assert [m["ts"] for m in history] == [root]
    [share] = slack_client.files_info(file=file_id)["file"]["shares"]["public"]["C0OPS"]
    assert share["thread_ts"] == root and share["ts"] == event["ts"]


def test_upload_outside_a_thread_has_no_thread_fields(local_slack: LocalSlack,
                                                      event_receiver: EventReceiver) -> None:
    local_slack.upload_file("U0ALICE", "C0OPS", name="a.txt", content=b"a")
    event = event_receiver.events()[0]["event"]
    assert "thread_ts" not in event and "parent_user_id" not in event and event["subtype"] == "file_share"


def test_file_share_mentioning_the_bot_sends_app_mention_with_files(local_slack: LocalSlack,
                                                                   event_receiver: EventReceiver) -> None:
    file_id = local_slack.upload_file("U0ALICE", "C0OPS", name="notes.txt", content=b"standup notes\n",
                                      initial_comment="<@U0BATON> summarise this")
    message, mention = event_receiver.events()
    assert message["event"]["type"] == "message" and message["event"]["subtype"] == "file_share"
    assert mention["event"]["type"] == "app_mention"
    assert [f["id"] for f in mention["event"]["files"]] == [file_id]
    assert mention["event"]["files"] == message["event"]["files"]
    assert mention["event"]["text"] == "<@U0BATON> summarise this"


def test_file_share_in_a_thread_mentioning_the_bot(local_slack: LocalSlack,
                                                   event_receiver: EventReceiver) -> None:
    root = local_slack.post_as_user("U0BOB", "C0OPS", "incident").ts
    event_receiver.reset()
    local_slack.upload_file("U0ALICE", "C0OPS", name="t.txt", content=b"x", thread_ts=root,
                            initial_comment="<@U0BATON> read this")
    message, mention = event_receiver.events()
    assert message["event"]["thread_ts"] == mention["event"]["thread_ts"] == root
    assert mention["event"]["files"][0]["name"] == "t.txt"


def test_files_info_has_what_a_bot_uses_and_the_download_needs_the_token(
        local_slack: LocalSlack, slack_client: WebClient, event_receiver: EventReceiver) -> None:
    content = b"%PDF-1.7 not really\n"
    file_id = local_slack.upload_file("U0ALICE", "C0OPS", name="plan.pdf", content=content, filetype="pdf")
    file = slack_client.files_info(file=file_id)["file"]
    assert (file["name"], file["size"], file["mimetype"], file["filetype"], file["mode"]) == (
        "plan.pdf", len(content), "application/pdf", "pdf", "hosted")
    assert file["url_private_download"].endswith("/download/plan.pdf")
    with_token = urllib.request.Request(file["url_private_download"],
                                        headers={"Authorization": f"Bearer {local_slack.bot_token}"})
    with NO_PROXY.open(with_token, timeout=5) as response:
        assert response.read() == content and response.headers["Content-Type"] == "application/pdf"
    with NO_PROXY.open(file["url_private_download"], timeout=5) as response:
        assert b"Sign in" in response.read()


def test_a_30_mb_upload_is_reported_without_being_read(local_slack: LocalSlack, slack_client: WebClient,
                                                       event_receiver: EventReceiver) -> None:
    line = b"2026-01-01T00:00:00Z api: request served in 12ms\n"
    content = line * (30 * 1024 * 1024 // len(line) + 1)
    started = time.monotonic()
    file_id = local_slack.upload_file("U0ALICE", "C0OPS", name="big.log", content=content)
    event = event_receiver.events()[0]["event"]
    file = slack_client.files_info(file=file_id)["file"]
    assert time.monotonic() - started < 5
    assert file["size"] == event["files"][0]["size"] == len(content) > 30 * 1024 * 1024
    assert file["lines"] == content.count(b"\n") and file["lines_more"] == file["lines"] - 5
    assert file["preview"] == b"".join([line] * 5).decode().rstrip("\n") and file["preview_is_truncated"]
    assert len(event_receiver.requests[0].body) < 10_000  # the event carries the file object, not the bytes
    request = urllib.request.Request(file["url_private_download"],
                                     headers={"Authorization": f"Bearer {local_slack.bot_token}"})
    with NO_PROXY.open(request, timeout=30) as response:
        assert int(response.headers["Content-Length"]) == len(content)
        assert len(response.read()) == len(content)
