"""The terminal demo's pure renderers: mrkdwn made readable, who may press which button, which button a
``/click`` means, and the slash command's immediate reply."""

from __future__ import annotations

import json

from baton.demo_render import Button, match_buttons, plain, render_notice, render_reply

USERS = {"U0ALICE": "alice", "U0BOB": "bob", "U0BATON": "baton"}
CHANNELS = {"C0GENERAL": "general", "C0OPS": "ops"}
DMS = {"D0ALICE": "U0ALICE", "D0BOB": "U0BOB"}


def text(value: str, *, ansi: bool = False) -> str:
    return plain(value, users=USERS, channels=CHANNELS, ansi=ansi)


def test_emoji_codes_become_emoji_including_slack_only_names():
    assert text(":red_circle: high risk") == "🔴 high risk"
    assert text(":white_check_mark: done") == "✅ done"
    assert text(":large_yellow_circle: :large_green_circle:") == "🟡 🟢"
    assert text("at 09:00:30 sharp") == "at 09:00:30 sharp"
    assert text(":not_an_emoji_name:") == ":not_an_emoji_name:"


def test_bold_italic_and_strike_are_plain_text_or_ansi():
    assert text("*Post a message* in _#ops_ ~old~") == "Post a message in #ops old"
    assert text("*Post*", ansi=True) == "\033[1mPost\033[0m"
    assert text("5 * 3 * 2 and snake_case_name") == "5 * 3 * 2 and snake_case_name"
    assert text("`*not bold*` but *bold*") == "`*not bold*` but bold"


def test_mentions_channels_and_groups_resolve_to_names():
    assert text("<@U0ALICE> asked in <#C0OPS> and <#C0GENERAL|general>") == "@alice asked in #ops and #general"
    assert text("<!subteam^S0ADMINS|@baton-admins> <!here>") == "@baton-admins @here"
    assert text("<@U0NOBODY>") == "@U0NOBODY"


def test_links_show_their_label_and_loopback_urls_are_never_printed():
    assert text("<https://example.com/x|the doc>") == "the doc (https://example.com/x)"
    assert text("<https://example.com/x>") == "https://example.com/x"
    assert text("see <http://127.0.0.1:41234/archives/C0OPS/p1|the card>") == "see the card"
    assert text("see <http://localhost:8000/x>") == "see (local link)"
    assert "127.0.0.1" not in text("<http://127.0.0.1:5/a|a> <http://[::1]:5/b|b>")
    assert text("a &lt;b&gt; &amp; c") == "a <b> & c"
    local = "https://baton-local.slack.com/"
    shown = plain(
        f"<{local}archives/C0OPS/p1|the card> <https://example.com/|x>",
        users=USERS,
        channels=CHANNELS,
        local_urls=(local,),
    )
    assert shown == "the card x (https://example.com/)"


def card(buttons: list[str], *, title: str = "*Post a message in #ops*") -> list[dict]:
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": title}},
        {
            "type": "actions",
            "block_id": "plan",
            "elements": [
                {"type": "button", "action_id": label.lower(), "text": {"type": "plain_text", "text": label}}
                for label in buttons
            ],
        },
    ]


def notice(method: str, channel: str, ts: str, blocks: list[dict], **extra) -> dict:
    return {"method": method, "channel": channel, "ts": ts, "message": {"ts": ts, "blocks": blocks}, **extra}


def render(event: dict, viewer: str = "U0ALICE"):
    return render_notice(event, users=USERS, channels=CHANNELS, dms=DMS, viewer=viewer)


def test_a_channel_card_is_pressable_by_anyone_with_its_title_as_context():
    lines, buttons = render(notice("chat.postMessage", "C0GENERAL", "1.1", card(["Approve", "Reject"])))
    assert lines[0] == "[#general] Baton:"
    assert "  Post a message in #ops" in lines
    assert lines[-1] == "  [Approve]  [Reject]   (press with /click <label>)"
    assert [(b.label, b.visible_to, b.context) for b in buttons] == [
        ("Approve", None, "Post a message in #ops"),
        ("Reject", None, "Post a message in #ops"),
    ]


def test_another_persons_dm_and_ephemeral_are_shown_as_theirs_and_not_offered():
    lines, buttons = render(notice("chat.postMessage", "D0BOB", "1.2", card(["Done"])))
    assert lines[0] == "[DM to @bob] Baton:"
    assert lines[-1] == "  [Done]   (only @bob can press these: /as bob)"
    assert buttons[0].visible_to == "U0BOB"

    lines, buttons = render(notice("chat.postEphemeral", "C0GENERAL", "1.3", card(["Undo"]), user="U0BOB"))
    assert lines[0] == "[#general] Baton — only visible to @bob:"
    assert buttons[0].visible_to == "U0BOB"

    lines, buttons = render(notice("chat.postEphemeral", "C0GENERAL", "1.3", card(["Undo"]), user="U0ALICE"))
    assert lines[0] == "[#general] Baton — only visible to you:"
    assert lines[-1].endswith("(press with /click <label>)")


def test_an_ephemeral_replaced_through_its_response_url_keeps_its_recipient():
    event = notice("response_url", "C0GENERAL", "1.4", card(["Delete"]))
    event["message"]["recipient"] = "U0BOB"
    _, buttons = render(event)
    assert buttons[0].visible_to == "U0BOB"


def button(label: str, *, ts: str = "1.1", visible_to: str | None = None, context: str = "") -> Button:
    return Button(
        label=label,
        action_id=label.lower().replace(" ", "_"),
        value=None,
        block_id=None,
        channel="C0GENERAL",
        message_ts=ts,
        visible_to=visible_to,
        context=context,
    )


def test_click_matching_never_guesses():
    memory = [
        button("Delete", ts="1.1", context="#12 deploys freeze on Fridays"),
        button("Delete", ts="1.1", context="#13 the release train leaves at 4pm"),
    ]
    plan = [button("Approve", ts="2.1"), button("Approve all", ts="2.1"), button("Reject", ts="2.1")]
    everything = memory + plan
    assert match_buttons(everything, "", viewer="U0ALICE") == everything  # no label: every candidate
    assert match_buttons(everything, "delete", viewer="U0ALICE") == memory  # two alike: both, to ask which
    assert match_buttons(everything, "delete release train", viewer="U0ALICE") == [memory[1]]
    assert match_buttons(everything, "approve", viewer="U0ALICE") == [plan[0]]  # exact beats prefix
    assert match_buttons(everything, "approve a", viewer="U0ALICE") == [plan[1]]
    assert match_buttons(everything, "rej", viewer="U0ALICE") == [plan[2]]
    assert match_buttons(everything, "nothing-here", viewer="U0ALICE") == []


def test_a_button_under_an_items_section_knows_the_item():
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "You have action items from the meeting"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": ":hourglass: *Update the pricing page*\n@bob"}},
        {"type": "actions", "elements": [{"type": "button", "action_id": "done", "text": {"text": "Done"}}]},
        {"type": "section", "text": {"type": "mrkdwn", "text": ":hourglass: *Send the checklist*"}},
        {"type": "actions", "elements": [{"type": "button", "action_id": "done", "text": {"text": "Done"}}]},
    ]
    _, buttons = render(notice("chat.postMessage", "D0BOB", "4.1", blocks), viewer="U0BOB")
    assert [b.about for b in buttons] == [
        "You have action items from the meeting — ⌛ Update the pricing page",
        "You have action items from the meeting — ⌛ Send the checklist",
    ]
    assert match_buttons(buttons, "done checklist", viewer="U0BOB") == [buttons[1]]


def test_click_matching_skips_buttons_the_person_cannot_see():
    bobs = button("Done", ts="3.1", visible_to="U0BOB")
    mine = button("Done", ts="3.2", visible_to="U0ALICE")
    assert match_buttons([bobs, mine], "done", viewer="U0ALICE") == [mine]
    assert match_buttons([bobs, mine], "done", viewer="U0BOB") == [bobs]
    assert match_buttons([bobs], "", viewer="U0ALICE") == []


def test_a_command_reply_is_rendered_as_only_visible_to_you():
    lines = render_reply(
        '{"text": "*Baton* turns requests into plans :tada:"}',
        status=200,
        command="/baton",
        channel="C0GENERAL",
        users=USERS,
        channels=CHANNELS,
    )
    assert lines == ["[#general] Baton — reply to /baton, only visible to you:", "  Baton turns requests into plans 🎉"]
    assert render_reply("", status=200, command="/baton", channel="C0GENERAL", users=USERS, channels=CHANNELS) == []
    assert render_reply("oops", status=500, command="/baton", channel="C0GENERAL", users=USERS, channels=CHANNELS) == [
        "(Baton answered /baton with HTTP 500: oops)"
    ]
    errors = '{"response_action": "errors", "errors": {"reason": "Say why."}}'
    assert render_reply(errors, status=200, command="the form", channel="", users=USERS, channels=CHANNELS) == [
        "(the form was not accepted: reason: Say why.)"
    ]


def test_a_plan_block_reads_as_its_tasks_with_their_status():
    plan = {"type": "plan", "title": "Running: Announce", "tasks": [
        {"type": "task_card", "task_id": "step-1", "title": "1. Post to #ops", "status": "complete"},
        {"type": "task_card", "task_id": "step-2", "title": "2. Tell Bob", "status": "in_progress"},
    ]}
    lines = render_reply(json.dumps({"blocks": [plan]}), status=200, command="/baton", channel="C0GENERAL",
                         users=USERS, channels=CHANNELS)
    assert lines[1:] == ["  Running: Announce", "    ✓ 1. Post to #ops", "    ◐ 2. Tell Bob"]
