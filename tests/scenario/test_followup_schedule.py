"""Timed follow-ups are scheduled work that survives crashes and races: claimed once, sent once."""

from __future__ import annotations

import threading
from datetime import timedelta

from memory import followups
from memory.db import connect
from tests.scenario.meeting_helpers import MONDAY, bot_posts, create_followups, meeting_row, set_clock, tick, upload


def _approved(bot, db):
    set_clock(bot, MONDAY)
    upload(bot)
    meeting = meeting_row(db)
    create_followups(bot, meeting)
    bot.run_jobs(wait_for=1)
    return meeting


def test_two_dispatchers_racing_claim_each_follow_up_once(bot, db, backends):
    _approved(bot, db)
    far = MONDAY + timedelta(days=30)
    claimed: list[list[int]] = []
    barrier = threading.Barrier(2)

    def dispatcher() -> None:
        with connect(backends.database_url) as conn:
            barrier.wait()
            claimed.append(followups.claim_due(conn, now=far, lease_until=far + timedelta(minutes=2)))

    threads = [threading.Thread(target=dispatcher) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    first, second = claimed
    assert not set(first) & set(second)
    assert len(first) + len(second) == 4


def test_a_sender_that_died_after_posting_is_retried_without_posting_twice(bot, db):
    _approved(bot, db)
    set_clock(bot, MONDAY + timedelta(hours=4, minutes=5))
    tick(bot)
    assert len(bot_posts(bot, "D0BOB", containing="Reminder")) == 1
    # As if the worker was killed between chat.postMessage and marking the row sent.
    db.execute("UPDATE followups SET status = 'claimed', lease_until = %s WHERE kind = 'reminder' AND "
               "owner_id = 'U0BOB'", (MONDAY + timedelta(hours=4, minutes=6),))
    set_clock(bot, MONDAY + timedelta(hours=4, minutes=10))  # the lease has run out
    tick(bot)
    assert len(bot_posts(bot, "D0BOB", containing="Reminder")) == 1
    row = db.execute("SELECT status, attempts FROM followups WHERE kind = 'reminder' AND owner_id = 'U0BOB'"
                     ).fetchone()
    assert row == {"status": "sent", "attempts": 2}


def test_slack_rate_limiting_a_reminder_is_waited_out_and_it_goes_once(bot, db):
    _approved(bot, db)
    set_clock(bot, MONDAY + timedelta(hours=4, minutes=5))
    bot.slack.inject("chat.postMessage", status=429, retry_after=1)
    tick(bot)
    assert len(bot_posts(bot, "D0BOB", containing="Reminder")) == 1
    assert [c.status for c in bot.slack.calls_to("chat.postMessage")][-2:] == [429, 200]


def test_downtime_sends_what_is_still_useful_once(bot, db):
    _approved(bot, db)
    # Down for two hours past Bob's reminder time: it still goes, once.
    set_clock(bot, MONDAY + timedelta(hours=6))
    tick(bot)
    tick(bot)
    assert len(bot_posts(bot, "D0BOB", containing="Reminder")) == 1


def test_after_long_downtime_a_stale_reminder_is_skipped_but_the_check_in_goes(bot, db):
    _approved(bot, db)
    # Down from Monday morning to Tuesday noon: reminding Bob a day late is noise, the check-in is not.
    set_clock(bot, MONDAY + timedelta(days=1, hours=2))
    tick(bot)
    tick(bot)
    assert bot_posts(bot, "D0BOB", containing="Reminder") == []
    assert len(bot_posts(bot, "C0GENERAL", containing="Check-in 2026-11-24")) == 1
    skipped = db.execute("SELECT status, error FROM followups WHERE kind = 'reminder' AND owner_id = 'U0BOB'"
                         ).fetchone()
    assert skipped == {"status": "skipped", "error": "too late to remind"}
