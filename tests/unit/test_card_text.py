"""Text a person or a model wrote, shown on cards: references read as names, pings and links never formed."""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slackui import home_view, plan_card
from slackui.model_text import inert_mrkdwn, readable_refs
from tests.unit.test_mcp_card import plan, step


@pytest.mark.parametrize(("text", "shown"), [
    ("post to <#C0OPS|ops>", "post to #ops"),
    ("post to <#C0OPS>", "post to #C0OPS"),
    ("task for <@U0BOB|bob> and <@U0ALICE>", "task for @bob and @U0ALICE"),
    ("a < b & c > d", "a < b & c > d"),
])
def test_references_read_as_words_where_slack_shows_text_as_it_is(text, shown):
    assert readable_refs(text) == shown


@pytest.mark.parametrize(("text", "shown"), [
    ("tell <#C0OPS|ops> and <@U0BOB>", "tell <#C0OPS> and <@U0BOB>"),
    ("<!channel> deploy now", "@channel deploy now"),
    ("ping <!subteam^S0ENG|@eng>", "ping @eng"),
    ("<https://evil.example|the release notes>", "&lt;https://evil.example|the release notes&gt;"),
    ("fish & chips <3", "fish &amp; chips &lt;3"),
])
def test_mrkdwn_keeps_references_and_forms_no_ping_or_link(text, shown):
    assert inert_mrkdwn(text) == shown


@given(st.text())
def test_no_text_can_form_a_ping_or_a_link_in_mrkdwn(text):
    shown = inert_mrkdwn(text)
    for opening in [i for i, char in enumerate(shown) if char == "<"]:
        assert shown[opening + 1] in "#@"  # only a reference Slack shows as a name
    assert "<!" not in shown


def test_the_card_shows_a_title_with_names_and_no_ping_from_a_step():
    card = plan(step(0, at_most_once=False, description="Tell <#C0OPS|ops> <!here>"))
    card = dataclasses.replace(card, title="Post to <#C0OPS|ops>", rationale="Asked <!channel> <http://x|y>")
    blocks = plan_card.plan_card(card)
    assert blocks[0]["text"]["text"] == "Post to #ops"
    text = json.dumps(blocks)
    assert "<!here>" not in text and "<!channel>" not in text and "<http://x|y>" not in text
    assert "<#C0OPS>" in text  # Slack shows the channel's name


def test_app_home_titles_read_as_words_inside_their_links():
    assert home_view._linked("Post to <#C0OPS|ops>", "https://example.slack.com/archives/C0/p1") == (
        "<https://example.slack.com/archives/C0/p1|Post to #ops>")


def test_a_title_gets_the_names_of_the_channels_and_people_it_mentions():
    from core.mentions import with_names

    names = {"C0OPS": "ops", "U0BOB": "Bob Example"}
    title = "Post to <#C0OPS> for <@U0BOB> and <@U0NEW> in <#C0DEV|dev>"
    assert with_names(title, names) == "Post to <#C0OPS|ops> for <@U0BOB|Bob Example> and <@U0NEW> in <#C0DEV|dev>"
    assert readable_refs(with_names(title, names)) == "Post to #ops for @Bob Example and @U0NEW in #dev"
