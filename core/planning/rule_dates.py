"""Dates and times as people type them in Slack, for the rules planner.

Only unambiguous phrases are understood; anything else gives ``None`` so the caller declines
rather than guesses. In particular:

- ``next friday`` could mean this coming Friday or the one after: declined. ``next week`` is next Monday.
- ``12/5`` is the 12th of May or the 5th of December depending on the reader: declined.
- an hour from 1 to 7 without am/pm (``at 3``) could be morning or afternoon: declined. Hours 8 to 12
  read as morning and noon, 13 to 23 as the 24-hour clock.
- a weekday name means its next occurrence, today included; a month and day without a year means
  the next occurrence, today included.

Everything is relative to a ``today`` / ``now`` passed in (core reads no clock).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

_WEEKDAYS = {
    "monday": 0, "mon": 0,
    "tuesday": 1, "tue": 1, "tues": 1,
    "wednesday": 2, "wed": 2,
    "thursday": 3, "thu": 3, "thur": 3, "thurs": 3,
    "friday": 4, "fri": 4,
    "saturday": 5, "sat": 5,
    "sunday": 6, "sun": 6,
}  # fmt: skip
_MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
_MONTHS |= {name.lower(): number for number, name in enumerate(calendar.month_abbr) if name}
_MONTHS["sept"] = 9
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_ORDINAL = r"(?:st|nd|rd|th)?"

_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_MONTH_DAY = re.compile(rf"(?P<month>{_MONTH})\.?\s+(?P<day>\d{{1,2}}){_ORDINAL}(?:,?\s+(?P<year>\d{{4}}))?")
_DAY_MONTH = re.compile(
    rf"(?:the\s+)?(?P<day>\d{{1,2}}){_ORDINAL}\s+(?:of\s+)?(?P<month>{_MONTH})\.?(?:,?\s+(?P<year>\d{{4}}))?"
)
_IN_DAYS = re.compile(r"in\s+(?P<n>\d{1,3}|a|an|one|two|three)\s+(?P<unit>days?|weeks?)")
_END_OF_MONTH = re.compile(r"(?:the\s+)?(?:end\s+of\s+(?:the\s+)?month|eom)")
_NEXT_WEEK = re.compile(r"next\s+week")

_TIME = re.compile(
    r"(?P<at>\bat\s+)?\b(?P<time>noon|midnight|(?P<hour>\d{1,2})(?::(?P<minute>\d{2}))?"
    r"(?:\s*(?P<meridiem>[ap])\.?m\b\.?)?)(?![\w:/-])"
)
_RELATIVE = re.compile(
    r"in\s+(?P<n>\d{1,4}|a|an|one|two|three|half\s+an)\s+"
    r"(?P<unit>minutes?|mins?|hours?|hrs?|days?)"
)
_WORD_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3}
# Hours a person may mean either in the morning or the afternoon when they leave out am/pm.
_AMBIGUOUS_HOURS = range(1, 8)


def _normal(text: str) -> str:
    return " ".join(text.lower().strip().rstrip(".!,;").split())


@dataclass(frozen=True)
class DateMatch:
    """A parsed date and whether it came from a weekday name (which repeats every week)."""

    day: date
    weekday_name: bool = False


def parse_date(text: str, today: date) -> date | None:
    """The date ``text`` names relative to ``today``, or ``None`` if it is not an unambiguous date."""
    found = match_date(text, today)
    return None if found is None else found.day


def match_date(text: str, today: date) -> DateMatch | None:
    """Like :func:`parse_date`, also telling whether the phrase was a weekday name."""
    phrase = _normal(text)
    if phrase == "today":
        return DateMatch(today)
    if phrase in ("tomorrow", "tmrw", "tmr"):
        return DateMatch(today + timedelta(days=1))
    if _NEXT_WEEK.fullmatch(phrase):
        return DateMatch(today + timedelta(days=7 - today.weekday()))
    if _END_OF_MONTH.fullmatch(phrase):
        last = calendar.monthrange(today.year, today.month)[1]
        return DateMatch(today.replace(day=last))
    weekday = phrase.removeprefix("this ").removeprefix("on ")
    if weekday in _WEEKDAYS:
        ahead = (_WEEKDAYS[weekday] - today.weekday()) % 7
        return DateMatch(today + timedelta(days=ahead), weekday_name=True)
    if m := _IN_DAYS.fullmatch(phrase):
        n = _WORD_NUMBERS.get(m["n"]) or int(m["n"])
        return DateMatch(today + timedelta(days=n * (7 if m["unit"].startswith("week") else 1)))
    if m := _ISO.fullmatch(phrase):
        return _date_or_none(int(m[1]), int(m[2]), int(m[3]))
    if m := _MONTH_DAY.fullmatch(phrase) or _DAY_MONTH.fullmatch(phrase):
        return _calendar_date(_MONTHS[m["month"]], int(m["day"]), m["year"], today)
    return None


def _calendar_date(month: int, day: int, year_text: str | None, today: date) -> DateMatch | None:
    if year_text is not None:
        return _date_or_none(int(year_text), month, day)
    this_year = _date_or_none(today.year, month, day)
    if this_year is not None and this_year.day >= today:
        return this_year
    # Already past this year (or 29 February in a common year): the next occurrence.
    return _date_or_none(today.year + 1, month, day)


def _date_or_none(year: int, month: int, day: int) -> DateMatch | None:
    try:
        return DateMatch(date(year, month, day))
    except ValueError:
        return None


def parse_time(text: str) -> time | None:
    """A clock time such as ``3pm``, ``3:30 pm``, ``15:30``, ``9`` (morning) or ``noon``; else ``None``."""
    m = _TIME.fullmatch(_normal(text))
    return None if m is None else _time_of(m)


def _time_of(m: re.Match[str]) -> time | None:
    word = m["time"]
    if word == "noon":
        return time(12, 0)
    if word == "midnight":
        return time(0, 0)
    hour, minute = int(m["hour"]), int(m["minute"] or 0)
    if minute > 59:
        return None
    if m["meridiem"]:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if m["meridiem"] == "p" else 0)
    elif hour > 23 or hour in _AMBIGUOUS_HOURS:
        return None
    return time(hour, minute)


def parse_when(text: str, now: datetime, tz: tzinfo) -> datetime | None:
    """The future moment ``text`` names (``at 3pm``, ``tomorrow at 9am``, ``on friday at 10``, ``in 2
    hours``) as an aware datetime in ``tz``, or ``None`` if it is not unambiguous or not in the future.

    A time alone that has already passed today means tomorrow; a weekday whose time has passed today
    means the same weekday next week; any other moment in the past is declined.
    """
    phrase = _normal(text)
    local_now = now.astimezone(tz)
    if m := _RELATIVE.fullmatch(phrase):
        return _relative(m, now, tz)
    times = list(_TIME.finditer(phrase))
    marked = [t for t in times if t["at"]] or [
        t for t in times if t["meridiem"] or t["minute"] or t["time"] in ("noon", "midnight")
    ]
    if len(marked) != 1:
        return None
    found = marked[0]
    clock = _time_of(found)
    if clock is None:
        return None
    date_text = (phrase[: found.start()] + " " + phrase[found.end() :]).strip()
    if not date_text:
        moment = _local(local_now.date(), clock, tz)
        return moment if moment > local_now else _local(local_now.date() + timedelta(days=1), clock, tz)
    day = match_date(date_text.removeprefix("on "), local_now.date())
    if day is None:
        return None
    moment = _local(day.day, clock, tz)
    if moment <= local_now and day.weekday_name:
        moment = _local(day.day + timedelta(days=7), clock, tz)
    return moment if moment > local_now else None


def _relative(m: re.Match[str], now: datetime, tz: tzinfo) -> datetime | None:
    word = m["unit"]
    unit = "minutes" if word.startswith("min") else "hours" if word.startswith("h") else "days"
    if m["n"].startswith("half"):
        if unit != "hours":
            return None
        amount, unit = 30, "minutes"
    else:
        amount = _WORD_NUMBERS.get(m["n"]) or int(m["n"])
    if amount <= 0:
        return None
    # Elapsed time is measured on the UTC line, so "in 2 hours" stays 2 hours across a DST change.
    moment = now.astimezone(UTC) + timedelta(**{unit: amount})
    return moment.astimezone(tz).replace(microsecond=0)


def _local(day: date, clock: time, tz: tzinfo) -> datetime:
    return datetime.combine(day, clock, tzinfo=tz)
