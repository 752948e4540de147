"""A meeting request run twice (the reconciler re-enqueues a request still 'planning' after five minutes;
a worker dies after posting the card) still summarises once and shows one notes card."""

from __future__ import annotations

from datetime import timedelta

from tests.scenario.meeting_helpers import MONDAY, meeting_row, set_clock, upload
from workers.api import enqueue_job


def _cards(bot):
    return [c for c in bot.slack.calls_to("chat.postMessage") if "Meeting notes" in str(c.params.get("blocks"))]


def _rerun(bot, db, suffix):
    db.execute("UPDATE requests SET status = 'received'")
    enqueue_job(bot.redis, "plan_request", db.execute("SELECT id FROM requests").fetchone()["id"], suffix=suffix)
    bot.run_jobs(wait_for=1)


def test_a_run_that_died_after_posting_the_card_does_not_post_it_again(bot, db):
    set_clock(bot, MONDAY)
    upload(bot)
    assert len(_cards(bot)) == 1
    # As if the worker was killed between chat.postMessage and recording the card.
    db.execute("UPDATE meetings SET card_channel = NULL, card_ts = NULL")
    db.execute("UPDATE plans SET card_channel = NULL, card_ts = NULL")
    db.execute("DELETE FROM meeting_messages")
    _rerun(bot, db, "-again")
    assert len(_cards(bot)) == 1
    shown = [m for m in bot.slack.messages("C0GENERAL") if "Meeting notes" in str(m.get("blocks"))]
    assert len(shown) == 1 and meeting_row(db)["card_ts"] == shown[0]["ts"]  # the card found again is recorded


def test_a_second_run_waits_while_the_first_is_summarising_and_takes_over_when_it_went_quiet(bot, db):
    set_clock(bot, MONDAY)
    upload(bot)
    # The first run is (as far as anyone can tell) still summarising.
    db.execute("UPDATE meetings SET status = 'summarizing', card_channel = NULL, card_ts = NULL, updated_at = %s",
               (MONDAY,))
    db.execute("UPDATE plans SET card_channel = NULL, card_ts = NULL")
    _rerun(bot, db, "-busy")
    assert meeting_row(db)["status"] == "summarizing" and len(_cards(bot)) == 1
    # Twenty minutes of silence: the next rerun takes over, and finds the card already in Slack.
    set_clock(bot, MONDAY + timedelta(minutes=20))
    _rerun(bot, db, "-takeover")
    meeting = meeting_row(db)
    assert meeting["status"] == "summarized" and meeting["card_ts"] is not None
    assert len(_cards(bot)) == 1
    assert db.execute("SELECT count(*) AS n FROM meeting_items").fetchone()["n"] == 2
