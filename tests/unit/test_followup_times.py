"""When reminders and check-ins go out: working days, local 09:00 across DST, late approvals."""

from __future__ import annotations

from datetime import UTC, date, datetime

from core.meetings.followup_times import checkin_at, local_date, reminder_at, snoozed_due


def test_a_reminder_is_at_nine_local_on_the_working_day_before():
    now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    # Due Monday: reminded Friday 09:00 in New York (14:00 UTC in winter).
    assert reminder_at(date(2026, 11, 30), "America/New_York", now=now) == datetime(2026, 11, 27, 14, tzinfo=UTC)


def test_nine_local_stays_nine_local_across_daylight_saving_changes():
    before = datetime(2026, 3, 1, tzinfo=UTC)
    # Berlin springs forward on 2026-03-29: 09:00 is 08:00 UTC before and 07:00 UTC after.
    assert checkin_at(date(2026, 3, 27), "Europe/Berlin", now=before) == datetime(2026, 3, 27, 8, tzinfo=UTC)
    assert checkin_at(date(2026, 3, 30), "Europe/Berlin", now=before) == datetime(2026, 3, 30, 7, tzinfo=UTC)
    # New York falls back on 2026-11-01.
    autumn = datetime(2026, 10, 1, tzinfo=UTC)
    assert checkin_at(date(2026, 10, 30), "America/New_York", now=autumn) == datetime(2026, 10, 30, 13, tzinfo=UTC)
    assert checkin_at(date(2026, 11, 2), "America/New_York", now=autumn) == datetime(2026, 11, 2, 14, tzinfo=UTC)


def test_a_late_approval_reminds_at_once_until_the_due_date_then_not_at_all():
    due = date(2026, 11, 24)
    evening_before = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
    assert reminder_at(due, "UTC", now=evening_before) == evening_before
    assert reminder_at(due, "UTC", now=datetime(2026, 11, 24, 1, 0, tzinfo=UTC)) is None
    # A check-in whose time has passed goes now.
    late = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
    assert checkin_at(due, "UTC", now=late) == late


def test_unknown_zones_are_utc_and_local_dates_follow_the_zone():
    assert checkin_at(date(2026, 11, 24), "Mars/Olympus", now=datetime(2026, 1, 1, tzinfo=UTC)) == datetime(
        2026, 11, 24, 9, tzinfo=UTC
    )
    assert local_date(datetime(2026, 11, 23, 23, 30, tzinfo=UTC), "Europe/Berlin") == date(2026, 11, 24)


def test_a_snooze_moves_to_the_next_working_day():
    assert snoozed_due(date(2026, 11, 27)) == date(2026, 11, 30)  # Friday -> Monday
    assert snoozed_due(date(2026, 11, 24)) == date(2026, 11, 25)
