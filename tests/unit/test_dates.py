"""One table of day phrases for the whole of Baton (core.dates): the resolver, the rules planner and the
meeting extractor read each phrase as the same day."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from core.dates import DayPhrase, resolve_day
from core.meetings.extract import extract_notes
from core.meetings.records import Transcript, Turn
from core.planning.rule_dates import parse_date
from core.planning.rules import plan_by_rules
from core.types import RequestOrigin

FRIDAY = date(2026, 3, 6)
SATURDAY = date(2026, 3, 7)
TZ = ZoneInfo("Europe/Berlin")
ORIGIN = RequestOrigin(team_id="T1", channel_id="CHERE", user_id="UME", thread_ts=None)

#: (phrase, said on, day it names). Said on a Friday unless the case is about another day.
TABLE = [
    # Weekday names: the next day with that name, today included.
    ("friday", FRIDAY, FRIDAY),
    ("Friday", FRIDAY, FRIDAY),
    ("this friday", FRIDAY, FRIDAY),
    ("monday", FRIDAY, date(2026, 3, 9)),
    ("thursday", FRIDAY, date(2026, 3, 12)),
    ("Wed", FRIDAY, date(2026, 3, 11)),
    ("friday", SATURDAY, date(2026, 3, 13)),
    ("monday", SATURDAY, date(2026, 3, 9)),
    # The week after: said so.
    ("friday next week", FRIDAY, date(2026, 3, 13)),
    ("Tuesday next week", FRIDAY, date(2026, 3, 10)),
    # Days and weeks.
    ("today", FRIDAY, FRIDAY),
    ("tomorrow", FRIDAY, SATURDAY),
    ("tmr", FRIDAY, SATURDAY),
    ("the day after tomorrow", FRIDAY, date(2026, 3, 8)),
    ("end of the week", FRIDAY, FRIDAY),
    ("end of the week", SATURDAY, date(2026, 3, 13)),
    ("next week", FRIDAY, date(2026, 3, 13)),
    ("next week", date(2026, 3, 4), date(2026, 3, 13)),
    ("in 3 days", FRIDAY, date(2026, 3, 9)),
    ("in 2 weeks", FRIDAY, date(2026, 3, 20)),
    # Months and dates.
    ("end of month", FRIDAY, date(2026, 3, 31)),
    ("end of month", date(2026, 5, 4), date(2026, 5, 29)),  # 31 May 2026 is a Sunday: the last working day
    ("2026-04-01", FRIDAY, date(2026, 4, 1)),
    ("March 6", FRIDAY, FRIDAY),
    ("Mar 5", FRIDAY, date(2027, 3, 5)),  # already past this year
    ("5th of December", FRIDAY, date(2026, 12, 5)),
    ("Dec 5", FRIDAY, date(2026, 12, 5)),
    ("the 15th", FRIDAY, date(2026, 3, 15)),
]

#: Read the documented way, but people read them two ways: the rules planner declines them.
READINGS = [
    ("next friday", FRIDAY, date(2026, 3, 13)),
    ("next friday", date(2026, 3, 4), date(2026, 3, 13)),
    ("12/5", FRIDAY, date(2026, 12, 5)),
]


@pytest.mark.parametrize(("phrase", "today", "day"), TABLE)
def test_the_resolver_names_one_day_for_each_phrase(phrase, today, day):
    found = resolve_day(phrase, today)
    assert found is not None and (found.day, found.reading) == (day, False)
    assert parse_date(phrase, today) == day


@pytest.mark.parametrize(("phrase", "today", "day"), READINGS)
def test_readings_are_resolved_but_flagged_and_the_rules_planner_declines_them(phrase, today, day):
    assert resolve_day(phrase, today) == DayPhrase(day, reading=True)
    assert parse_date(phrase, today) is None


def test_only_bare_weekday_names_repeat_weekly():
    assert resolve_day("on friday", FRIDAY) == DayPhrase(FRIDAY, weekday_name=True)
    assert resolve_day("friday next week", FRIDAY) == DayPhrase(date(2026, 3, 13))


def rules_due(phrase: str, today: date) -> str | None:
    now = datetime(today.year, today.month, today.day, 9, 30, tzinfo=TZ)
    draft = plan_by_rules(f"create a task to send the deck by {phrase}", origin=ORIGIN, now=now, tz=TZ)
    assert draft is not None, phrase
    return draft.steps[0].args["due_date"]


def meeting_due(phrase: str, today: date) -> str | None:
    turn = Turn("Bob", f"I'll send the revised deck to the client by {phrase}.", start=0.0)
    notes = extract_notes(Transcript((turn,), "text", "utf-8"), meeting_date=today)
    [item] = notes.action_items
    return item.due.isoformat() if item.due else None


@pytest.mark.parametrize(("phrase", "today", "day"), TABLE)
def test_the_rules_planner_and_the_meeting_extractor_give_the_same_day(phrase, today, day):
    assert rules_due(phrase, today) == meeting_due(phrase, today) == day.isoformat()
