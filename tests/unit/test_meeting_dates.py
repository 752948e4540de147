"""Due phrases resolved against the meeting date (core.dates)."""

from __future__ import annotations

from datetime import date

import pytest

from core.dates import find_due, next_working_day, resolve_due, working_day_before

WEDNESDAY = date(2026, 3, 4)
FRIDAY = date(2026, 3, 6)
SATURDAY = date(2026, 3, 7)


@pytest.mark.parametrize(
    ("phrase", "due"),
    [
        ("2026-03-15", date(2026, 3, 15)),
        ("2027-01-02", date(2027, 1, 2)),
        ("today", WEDNESDAY),
        ("end of day", WEDNESDAY),
        ("EOD", WEDNESDAY),
        ("tomorrow", date(2026, 3, 5)),
        ("by end of day tomorrow", date(2026, 3, 5)),
        ("the day after tomorrow", date(2026, 3, 6)),
        ("Friday", date(2026, 3, 6)),
        ("by Friday", date(2026, 3, 6)),
        ("on Friday", date(2026, 3, 6)),
        ("this Friday", date(2026, 3, 6)),
        ("by Monday", date(2026, 3, 9)),
        ("Wednesday", WEDNESDAY),  # the meeting's own weekday is that day (core.dates: today included)
        ("next Tuesday", date(2026, 3, 10)),
        ("next Friday", date(2026, 3, 13)),
        ("Tuesday next week", date(2026, 3, 10)),
        ("end of the week", date(2026, 3, 6)),
        ("by the end of this week", date(2026, 3, 6)),
        ("EOW", date(2026, 3, 6)),
        ("this week", date(2026, 3, 6)),
        ("next week", date(2026, 3, 13)),
        ("by the end of next week", date(2026, 3, 13)),
        ("early next week", date(2026, 3, 9)),
        ("the week after next", date(2026, 3, 20)),
        ("end of month", date(2026, 3, 31)),
        ("by the end of the month", date(2026, 3, 31)),
        ("EOM", date(2026, 3, 31)),
        ("next month", date(2026, 4, 30)),
        ("early next month", date(2026, 4, 1)),
        ("in 3 days", date(2026, 3, 7)),
        ("in two weeks", date(2026, 3, 18)),
        ("within a week", date(2026, 3, 11)),
        ("in a couple of days", date(2026, 3, 6)),
        ("two weeks from now", date(2026, 3, 18)),
        ("in a month", date(2026, 4, 4)),
        ("in 3 working days", date(2026, 3, 9)),
        ("in 3 business days", date(2026, 3, 9)),
        ("the 15th", date(2026, 3, 15)),
        ("by the fifteenth", date(2026, 3, 15)),
        ("the 3rd", date(2026, 4, 3)),  # already past this month: next month's
        ("the 4th", WEDNESDAY),  # a date may be today
        ("March 3", date(2027, 3, 3)),  # already past this year: next year's
        ("March 20th", date(2026, 3, 20)),
        ("Apr 2, 2027", date(2027, 4, 2)),
        ("15 March", date(2026, 3, 15)),
        ("the 1st of April", date(2026, 4, 1)),
        ("the twenty-first of March", date(2026, 3, 21)),
        ("3/15", date(2026, 3, 15)),
        ("12/1", date(2026, 12, 1)),
        ("3/15/27", date(2027, 3, 15)),
        ("  By Friday.  ", date(2026, 3, 6)),
    ],
)
def test_resolves_due_phrases_relative_to_a_wednesday_meeting(phrase, due):
    assert resolve_due(phrase, WEDNESDAY) == due


@pytest.mark.parametrize(
    "phrase",
    [None, "", "soon", "asap", "last Friday", "sometime", "13/45", "2026-02-30", "February 30", "the 32nd", "sat"],
)
def test_unrecognisable_or_impossible_phrases_give_none(phrase):
    assert resolve_due(phrase, WEDNESDAY) is None


def test_said_on_a_friday_friday_and_end_of_week_mean_today():
    assert resolve_due("by Friday", FRIDAY) == FRIDAY
    assert resolve_due("end of the week", FRIDAY) == FRIDAY
    assert resolve_due("next week", FRIDAY) == date(2026, 3, 13)
    assert resolve_due("next Monday", FRIDAY) == date(2026, 3, 9)


def test_a_weekend_meeting_looks_at_the_coming_week():
    assert resolve_due("end of the week", SATURDAY) == date(2026, 3, 13)
    assert resolve_due("next Tuesday", SATURDAY) == date(2026, 3, 10)
    assert resolve_due("Monday", SATURDAY) == date(2026, 3, 9)
    assert resolve_due("next week", SATURDAY) == date(2026, 3, 13)


def test_end_of_month_is_the_last_working_day_and_never_before_the_meeting():
    assert resolve_due("end of month", date(2026, 5, 4)) == date(2026, 5, 29)  # 31 May 2026 is a Sunday
    assert resolve_due("end of month", date(2026, 5, 30)) == date(2026, 5, 30)  # Saturday after it
    assert resolve_due("next month", date(2026, 4, 10)) == date(2026, 5, 29)
    assert resolve_due("early next month", date(2026, 7, 20)) == date(2026, 8, 3)  # 1 August is a Saturday


def test_month_arithmetic_clamps_and_crosses_years():
    assert resolve_due("in a month", date(2026, 1, 31)) == date(2026, 2, 28)
    assert resolve_due("next month", date(2026, 12, 2)) == date(2027, 1, 29)
    assert resolve_due("next week", date(2026, 12, 30)) == date(2027, 1, 8)
    assert resolve_due("the 31st", date(2026, 4, 5)) == date(2026, 5, 31)  # April has no 31st
    assert resolve_due("February 29", date(2026, 3, 1)) == date(2028, 2, 29)


@pytest.mark.parametrize(
    ("day", "before", "after"),
    [
        (date(2026, 3, 4), date(2026, 3, 3), date(2026, 3, 5)),  # Wednesday
        (date(2026, 3, 9), date(2026, 3, 6), date(2026, 3, 10)),  # Monday: before is Friday
        (date(2026, 3, 6), date(2026, 3, 5), date(2026, 3, 9)),  # Friday: after is Monday
        (date(2026, 3, 7), date(2026, 3, 6), date(2026, 3, 9)),  # Saturday
        (date(2026, 3, 8), date(2026, 3, 6), date(2026, 3, 9)),  # Sunday
        (date(2026, 6, 1), date(2026, 5, 29), date(2026, 6, 2)),  # across a month end (31 May is a Sunday)
        (date(2026, 1, 1), date(2025, 12, 31), date(2026, 1, 2)),  # across a year end
        (date(2027, 1, 1), date(2026, 12, 31), date(2027, 1, 4)),  # a Friday New Year
    ],
)
def test_working_days_skip_weekends_across_month_and_year_ends(day, before, after):
    assert working_day_before(day) == before
    assert next_working_day(day) == after
    assert before.weekday() < 5 and after.weekday() < 5


@pytest.mark.parametrize(
    ("sentence", "due", "words"),
    [
        ("I'll send the deck by Friday.", date(2026, 3, 6), "by Friday"),
        ("Carol will update the page before the 15th", date(2026, 3, 15), "before the 15th"),
        ("On Monday we agreed to ship by next Tuesday", date(2026, 3, 10), "by next Tuesday"),
        ("Let's get it done early next week", date(2026, 3, 9), "early next week"),
        ("send the contract by the end of next week please", date(2026, 3, 13), "by the end of next week"),
        ("We need it by 3/15 at the latest", date(2026, 3, 15), "by 3/15"),
        ("the invoice is due 2026-04-01", date(2026, 4, 1), "due 2026-04-01"),
        ("I'll look at it tomorrow morning", date(2026, 3, 5), "tomorrow"),
        ("we can revisit in two weeks", date(2026, 3, 18), "in two weeks"),
        ("Friday next week works for the demo", date(2026, 3, 13), "Friday next week"),
        ("I'll have it done by end of day tomorrow", date(2026, 3, 5), "by end of day tomorrow"),
    ],
)
def test_finds_the_due_phrase_inside_a_sentence(sentence, due, words):
    assert find_due(sentence, WEDNESDAY) == (due, words)


@pytest.mark.parametrize(
    "sentence",
    [
        "The third option is cheaper.",
        "We met last Friday about it.",
        "I sat in the sun and read.",
        "About 1/2 of users lose the remote.",
        "I'll send the deck.",
        "Next steps are unclear.",
    ],
)
def test_sentences_without_a_due_phrase_give_none(sentence):
    assert find_due(sentence, WEDNESDAY) is None
