"""The browser workspace's rendering (pure): mrkdwn, Block Kit and modal forms."""

from __future__ import annotations

from localslack.web.blocks import BlockRenderer
from localslack.web.forms import submitted_values
from localslack.web.mrkdwn import to_html

USERS = {"U0ALICE": "alice", "U0BATON": "baton"}
CHANNELS = {"C0OPS": "ops"}


def html(text: str) -> str:
    return str(to_html(text, users=USERS, channels=CHANNELS))


def test_mrkdwn_resolves_names_links_emoji_and_styles():
    assert html("<@U0ALICE> in <#C0OPS>") == '<span class="mention">@alice</span> in <span class="mention">#ops</span>'
    assert html("<https://example.com/a?b=1&amp;c=2|the docs>") == (
        '<a href="https://example.com/a?b=1&amp;c=2" target="_blank" rel="noopener">the docs</a>'
    )
    assert html("*bold* _it_ ~no~ :tada:") == "<b>bold</b> <i>it</i> <s>no</s> 🎉"
    assert html("5 * 3 and snake_case_name") == "5 * 3 and snake_case_name"
    assert html("`*not bold*`") == "<code>*not bold*</code>"


def test_mrkdwn_escapes_what_is_not_markup():
    assert html("a &lt;script&gt; &amp; <javascript:alert(1)|x>") == (
        "a &lt;script&gt; &amp; &lt;javascript:alert(1)|x&gt;"
    )
    assert html("<https://x.test/|<b>label</b>>") == "&lt;https://x.test/|&lt;b&gt;label&lt;/b&gt;&gt;"
    assert html("> quoted\nplain") == '<span class="quote">quoted</span>plain'


def test_blocks_show_buttons_with_styles_confirm_and_the_viewers_picks():
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "Plan <1>"}},
        {
            "type": "actions",
            "block_id": "b1",
            "elements": [
                {
                    "type": "button",
                    "action_id": "go",
                    "style": "danger",
                    "value": "7",
                    "text": {"type": "plain_text", "text": "Delete"},
                    "confirm": {
                        "title": {"type": "plain_text", "text": "Sure?"},
                        "text": {"type": "plain_text", "text": "x"},
                        "confirm": {"type": "plain_text", "text": "Yes"},
                        "deny": {"type": "plain_text", "text": "No"},
                    },
                },
                {"type": "datepicker", "action_id": "due", "initial_date": "2026-01-02"},
                {"type": "users_select", "action_id": "owner"},
            ],
        },
    ]
    values = {
        "b1": {
            "due": {"type": "datepicker", "selected_date": "2026-02-03"},
            "owner": {"type": "users_select", "selected_user": "U0ALICE"},
        }
    }
    out = str(BlockRenderer(USERS, CHANNELS, values=values, people={"U0ALICE": "alice"}).blocks(blocks))
    assert "<h3>Plan &lt;1&gt;</h3>" in out
    assert 'class="button danger"' in out and 'data-value="7"' in out and "&#34;Sure?&#34;" in out
    assert 'type="date"' in out and 'value="2026-02-03"' in out
    assert '<option value="U0ALICE" selected>@alice</option>' in out
    assert "@baton" not in out  # a users_select offers people, not the bot


def test_a_block_type_it_does_not_know_is_shown_not_dropped():
    out = str(BlockRenderer(USERS, CHANNELS).blocks([{"type": "video", "block_id": "v"}]))
    assert "(a video block)" in out


def test_modal_form_fields_become_state_values():
    options = [{"text": {"type": "plain_text", "text": f"Step {n}"}, "value": str(n)} for n in (0, 1)]
    view = {
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": "Review"}},
            {
                "type": "input",
                "block_id": "steps",
                "element": {"type": "checkboxes", "action_id": "steps", "options": options},
            },
            {"type": "input", "block_id": "reason", "element": {"type": "plain_text_input", "action_id": "reason"}},
            {"type": "input", "block_id": "due", "element": {"type": "datepicker", "action_id": "due"}},
        ]
    }
    values = submitted_values(view, {"steps/steps": ["1"], "reason/reason": "", "due/due": "2026-03-04"})
    assert values == {
        "steps": {"steps": {"type": "checkboxes", "selected_options": [options[1]]}},
        "reason": {"reason": {"type": "plain_text_input", "value": None}},
        "due": {"due": {"type": "datepicker", "selected_date": "2026-03-04"}},
    }


def test_a_permalink_into_the_workspace_opens_the_message_on_the_page():
    def local(channel: str, thread: str) -> str:
        return f"/ui/?c={channel}&thread={thread}"

    out = str(
        to_html(
            "<https://baton-local.slack.com/archives/C0OPS/p1796524079321257|the plan>",
            users=USERS,
            channels=CHANNELS,
            local_link=local,
        )
    )
    assert out == '<a href="/ui/?c=C0OPS&amp;thread=1796524079.321257">the plan</a>'
    reply = "https://baton-local.slack.com/archives/C0OPS/p1796524079321299?thread_ts=1796524079.321257&cid=C0OPS"
    assert "thread=1796524079.321257" in str(to_html(f"<{reply}>", users=USERS, channels=CHANNELS, local_link=local))
