"""A transcript through the real endpoint: upload -> notes card -> Create follow-ups -> tasks, DMs,
reminders and check-ins once each at the right (injected) times; Done and Snooze from anywhere."""

from __future__ import annotations

from datetime import timedelta

from slackui import meeting_views
from tests.scenario.loop_helpers import ephemerals_to, eventually
from tests.scenario.meeting_helpers import (
    MONDAY,
    bot_posts,
    card,
    card_json,
    click_item,
    create_followups,
    meeting_row,
    replayed_create,
    replies,
    set_clock,
    tasks,
    tick,
    upload,
)
from workers.meetings.refresh import refresh


def _summarised(bot, db):
    set_clock(bot, MONDAY)
    upload(bot)
    return meeting_row(db)


def test_an_upload_with_a_mention_gets_a_notes_card_in_its_thread(bot, db):
    meeting = _summarised(bot, db)
    assert meeting["status"] == "summarized" and meeting["mode"] == "extractive"
    upload_message = next(m for m in bot.slack.messages("C0GENERAL") if m.get("files"))
    posted = card(bot, meeting)
    assert posted.get("thread_ts") == upload_message["ts"]
    text = card_json(bot, meeting)
    assert "Degraded mode (no language model)" in text
    assert "We decided to ship the beta" in text
    # Each item is a row: a tick, an owner picker pre-filled from the speaker, a due date, the evidence.
    assert '"initial_user": "U0ALICE"' in text and '"initial_user": "U0BOB"' in text
    assert '"initial_date": "2026-11-27"' in text and '"initial_date": "2026-11-24"' in text
    assert "00:00:10" in text and "by Friday" in text
    assert meeting_views.CREATE_FOLLOWUPS in text
    # Nothing happens before the approval.
    assert tasks(db) == [] and db.execute("SELECT count(*) AS n FROM followups").fetchone()["n"] == 0
    plan = db.execute("SELECT * FROM plans").fetchone()
    assert plan["kind"] == "meeting" and plan["status"] == "pending" and plan["card_ts"] == meeting["card_ts"]
    # The decision is remembered, linked to the notes.
    memory = db.execute("SELECT * FROM memories WHERE kind = 'decision'").fetchone()
    assert "ship the beta" in memory["text"] and memory["source_ts"] == meeting["card_ts"]


def test_create_follow_ups_makes_tasks_dms_reminders_and_check_ins_once_each(bot, db):
    meeting = _summarised(bot, db)
    assert create_followups(bot, meeting).status == 200
    bot.run_jobs(wait_for=1)

    rows = tasks(db)
    assert [(t["title"], t["owner_id"], str(t["due_date"]), t["status"]) for t in rows] == [
        ("Send the launch checklist to the whole team", "U0ALICE", "2026-11-27", "open"),
        ("Update the pricing page", "U0BOB", "2026-11-24", "open"),
    ]
    plan = db.execute("SELECT * FROM plans").fetchone()
    assert plan["status"] == "succeeded" and plan["decided_by"] == "U0ALICE"
    assert len(bot_posts(bot, "D0ALICE", containing="launch checklist")) == 1
    assert len(bot_posts(bot, "D0BOB", containing="pricing page")) == 1
    assert "Follow-ups created" in eventually(lambda: "Follow-ups created" in card_json(bot, meeting) and
                                              card_json(bot, meeting))
    schedule = db.execute("SELECT kind, owner_id, due_on, run_at FROM followups ORDER BY run_at").fetchall()
    # Bob (New York) is reminded at 09:00 his time the working day before; check-ins are 09:00 in Berlin
    # (Alice uploaded) on each due date.
    assert [(r["kind"], r["owner_id"], str(r["due_on"]), r["run_at"].isoformat()) for r in schedule] == [
        ("reminder", "U0BOB", "2026-11-24", "2026-11-23T14:00:00+00:00"),
        ("checkin", "", "2026-11-24", "2026-11-24T08:00:00+00:00"),
        ("reminder", "U0ALICE", "2026-11-27", "2026-11-26T08:00:00+00:00"),
        ("checkin", "", "2026-11-27", "2026-11-27T08:00:00+00:00"),
    ]

    # A second click (a double click, a replay) changes nothing.
    assert replayed_create(bot, meeting, user="U0BOB").status == 200
    bot.run_jobs()
    assert eventually(lambda: any("already" in t for t in ephemerals_to(bot, "U0BOB")))
    assert len(tasks(db)) == 2 and len(bot_posts(bot, "D0BOB", containing="pricing page")) == 1

    # Nothing is due yet.
    tick(bot)
    assert bot_posts(bot, "D0BOB", containing="Reminder") == []

    # Monday 14:05 UTC: Bob's reminder, once, however many ticks.
    set_clock(bot, MONDAY + timedelta(hours=4, minutes=5))
    tick(bot)
    tick(bot)
    assert len(bot_posts(bot, "D0BOB", containing="Reminder")) == 1

    # Tuesday 08:05 UTC: the check-in in the meeting thread lists Bob's item as not done.
    set_clock(bot, MONDAY + timedelta(days=1, hours=-1, minutes=-55))
    tick(bot)
    tick(bot)
    checkins = replies(bot, meeting, containing="Check-in 2026-11-24")
    assert len(checkins) == 1 and "0 done, 1 not done" in checkins[0]["text"]

    # Bob marks it done on the check-in: every message showing it changes.
    click_item(bot, checkins[0], meeting["card_channel"], meeting_views.ITEM_DONE, 1, user="U0BOB")
    bot.run_jobs(wait_for=1)
    assert tasks(db)[1]["status"] == "done"
    checkin = replies(bot, meeting, containing="Check-in 2026-11-24")[0]
    assert ":white_check_mark:" in str(checkin["blocks"]) and meeting_views.ITEM_DONE not in str(checkin["blocks"])
    assert meeting_views.ITEM_DONE not in str(bot_posts(bot, "D0BOB", containing="pricing page")[0]["blocks"])
    assert "done" in card_json(bot, meeting)

    # Wednesday: nothing open is due, so the follow-up check-in stays silent.
    set_clock(bot, MONDAY + timedelta(days=2, hours=-1, minutes=-55))
    tick(bot)
    assert replies(bot, meeting, containing="Check-in 2026-11-25") == []

    # Thursday 08:05 UTC: Alice's reminder (09:05 in Berlin).
    set_clock(bot, MONDAY + timedelta(days=3, hours=-1, minutes=-55))
    tick(bot)
    assert len(bot_posts(bot, "D0ALICE", containing="Reminder")) == 1

    # Friday: the check-in; Alice snoozes her item to Monday.
    set_clock(bot, MONDAY + timedelta(days=4, hours=-1, minutes=-55))
    tick(bot)
    friday = replies(bot, meeting, containing="Check-in 2026-11-27")
    assert len(friday) == 1 and "1 done, 1 not done" in friday[0]["text"]
    click_item(bot, friday[0], meeting["card_channel"], meeting_views.ITEM_SNOOZE, 0, user="U0ALICE")
    bot.run_jobs(wait_for=1)
    assert str(tasks(db)[0]["due_date"]) == "2026-11-30"
    assert any("2026-11-30" in text for text in ephemerals_to(bot, "U0ALICE"))

    # Bob may not close Alice's item.
    dm = bot_posts(bot, "D0ALICE", containing="launch checklist")[0]
    click_item(bot, dm, "D0ALICE", meeting_views.ITEM_DONE, 0, user="U0BOB")
    assert eventually(lambda: any("Only the item's owner" in t for t in ephemerals_to(bot, "U0BOB")))
    assert tasks(db)[0]["status"] == "open"

    # Monday: the snoozed item's check-in; Alice closes it from her DM; the thread hears it once.
    set_clock(bot, MONDAY + timedelta(days=7, hours=-1, minutes=-55))
    tick(bot)
    assert len(replies(bot, meeting, containing="Check-in 2026-11-30")) == 1
    click_item(bot, dm, "D0ALICE", meeting_views.ITEM_DONE, 0, user="U0ALICE")
    bot.run_jobs(wait_for=1)
    assert tasks(db)[0]["status"] == "done"
    refresh(bot.context(), meeting["id"])  # a second refresh (another change, a retry) says it once
    assert len(replies(bot, meeting, containing="are done")) == 1
    tick(bot)
    set_clock(bot, MONDAY + timedelta(days=8))
    tick(bot)
    assert db.execute("SELECT count(*) AS n FROM followups WHERE status IN ('pending', 'claimed')"
                      ).fetchone()["n"] == 0


def test_edits_on_the_card_are_what_gets_created(bot, db):
    meeting = _summarised(bot, db)
    at = {"channel": meeting["card_channel"], "message_ts": meeting["card_ts"]}
    # Alice gives Bob's item to herself, moves its date, and unticks her own item.
    bot.slack.click("U0ALICE", **at, action_id=meeting_views.ITEM_OWNER, block_id="meeting_item:1", value="U0ALICE")
    bot.slack.click("U0ALICE", **at, action_id=meeting_views.ITEM_DUE, block_id="meeting_item:1", value="2026-12-01")
    bot.slack.click("U0ALICE", **at, action_id=meeting_views.ITEM_SELECTED, block_id="meeting_item:0", value=[])
    create_followups(bot, meeting)
    bot.run_jobs(wait_for=1)
    assert [(t["title"], t["owner_id"], str(t["due_date"])) for t in tasks(db)] == [
        ("Update the pricing page", "U0ALICE", "2026-12-01"),
    ]
    assert bot_posts(bot, "D0BOB") == []
    assert len(bot_posts(bot, "D0ALICE", containing="pricing page")) == 1


def test_unticking_everything_creates_nothing_and_says_why(bot, db):
    meeting = _summarised(bot, db)
    at = {"channel": meeting["card_channel"], "message_ts": meeting["card_ts"]}
    for idx in (0, 1):
        bot.slack.click("U0ALICE", **at, action_id=meeting_views.ITEM_SELECTED, block_id=f"meeting_item:{idx}",
                        value=[])
    create_followups(bot, meeting)
    assert eventually(lambda: any("Tick at least one" in t for t in ephemerals_to(bot, "U0ALICE")))
    assert db.execute("SELECT status FROM plans").fetchone()["status"] == "pending"


def test_policy_applies_to_create_follow_ups(bot, db):
    meeting = _summarised(bot, db)
    db.execute(
        "INSERT INTO policies (team_id, channel_id, policy) VALUES ('T0LOCAL', '', %s)",
        ('{"approvers": {"medium": ["U0BOB"]}}',),
    )
    create_followups(bot, meeting, user="U0ALICE")
    assert eventually(lambda: any("designated approvers" in t for t in ephemerals_to(bot, "U0ALICE")))
    assert db.execute("SELECT status FROM plans").fetchone()["status"] == "pending"
    create_followups(bot, meeting, user="U0BOB")
    bot.run_jobs(wait_for=1)
    assert db.execute("SELECT status, decided_by FROM plans").fetchone() == {"status": "succeeded",
                                                                             "decided_by": "U0BOB"}


def test_an_unapproved_card_expires_and_creates_nothing(bot, db):
    meeting = _summarised(bot, db)
    set_clock(bot, MONDAY + timedelta(days=8))
    tick(bot)
    assert db.execute("SELECT status FROM plans").fetchone()["status"] == "expired"
    assert "Expired" in card_json(bot, meeting)
    replayed_create(bot, meeting, user="U0ALICE")
    bot.run_jobs()
    assert eventually(lambda: any("expired" in t for t in ephemerals_to(bot, "U0ALICE")))
    assert tasks(db) == []
