"""The core loop through the browser workspace: what a person sees and does on the page, in Chromium.

Each test types, clicks and submits on the page the local workspace serves; the bot gets the same signed
payloads as from Slack, its jobs run in-process, and the page shows what it sent through the Web API.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.scenario.loop_helpers import plan_row

pytestmark = pytest.mark.browser


def open_as(page: Any, bot: Any, user: str, channel: str = "C0GENERAL") -> None:
    page.goto(f"{bot.slack.base_url}ui/?as={user}&c={channel}")
    page.wait_for_selector("body[data-ready='1']")


def switch_to(page: Any, user: str) -> None:
    """Pick another person in "You are"; the page reloads as them, the thread still open."""
    page.select_option("#who", user)
    page.wait_for_url(f"**as={user}**")
    page.wait_for_selector("body[data-ready='1']")


def press(page: Any, target: Any) -> None:
    """Click ``target`` and wait until the workspace has delivered the action to the bot and had its answer
    (the page's POST returns then), so the jobs it enqueued are there for ``bot.run_jobs``."""
    with page.expect_response(lambda r: "/ui/" in r.url and r.request.method == "POST"):
        target.click()


def say(page: Any, text: str) -> None:
    page.fill("#composer textarea", text)
    with page.expect_response("**/ui/post"):
        page.press("#composer textarea", "Enter")


def card(page: Any, plan_title: str) -> Any:
    return page.locator(".msg", has_text=plan_title).filter(has=page.locator("button")).last


def ask_for_plan(page: Any, bot: Any, screens: Any) -> None:
    open_as(page, bot, "U0ALICE")
    say(page, "@baton post Release 1.2 is out to #ops")
    page.locator(".msg", has_text="post Release 1.2").wait_for()
    assert bot.run_jobs(wait_for=1) >= 1
    # The card is posted in the ask's thread, as in Slack: open it.
    page.locator(".msg", has_text="post Release 1.2").locator(".replies").click()
    page.wait_for_url("**thread=**")
    card(page, "Release 1.2").get_by_role("button", name="Approve").wait_for()
    screens.shot("plan-card")


def test_ask_then_approve_as_another_person_posts_in_the_channel(bot, db, page, screens):
    ask_for_plan(page, bot, screens)
    message = page.locator(".msg", has_text="post Release 1.2").first
    assert "@baton" in message.inner_text()  # the mention went out as <@U0BATON> and comes back as a name
    assert page.locator(".msg .mention", has_text="#ops").count() >= 1

    switch_to(page, "U0BOB")
    press(page, card(page, "Release 1.2").get_by_role("button", name="Approve"))
    assert bot.run_jobs(wait_for=1) >= 1
    page.locator("#thread .msg", has_text="Approved by").wait_for()
    assert card(page, "Release 1.2").count() == 0  # the buttons are gone from the card
    screens.shot("approved")
    assert plan_row(db)["decided_by"] == "U0BOB"

    page.get_by_role("link", name="# ops").click()
    page.locator("#messages .msg", has_text="Release 1.2 is out").wait_for()
    screens.shot("effect-in-ops")
    assert [m["text"] for m in bot.slack.messages("C0OPS")] == ["Release 1.2 is out"]


def test_reject_with_a_reason_through_the_modal(bot, db, page, screens):
    ask_for_plan(page, bot, screens)
    switch_to(page, "U0BOB")
    press(page, card(page, "Release 1.2").get_by_role("button", name="Reject"))
    modal = page.locator("#modal-layer .modal")
    modal.wait_for()
    assert "Reject plan" in modal.inner_text()
    modal.locator("textarea").fill("wrong channel")
    screens.shot("reject-modal")
    press(page, modal.get_by_role("button", name="Reject"))
    page.locator("#modal-layer").wait_for(state="hidden")
    bot.run_jobs()
    page.locator("#thread .msg", has_text="Rejected by").wait_for()
    assert "wrong channel" in page.locator("#thread .msg", has_text="Rejected by").inner_text()
    screens.shot("rejected")
    row = plan_row(db)
    assert row["status"] == "rejected" and row["decision_reason"] == "wrong channel"
    assert bot.slack.messages("C0OPS") == []


def test_review_steps_refuses_an_empty_selection_then_approves_the_ticked_steps(bot, db, page, screens):
    ask_for_plan(page, bot, screens)
    switch_to(page, "U0BOB")
    press(page, card(page, "Release 1.2").get_by_role("button", name="Review steps"))
    modal = page.locator("#modal-layer .modal")
    modal.wait_for()
    boxes = modal.locator("input[type=checkbox]")
    for box in boxes.all():
        box.uncheck()
    press(page, modal.get_by_role("button", name="Approve selected"))
    error = modal.locator(".error", has_text="Select at least one step")
    error.wait_for()
    screens.shot("review-error")
    assert plan_row(db)["status"] == "pending"

    boxes.first.check()  # the form stays open with the error; tick the step again and approve it
    press(page, modal.get_by_role("button", name="Approve selected"))
    page.locator("#modal-layer").wait_for(state="hidden")
    assert bot.run_jobs(wait_for=1) >= 1
    page.locator("#thread .msg", has_text="Approved by").wait_for()
    screens.shot("review-approved")
    assert plan_row(db)["status"] == "succeeded"
    assert [m["text"] for m in bot.slack.messages("C0OPS")] == ["Release 1.2 is out"]


def test_app_home_shows_the_waiting_plan(bot, db, page, screens):
    ask_for_plan(page, bot, screens)
    with page.expect_response("**/ui/home"):  # the page sends app_home_opened as it opens
        page.get_by_role("link", name="baton home").click()
    assert bot.run_jobs(wait_for=1) >= 1  # opening the tab sent app_home_opened; the job publishes it
    pending = page.locator("#messages .home .block", has_text="Your pending requests")
    pending.wait_for()
    assert "Post a message in #ops" in pending.inner_text()  # the plan's title, a link to its card
    screens.shot("app-home")
    pending.get_by_role("link", name="Post a message in #ops").click()  # the permalink opens the card here
    card(page, "Release 1.2").get_by_role("button", name="Approve").wait_for()


def test_a_slash_command_reply_is_shown_only_to_who_ran_it(bot, db, page, screens):
    open_as(page, bot, "U0ALICE")
    say(page, "/baton help")
    reply = page.locator(".msg.ephemeral")
    reply.first.wait_for()
    assert "Only visible to you" in reply.first.inner_text()
    screens.shot("command-reply")
    open_as(page, bot, "U0BOB")
    assert page.locator(".msg.ephemeral").count() == 0


def test_ask_baton_from_a_messages_menu_makes_a_plan_of_it(bot, db, page, screens):
    bot.slack.browser.shortcuts = {"ask_baton": "Ask Baton"}  # as baton demo --web offers it
    open_as(page, bot, "U0ALICE")
    say(page, "post Release 1.2 is out to #ops")
    message = page.locator(".msg", has_text="post Release 1.2")
    message.wait_for()
    assert bot.run_jobs() == 0  # no mention: Baton was not asked
    message.locator(".more summary").click()
    screens.shot("shortcut-menu")
    press(page, message.get_by_role("button", name="Ask Baton"))
    assert bot.run_jobs(wait_for=1) >= 1
    page.locator(".msg.ephemeral").first.wait_for()  # Baton says it is on it, to Alice only
    message.locator(".replies").click()
    card(page, "Release 1.2").get_by_role("button", name="Approve").wait_for()
    screens.shot("plan-from-shortcut")
    assert plan_row(db)["status"] == "pending"
