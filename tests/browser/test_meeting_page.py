"""A meeting transcript through the browser workspace: dropped on the channel, the notes card's owner and
due date changed on the page, follow-ups created; and a digest asked for with ``/baton digest now``."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.test_workspace_page import open_as, press, say
from tests.scenario.meeting_helpers import MONDAY, SAMPLE_VTT, set_clock, tasks

pytestmark = pytest.mark.browser


def drop_file(page: Any, name: str, content: bytes) -> None:
    """Drag a file from the desktop onto the channel (a drop event carrying it, as the browser sends)."""
    transfer = page.evaluate_handle(
        "([name, text]) => { const t = new DataTransfer(); t.items.add(new File([text], name)); return t; }",
        [name, content.decode()],
    )
    with page.expect_response("**/ui/upload"):
        page.dispatch_event("#main", "drop", {"dataTransfer": transfer})


def test_drop_a_transcript_edit_the_notes_card_and_create_follow_ups(bot, db, page, screens):
    set_clock(bot, MONDAY)
    open_as(page, bot, "U0ALICE")
    drop_file(page, "launch.vtt", SAMPLE_VTT)
    page.locator(".msg .file", has_text="launch.vtt").wait_for()
    assert bot.run_jobs(wait_for=1) >= 1
    page.locator(".msg", has_text="launch.vtt").locator(".replies").click()
    notes = page.locator("#thread .msg", has_text="Create follow-ups")
    notes.wait_for()
    screens.shot("notes-card")

    # Bob's item goes to Alice, with another date: each change is a block_actions, as in Slack.
    item = notes.locator(".block[data-block-id='meeting_item:1']")
    with page.expect_response("**/ui/act"):
        item.locator("select").select_option("U0ALICE")
    with page.expect_response("**/ui/act"):
        item.locator("input[type=date]").fill("2026-12-01")
    picked = bot.slack.input_state("U0ALICE", "C0GENERAL", notes.get_attribute("data-ts"))["meeting_item:1"]
    assert picked["meeting_item_owner"] == {"type": "users_select", "selected_user": "U0ALICE"}
    assert picked["meeting_item_due"] == {"type": "datepicker", "selected_date": "2026-12-01"}
    screens.shot("owner-and-date-changed")
    press(page, notes.get_by_role("button", name="Create follow-ups"))
    assert bot.run_jobs(wait_for=1) >= 1
    page.locator("#thread .msg", has_text="Follow-ups created").wait_for()
    screens.shot("follow-ups-created")
    assert [(t["title"], t["owner_id"], str(t["due_date"])) for t in tasks(db)] == [
        ("Send the launch checklist to the whole team", "U0ALICE", "2026-11-27"),
        ("Update the pricing page", "U0ALICE", "2026-12-01"),
    ]


def test_digest_now_posts_a_digest_in_the_channel(bot, db, page, screens):
    open_as(page, bot, "U0ALICE")
    say(page, "/baton digest now")
    page.locator("#messages .msg.ephemeral", has_text="Sending a digest now").wait_for()  # the command's reply
    assert bot.run_jobs(wait_for=1) >= 1
    digest = page.locator("#messages .msg:not(.ephemeral)", has_text="digest")
    digest.wait_for()
    screens.shot("digest")
    assert digest.locator(".block-header").count() == 1
