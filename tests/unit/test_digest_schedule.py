"""When digests are due: daily and weekday schedules, catch-up grace, DST, zones whose date differs from UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from core.digest.facts import DigestSetting, Occurrence, Schedule
from core.digest.schedule import (
    Decision,
    due_occurrence,
    effective_zone,
    next_occurrence,
    occurrence_on,
    parse_local_time,
)

GRACE = timedelta(hours=3)


def setting(
    schedule: Schedule = "daily", at: time = time(9), tz: str = "Europe/Berlin", *, enabled: bool = True
) -> DigestSetting:
    return DigestSetting(
        team_id="T1", target="C1", kind="channel", schedule=schedule, local_time=at, tz=tz, enabled=enabled
    )


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def due_at(digest: DigestSetting, day: date) -> datetime:
    found = occurrence_on(digest, day)
    assert found is not None and found.local_date == day
    return found.due_at


# --- occurrence_on ---------------------------------------------------------------------------------------


def test_a_daily_digest_occurs_every_day_at_the_local_time_in_utc():
    assert occurrence_on(setting(), date(2026, 11, 21)) == Occurrence(date(2026, 11, 21), utc(2026, 11, 21, 8))
    assert occurrence_on(setting(), date(2026, 11, 22)) == Occurrence(date(2026, 11, 22), utc(2026, 11, 22, 8))


def test_a_weekday_digest_skips_saturday_and_sunday():
    weekdays = setting("weekdays")
    assert occurrence_on(weekdays, date(2026, 11, 20)) == Occurrence(date(2026, 11, 20), utc(2026, 11, 20, 8))  # Fri
    assert occurrence_on(weekdays, date(2026, 11, 21)) is None  # Saturday
    assert occurrence_on(weekdays, date(2026, 11, 22)) is None  # Sunday
    assert occurrence_on(weekdays, date(2026, 11, 23)) is not None  # Monday


def test_a_disabled_setting_has_no_occurrences():
    assert occurrence_on(setting(enabled=False), date(2026, 11, 23)) is None


def test_due_at_is_in_utc():
    found = occurrence_on(setting(tz="America/New_York"), date(2026, 11, 23))
    assert found is not None
    assert found.due_at.utcoffset() == timedelta(0)
    assert found.due_at == utc(2026, 11, 23, 14)


def test_nine_local_is_nine_local_on_both_sides_of_each_daylight_saving_change():
    berlin = setting(tz="Europe/Berlin")  # springs forward on Sunday 2026-03-29
    assert due_at(berlin, date(2026, 3, 28)) == utc(2026, 3, 28, 8)
    assert due_at(berlin, date(2026, 3, 29)) == utc(2026, 3, 29, 7)
    assert due_at(berlin, date(2026, 10, 24)) == utc(2026, 10, 24, 7)
    assert due_at(berlin, date(2026, 10, 25)) == utc(2026, 10, 25, 8)
    new_york = setting(tz="America/New_York")  # falls back on Sunday 2026-11-01
    assert due_at(new_york, date(2026, 10, 31)) == utc(2026, 10, 31, 13)
    assert due_at(new_york, date(2026, 11, 1)) == utc(2026, 11, 1, 14)
    assert due_at(new_york, date(2026, 3, 7)) == utc(2026, 3, 7, 14)
    assert due_at(new_york, date(2026, 3, 8)) == utc(2026, 3, 8, 13)


def test_a_time_in_the_spring_forward_gap_moves_forward_by_the_gap():
    # 02:30 does not exist in Berlin on 2026-03-29 (02:00 CET -> 03:00 CEST): sent at 03:30 CEST.
    found = occurrence_on(setting(at=time(2, 30), tz="Europe/Berlin"), date(2026, 3, 29))
    assert found == Occurrence(date(2026, 3, 29), utc(2026, 3, 29, 1, 30))
    assert found is not None and found.due_at.astimezone(effective_zone("Europe/Berlin")).time() == time(3, 30)
    # New York skips 02:00-03:00 on 2026-03-08: 02:30 is sent at 03:30 EDT.
    found = occurrence_on(setting(at=time(2, 30), tz="America/New_York"), date(2026, 3, 8))
    assert found == Occurrence(date(2026, 3, 8), utc(2026, 3, 8, 7, 30))
    # The day before and after, 02:30 is simply 02:30.
    assert due_at(setting(at=time(2, 30)), date(2026, 3, 30)) == utc(2026, 3, 30, 0, 30)


def test_an_ambiguous_fall_back_time_is_its_first_occurrence():
    # 01:30 happens twice in New York on 2026-11-01: first in EDT (05:30 UTC), then in EST (06:30 UTC).
    found = occurrence_on(setting(at=time(1, 30), tz="America/New_York"), date(2026, 11, 1))
    assert found == Occurrence(date(2026, 11, 1), utc(2026, 11, 1, 5, 30))
    # Berlin's 02:30 on 2026-10-25 is first in CEST (00:30 UTC).
    found = occurrence_on(setting(at=time(2, 30), tz="Europe/Berlin"), date(2026, 10, 25))
    assert found == Occurrence(date(2026, 10, 25), utc(2026, 10, 25, 0, 30))


def test_a_second_fold_on_the_configured_time_changes_nothing():
    found = occurrence_on(setting(at=time(1, 30, fold=1), tz="America/New_York"), date(2026, 11, 1))
    assert found is not None and found.due_at == utc(2026, 11, 1, 5, 30)


def test_an_unknown_or_malformed_zone_is_utc():
    for tz in ("Mars/Olympus", "", "../etc/passwd"):
        assert due_at(setting(tz=tz), date(2026, 11, 23)) == utc(2026, 11, 23, 9)


# --- due_occurrence --------------------------------------------------------------------------------------


def test_exactly_on_time_sends_with_no_lateness():
    decision = due_occurrence(setting(), utc(2026, 11, 23, 8), grace=GRACE)
    assert decision == Decision(Occurrence(date(2026, 11, 23), utc(2026, 11, 23, 8)), "send", timedelta(0))


def test_before_todays_time_the_latest_occurrence_is_yesterdays():
    decision = due_occurrence(setting(), utc(2026, 11, 23, 7, 59), grace=GRACE)
    assert decision.occurrence == Occurrence(date(2026, 11, 22), utc(2026, 11, 22, 8))
    assert decision.action == "skip"
    assert decision.late_by == timedelta(hours=23, minutes=59)


def test_grace_is_inclusive_exactly_at_the_grace_sends_and_just_after_skips():
    due = utc(2026, 11, 23, 8)
    at_grace = due_occurrence(setting(), due + GRACE, grace=GRACE)
    assert (at_grace.action, at_grace.late_by) == ("send", GRACE)
    just_after = due_occurrence(setting(), due + GRACE + timedelta(microseconds=1), grace=GRACE)
    assert just_after.action == "skip"
    assert just_after.occurrence == at_grace.occurrence
    assert due_occurrence(setting(), due, grace=timedelta(0)).action == "send"
    assert due_occurrence(setting(), due + timedelta(seconds=1), grace=timedelta(0)).action == "skip"


def test_a_scheduler_down_two_hours_past_nine_still_sends_and_four_hours_skips():
    nine = utc(2026, 11, 23, 8)  # 09:00 in Berlin
    caught_up = due_occurrence(setting(), nine + timedelta(hours=2), grace=GRACE)
    assert caught_up == Decision(Occurrence(date(2026, 11, 23), nine), "send", timedelta(hours=2))
    missed = due_occurrence(setting(), nine + timedelta(hours=4), grace=GRACE)
    assert missed == Decision(Occurrence(date(2026, 11, 23), nine), "skip", timedelta(hours=4))


def test_only_the_latest_occurrence_is_reported_after_a_long_outage():
    # Down since Friday; back on Sunday at 10:00 Berlin: only Sunday's digest is considered (and sent).
    decision = due_occurrence(setting(), utc(2026, 11, 22, 9), grace=GRACE)
    assert decision.occurrence == Occurrence(date(2026, 11, 22), utc(2026, 11, 22, 8))
    assert decision.action == "send"


def test_a_weekday_digest_on_saturday_reports_fridays_as_missed_and_monday_sends():
    weekdays = setting("weekdays")
    saturday = due_occurrence(weekdays, utc(2026, 11, 21, 8), grace=GRACE)
    assert saturday.occurrence == Occurrence(date(2026, 11, 20), utc(2026, 11, 20, 8))
    assert saturday.action == "skip"
    monday = due_occurrence(weekdays, utc(2026, 11, 23, 8, 5), grace=GRACE)
    assert monday == Decision(Occurrence(date(2026, 11, 23), utc(2026, 11, 23, 8)), "send", timedelta(minutes=5))


def test_just_after_midnight_on_monday_the_latest_weekday_occurrence_is_fridays():
    decision = due_occurrence(setting("weekdays"), utc(2026, 11, 22, 23, 30), grace=GRACE)  # Mon 00:30 Berlin
    assert decision.occurrence == Occurrence(date(2026, 11, 20), utc(2026, 11, 20, 8))
    assert decision.action == "skip"


def test_a_disabled_setting_is_never_due():
    assert due_occurrence(setting(enabled=False), utc(2026, 11, 23, 8), grace=GRACE) == Decision(None, "none", None)


def test_spring_forward_sends_the_shifted_gap_time_and_nine_local():
    gap = setting(at=time(2, 30), tz="Europe/Berlin")
    assert due_occurrence(gap, utc(2026, 3, 29, 1, 29), grace=timedelta(0)).occurrence == Occurrence(
        date(2026, 3, 28), utc(2026, 3, 28, 1, 30)
    )
    assert due_occurrence(gap, utc(2026, 3, 29, 1, 30), grace=timedelta(0)) == Decision(
        Occurrence(date(2026, 3, 29), utc(2026, 3, 29, 1, 30)), "send", timedelta(0)
    )
    nine = setting(tz="Europe/Berlin")
    assert due_occurrence(nine, utc(2026, 3, 29, 7), grace=timedelta(0)).action == "send"  # 09:00 CEST
    assert due_occurrence(nine, utc(2026, 3, 28, 8), grace=timedelta(0)).action == "send"  # 09:00 CET


def test_fall_back_sends_the_ambiguous_time_once_at_its_first_occurrence():
    ambiguous = setting(at=time(1, 30), tz="America/New_York")
    first = due_occurrence(ambiguous, utc(2026, 11, 1, 5, 30), grace=GRACE)  # 01:30 EDT
    assert first == Decision(Occurrence(date(2026, 11, 1), utc(2026, 11, 1, 5, 30)), "send", timedelta(0))
    # At the second 01:30 (EST) it is the same occurrence, an hour late: same local date, so the caller's
    # claim on (target, local date) stops a second send.
    second = due_occurrence(ambiguous, utc(2026, 11, 1, 6, 30), grace=GRACE)
    assert second.occurrence == first.occurrence
    assert second.late_by == timedelta(hours=1)
    # With a short grace, the second 01:30 is not a fresh occurrence either.
    assert due_occurrence(ambiguous, utc(2026, 11, 1, 6, 30), grace=timedelta(minutes=5)).action == "skip"
    nine = setting(tz="America/New_York")
    assert due_occurrence(nine, utc(2026, 11, 1, 14), grace=timedelta(0)).action == "send"  # 09:00 EST
    assert due_occurrence(nine, utc(2026, 11, 1, 13), grace=timedelta(0)).occurrence == Occurrence(
        date(2026, 10, 31), utc(2026, 10, 31, 13)
    )


def test_a_zone_ahead_of_utc_uses_its_own_date_just_after_local_midnight():
    # 2026-11-22 11:05 UTC is Monday 2026-11-23 00:05 in Auckland (NZDT, UTC+13).
    now = utc(2026, 11, 22, 11, 5)
    late_evening = setting(at=time(23, 30), tz="Pacific/Auckland")
    decision = due_occurrence(late_evening, now, grace=timedelta(hours=1))
    expected = Occurrence(date(2026, 11, 22), utc(2026, 11, 22, 10, 30))  # Sunday 23:30 NZDT
    assert decision == Decision(expected, "send", timedelta(minutes=35))
    # A weekday digest: Monday in Auckland even though it is still Sunday in UTC.
    weekdays = setting("weekdays", tz="Pacific/Auckland")
    assert next_occurrence(weekdays, now) == Occurrence(date(2026, 11, 23), utc(2026, 11, 22, 20))
    assert due_occurrence(weekdays, utc(2026, 11, 22, 20, 10), grace=GRACE).action == "send"


def test_unknown_zone_schedules_in_utc():
    decision = due_occurrence(setting(tz="Nowhere/Land"), utc(2026, 11, 23, 9, 30), grace=GRACE)
    assert decision == Decision(Occurrence(date(2026, 11, 23), utc(2026, 11, 23, 9)), "send", timedelta(minutes=30))


def test_now_may_be_given_in_any_zone():
    berlin_now = datetime(2026, 11, 23, 10, 0, tzinfo=effective_zone("Europe/Berlin"))
    assert due_occurrence(setting(), berlin_now, grace=GRACE).late_by == timedelta(hours=1)


def test_naive_now_and_negative_grace_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        due_occurrence(setting(), datetime(2026, 11, 23, 9), grace=GRACE)
    with pytest.raises(ValueError, match="grace"):
        due_occurrence(setting(), utc(2026, 11, 23, 9), grace=timedelta(seconds=-1))


# --- next_occurrence -------------------------------------------------------------------------------------


def test_next_is_strictly_after_now():
    assert next_occurrence(setting(), utc(2026, 11, 23, 7, 59)) == Occurrence(date(2026, 11, 23), utc(2026, 11, 23, 8))
    assert next_occurrence(setting(), utc(2026, 11, 23, 8)) == Occurrence(date(2026, 11, 24), utc(2026, 11, 24, 8))


def test_next_weekday_digest_skips_the_weekend():
    friday_after = utc(2026, 11, 20, 12)
    assert next_occurrence(setting("weekdays"), friday_after) == Occurrence(date(2026, 11, 23), utc(2026, 11, 23, 8))
    assert next_occurrence(setting("daily"), friday_after) == Occurrence(date(2026, 11, 21), utc(2026, 11, 21, 8))


def test_next_across_a_weekend_and_a_daylight_saving_change():
    # Friday 2026-03-27 after 09:00 CET; Berlin springs forward on Sunday: Monday 09:00 CEST is 07:00 UTC.
    monday = Occurrence(date(2026, 3, 30), utc(2026, 3, 30, 7))
    assert next_occurrence(setting("weekdays"), utc(2026, 3, 27, 9)) == monday
    # New York falls back on Sunday 2026-11-01: Monday 09:00 EST is 14:00 UTC (Friday's was 13:00 UTC).
    new_york = setting("weekdays", tz="America/New_York")
    assert next_occurrence(new_york, utc(2026, 10, 30, 13)) == Occurrence(date(2026, 11, 2), utc(2026, 11, 2, 14))


def test_next_after_the_first_ambiguous_time_is_the_next_day_not_the_second_fold():
    ambiguous = setting(at=time(1, 30), tz="America/New_York")
    assert next_occurrence(ambiguous, utc(2026, 11, 1, 5, 30)) == Occurrence(date(2026, 11, 2), utc(2026, 11, 2, 6, 30))


def test_no_next_for_a_disabled_setting():
    assert next_occurrence(setting(enabled=False), utc(2026, 11, 23, 8)) is None


# --- parse_local_time ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("09:00", time(9)),
        ("9:00", time(9)),
        ("21:15", time(21, 15)),
        ("00:00", time(0)),
        ("23:59", time(23, 59)),
        ("9.30", time(9, 30)),
        ("0900", time(9)),
        ("2115", time(21, 15)),
        ("9am", time(9)),
        ("9AM", time(9)),
        ("9 am", time(9)),
        ("9:30pm", time(21, 30)),
        ("9:30 p.m.", time(21, 30)),
        ("12am", time(0)),
        ("12pm", time(12)),
        ("12:15am", time(0, 15)),
        ("  08:30  ", time(8, 30)),
    ],
)
def test_parse_local_time_reads_common_forms(text: str, expected: time):
    assert parse_local_time(text) == expected


@pytest.mark.parametrize(
    "text",
    ["24:00", "25:00", "9:60", "09:75", "2400", "0960", "900", "9", "13pm", "0am", "00:00am", "9:5", "09:00:00",
     "nine", "", "9:00 xm", "-9:00", "9:00pmm"],
)  # fmt: skip
def test_parse_local_time_rejects_impossible_or_ambiguous_times(text: str):
    assert parse_local_time(text) is None


def test_an_occurrence_before_the_setting_was_configured_is_not_sent():
    from dataclasses import replace

    # Set up at 11:00 Berlin on Monday for 09:00: nothing today, Tuesday's is the first.
    digest = replace(setting(), configured_at=utc(2026, 11, 23, 10, 0))
    assert due_occurrence(digest, utc(2026, 11, 23, 10, 1), grace=GRACE).action == "none"
    tuesday = due_occurrence(digest, utc(2026, 11, 24, 8, 1), grace=GRACE)
    assert tuesday.action == "send" and tuesday.occurrence is not None
    assert tuesday.occurrence.local_date == date(2026, 11, 24)
