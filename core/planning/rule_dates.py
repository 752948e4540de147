"""Dates and times as people type them in Slack, for the rules planner.

Days are read by :mod:`core.dates`, the one resolver Baton has, so "due friday" here and "by Friday" in a
meeting name the same day (a weekday name said on that weekday is today; its docstring has every rule).
This module adds what a request needs on top:

- phrases people read two ways are declined rather than guessed (``next friday``: this Friday or the one
  after? ``12/5``: the 12th of May or the 5th of December?) so the caller asks for the model instead;
- clock times: an hour from 1 to 7 without am/pm (``at 3``) could be morning or afternoon: declined.
  Hours 8 to 12 read as morning and noon, 13 to 23 as the 24-hour clock;
- a moment (:func:`parse_when`) is a day and a time in the requester's zone, always in the future.

Everything is relative to a ``today`` / ``now`` passed in (core reads no clock).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from core.dates import DayPhrase, resolve_day

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


def parse_date(text: str, today: date) -> date | None:
    """The date ``text`` names relative to ``today``, or ``None`` if it is not an unambiguous date."""
    found = match_date(text, today)
    return None if found is None else found.day


def match_date(text: str, today: date) -> DayPhrase | None:
    """Like :func:`parse_date`, also telling whether the phrase was a weekday name; readings are declined."""
    found = resolve_day(text, today)
    return None if found is None or found.reading else found


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
    day = _reminder_day(date_text.removeprefix("on "), local_now.date())
    if day is None:
        return None
    moment = _local(day.day, clock, tz)
    if moment <= local_now and day.weekday_name:
        moment = _local(day.day + timedelta(days=7), clock, tz)
    return moment if moment > local_now else None


def _reminder_day(text: str, today: date) -> DayPhrase | None:
    """The day of a reminder. Two readings differ from due dates': "next week" is its Monday (a reminder is for
    the start of it; a task due next week is due by its end), and "sat"/"sun" are the weekdays (short
    reminder commands use them; in running text they are ordinary words)."""
    if text == "next week":
        return DayPhrase(today + timedelta(days=7 - today.weekday()))
    return match_date(_SHORT_WEEKEND.get(text, text), today)


_SHORT_WEEKEND = {"sat": "saturday", "sun": "sunday", "this sat": "this saturday", "this sun": "this sunday"}


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
