"""The terminal demo's turns against the real bot and the local workspace: typos never end the session,
``/click`` never guesses, command replies are shown, a click is offered only to who can see the message."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from slack_sdk import WebClient

from baton.demo_session import DemoSession
from baton.demo_terminal import Terminal


class Screen:
    """The demo's terminal on a StringIO, and a session driving the real bot as one person."""

    def __init__(self, bot, tmp_path: Path) -> None:
        self.bot = bot
        self.out = io.StringIO()
        web = WebClient(token=bot.slack.bot_token, base_url=bot.slack.api_url)
        self.terminal = Terminal(self.out, web)
        self.terminal.learn_names()
        self.unsubscribe = bot.slack.on_post(self.terminal.on_notice)
        self.session = DemoSession(
            bot.slack, self.terminal, me="U0ALICE", where="C0GENERAL", settle=self.settle, base=tmp_path, echo=True
        )
        self.seen = 0

    def settle(self) -> None:
        for _ in range(20):
            self.bot.slack.wait_for_deliveries(timeout=10)
            if not self.bot.run_jobs(wait_for=1, timeout=0.3):
                self.bot.slack.wait_for_deliveries(timeout=10)
                return

    def turn(self, line: str) -> str:
        """Play one turn; returns what it printed."""
        assert self.session.handle(line) is True, f"{line!r} ended the session"
        text = self.out.getvalue()
        new, self.seen = text[self.seen :], len(text)
        return new


@pytest.fixture
def screen(bot, tmp_path: Path) -> Iterator[Screen]:
    shown = Screen(bot, tmp_path)
    yield shown
    shown.unsubscribe()


def test_typos_in_demo_commands_say_so_and_the_session_goes_on(screen: Screen):
    said = screen.turn("/as charlie")
    assert "no member named 'charlie'" in said and "alice" in said and "bob" in said
    assert "you are now @bob" in screen.turn("/as @bob")
    said = screen.turn("/in nowhere")
    assert "no channel named #nowhere" in said and "general" in said and "ops" in said
    assert "usage: /upload" in screen.turn("/upload")
    assert "no file 'missing.vtt'" in screen.turn("/upload missing.vtt")
    assert screen.session.handle("/quit") is False


def test_an_unknown_slash_command_is_not_posted_as_chat(screen: Screen):
    said = screen.turn("/frobnicate the widgets")
    assert "unknown command /frobnicate" in said
    assert screen.bot.slack.messages("C0GENERAL") == []


def test_the_slash_commands_immediate_replies_are_shown(screen: Screen):
    said = screen.turn("/baton help")
    assert "reply to /baton, only visible to you" in said
    assert "Baton turns requests into plans you approve." in said and "*Baton*" not in said
    said = screen.turn("/baton summarize")
    assert "Usage: `/baton summarize <transcript>`" in said


def test_click_without_a_label_lists_the_buttons_and_presses_none(screen: Screen):
    assert "no buttons you can press" in screen.turn("/click")
    screen.turn("@baton post Release 1.2 is out to #ops")
    said = screen.turn("/click")
    assert "1. [Approve]" in said and "2. [Reject]" in said and "/click <number>" in said
    assert [call.method for call in screen.bot.slack.calls if call.method == "views.open"] == []
    screen.turn("/as bob")
    assert "no numbered list" in screen.turn("/click 1")  # alice's list was hers, not bob's
    assert "1. [Approve]" in screen.turn("/click")
    said = screen.turn("/click 1")
    print(screen.out.getvalue())
    assert "Release 1.2 is out" in said and "✅" in said, said


def test_alike_buttons_ask_which_and_a_number_or_more_words_pick(screen: Screen):
    screen.turn("@baton remember that deploys freeze on Fridays")
    screen.turn("@baton remember that the release train leaves at 4pm")
    said = screen.turn("/baton memory")
    assert said.count("[Delete]") == 2, said
    said = screen.turn("/click delete")
    assert "2 buttons match 'delete'" in said and "1. [Delete]" in said and "2. [Delete]" in said
    assert "release train" in said and "deploys freeze" in said
    said = screen.turn("/click 7")
    assert "pick 1 to 2" in said
    said = screen.turn("/click delete release train")
    assert "release train" in said.lower()
    remaining = screen.turn("/baton memory")
    assert "deploys freeze" in remaining and "release train" not in remaining


def test_buttons_of_someone_elses_dm_are_shown_but_not_offered(screen: Screen):
    web = WebClient(token=screen.bot.slack.bot_token, base_url=screen.bot.slack.api_url)
    web.chat_postMessage(
        channel="D0BOB",
        text="Your follow-up",
        blocks=[
            {"type": "section", "text": {"type": "mrkdwn", "text": ":alarm_clock: *Update the pricing page*"}},
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "followup_done",
                        "value": "1",
                        "text": {"type": "plain_text", "text": "Done"},
                    }
                ],
            },
        ],
    )
    screen.bot.slack.wait_for_deliveries()
    said = screen.turn("# nothing")  # a comment turn is ignored; shows what arrived meanwhile
    assert "[DM to @bob] Baton:" in said and "⏰ Update the pricing page" in said
    assert "(only @bob can press these: /as bob)" in said
    said = screen.turn("/click done")
    assert "no button you can press labelled 'done'" in said
    assert screen.bot.slack.calls_to("chat.update") == []


def test_a_modal_is_filled_and_submitted_from_the_terminal(screen: Screen):
    assert "no form is open" in screen.turn("/modal reason=x")
    screen.turn("@baton post Release 1.2 is out to #ops")
    said = screen.turn("/click review steps")
    assert "┌ modal: Review steps" in said and "/modal <field>=<value>" in said
    said = screen.turn("/modal")
    assert "steps: Steps to run (checkboxes, required)" in said and "1. [x] 1. Post" in said
    assert "the form has no field 'nope'" in screen.turn("/modal nope=1")
    assert "the field 'steps' is required" in screen.turn("/modal steps=none")
    screen.turn("/click reject")
    said = screen.turn("/modal")
    assert "reason: Reason (optional) (plain_text_input, optional)" in said
    said = screen.turn("/modal reason=not this week, the release slipped")
    assert "Rejected" in said and "not this week, the release slipped" in said, said
    assert screen.bot.slack.messages("C0OPS") == []
    assert "no form is open" in screen.turn("/modal")


def test_a_forms_errors_come_back_to_the_terminal(screen: Screen):
    screen.turn("@baton post Release 1.2 is out to #ops")
    screen.turn("/click review steps")
    view = screen.terminal.modal
    view["blocks"][1]["optional"] = True  # as if Slack's client let an empty selection through
    said = screen.turn("/modal steps=none")
    assert "(the form was not accepted: steps: Select at least one step, or reject the plan.)" in said
    assert screen.terminal.modal is view  # still open, to correct


def test_owners_due_dates_and_ticks_on_a_card_are_picked_from_the_terminal(screen: Screen):
    transcript = Path(__file__).resolve().parents[2] / "examples" / "launch-meeting.vtt"
    assert "no fields you can fill" in screen.turn("/pick")
    screen.turn(f"/upload {transcript} @baton notes please")
    said = screen.turn("/pick")
    assert "1. [x] Follow up — Send the launch checklist to the whole team" in said, said
    assert "8. owner: (nobody yet) — Decide that" in said and "9. due: 2026-" in said
    assert "no member named 'zed'" in screen.turn("/pick 8 zed")
    assert "pick 1 to 9" in screen.turn("/pick 12 bob")
    assert "owner of “Decide that” is now @bob" in screen.turn("/pick 8 bob")
    assert "due of “Decide that” is now 2031-01-31" in screen.turn("/pick 9 2031-01-31")
    assert "“Send the launch checklist to the whole team” is now unticked" in screen.turn("/pick 1 off")
    said = screen.turn("/click create follow-ups")
    assert "Decide that" in said and "@bob · due 2031-01-31" in said, said
    assert "Send the launch checklist" not in said.split("Follow-ups created")[-1]


def test_app_home_is_shown_for_the_person_at_the_keyboard(screen: Screen):
    screen.turn("@baton post Release 1.2 is out to #ops")
    said = screen.turn("/home")
    assert "[App Home of @alice]" in said, said
    assert "Your pending requests\n  • Post a message in" in said  # alice's request, waiting for approval
    assert "slack.com" not in said  # the local workspace's links lead nowhere: labels only
    assert [c.params.get("user_id") for c in screen.bot.slack.calls_to("views.publish")] == ["U0ALICE"]


def test_the_same_button_shown_twice_is_pressed_without_asking(screen: Screen):
    web = WebClient(token=screen.bot.slack.bot_token, base_url=screen.bot.slack.api_url)
    done = {"type": "button", "action_id": "followup_done", "value": "1",
            "text": {"type": "plain_text", "text": "Done"}}
    for text in ("Your action items", "Reminder: due tomorrow"):  # the DM, then its reminder: one item, one Done
        web.chat_postMessage(channel="D0ALICE", text=text, blocks=[
            {"type": "section", "text": {"type": "mrkdwn", "text": text}},
            {"type": "actions", "elements": [done]},
        ])
    screen.bot.slack.wait_for_deliveries()
    screen.turn("# nothing")
    said = screen.turn("/click done")
    assert "buttons match" not in said, said
    assert "That button is no longer valid" in said  # pressed: Baton answered the click (no such follow-up here)
