"""Days as people name them ("by Friday", "end of month", "March 3"): one resolver for the whole of Baton.

The rules planner (``core.planning.rule_dates``: "create a task … due friday", "remind me on friday at
10") and the meeting extractor (``core.meetings``: "I'll send it by Friday") both read days here, so the
same words give the same day wherever they are said. Everything is relative to a ``today`` passed in (the
request's local date, or the meeting's date); core reads no clock. Working days are Monday to Friday;
holidays are not known.

**Weekday names.** A weekday name means the next day with that name, *today included*: ``Friday``,
``on Friday``, ``by Friday``, ``due Friday`` and ``this Friday`` said on a Friday all mean that Friday,
today. The words name a day and today is that day, so that is what a reader of the request would take
them to mean, and no deadline is ever pushed a week out by surprise. A person who means the week after
says so: ``next Friday`` and ``Friday next week`` are the Friday of the following Monday-to-Sunday week.

The rules, chosen so a deadline never lands in the past:

==================================================  ===================================================
phrase                                              day
==================================================  ===================================================
``2026-03-15``, ``3/15``, ``3/15/26`` (US order)    that date; without a year the next one on or after
``March 3``, ``3rd of March``, ``15 March``         today (a date names one day, which may be today);
``the 15th``, ``the fifteenth``                     ``the 15th`` is this month's or next's
``today``, ``tonight``, ``end of day``, ``EOD``     today
``tomorrow``, ``tmr``, ``end of day tomorrow``      the next calendar day (even a Saturday)
``the day after tomorrow``                          the second calendar day
``Friday``, ``by Friday``, ``this Friday``          the next Friday, today included (see above)
``next Tuesday``, ``Tuesday next week``             Tuesday of the following Monday-to-Sunday week
``end of the week``, ``this week``, ``EOW``         Friday of this week (the next Friday on a weekend)
``next week``, ``by next week``, ``end of next      Friday of next week (the end of the next working
week``                                              week); ``early next week`` is its Monday
``the week after next``                             Friday of the week after next
``end of the month``, ``this month``, ``EOM``       last working day of the month, never before today
``next month``, ``end of next month``               last working day of next month; ``early next
                                                    month`` is its first working day
``in 3 days``, ``within two weeks``, ``in a month``  calendar days / weeks / months later (a month
                                                    later is clamped to the month's last day);
                                                    ``in 3 working days`` counts working days
==================================================  ===================================================

**Readings.** Two kinds of phrase are read as above but flagged ``reading`` in :class:`DayPhrase`,
because people read them two ways: ``next Friday`` (said on a Wednesday, some mean the day after
tomorrow) and a numeric ``12/5`` (the 5th of December in the US, the 12th of May elsewhere). The
meeting extractor accepts readings (its notes show the words and a person reviews them); the rules
planner, which acts on a request without asking back, declines them.

Weekday abbreviations ``sat`` and ``sun`` are not read (they are ordinary words); ``last Friday`` is
not a due date. :func:`find_due` searches a sentence for these phrases, including a leading ``by``,
``on``, ``before``, ``until``, ``due`` or ``no later than``; there ``the 15th`` and ``3/15`` count only
after such a word (``by the 15th``), so "the third option" and "a 1/2 share" are not dates.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

__all__ = ["DayPhrase", "find_due", "next_working_day", "resolve_day", "resolve_due", "working_day_before"]

_WEEKDAYS = {
    "monday": 0, "mon": 0, "tuesday": 1, "tue": 1, "tues": 1, "wednesday": 2, "wed": 2, "weds": 2,
    "thursday": 3, "thu": 3, "thur": 3, "thurs": 3, "friday": 4, "fri": 4, "saturday": 5, "sunday": 6,
}  # fmt: skip
_MONTHS = {name.lower(): n for n, name in enumerate(calendar.month_name) if name}
_MONTHS |= {name.lower(): n for n, name in enumerate(calendar.month_abbr) if name} | {"sept": 9}
_FRIDAY = 4

# Numbers as transcripts spell them: "in two weeks", "the fifteenth", "the twenty-first".
_SMALL = (
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
)  # fmt: skip
_SMALL_TH = (
    "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth", "eleventh",
    "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth", "nineteenth",
)  # fmt: skip
_CARDINALS = {word: n for n, word in enumerate(_SMALL, 1)} | {"a": 1, "an": 1, "a couple of": 2, "couple of": 2}
_ORDINALS = {word: n for n, word in enumerate(_SMALL_TH, 1)}
for _tens, _word, _word_th, _units in ((20, "twenty", "twentieth", 9), (30, "thirty", "thirtieth", 1)):
    _CARDINALS[_word], _ORDINALS[_word_th] = _tens, _tens
    for _i in range(1, _units + 1):
        for _sep in ("-", " "):
            _CARDINALS[f"{_word}{_sep}{_SMALL[_i - 1]}"] = _tens + _i
            _ORDINALS[f"{_word}{_sep}{_SMALL_TH[_i - 1]}"] = _tens + _i


def _alternation(words: Iterable[str]) -> str:
    return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(words, key=len, reverse=True))


_WD = rf"(?P<wd>{_alternation(_WEEKDAYS)})"
_MONTH = rf"(?P<month>{_alternation(_MONTHS)})\.?"
_DAY = rf"(?P<day>\d{{1,2}}(?:st|nd|rd|th)?|{_alternation(_ORDINALS)})"
_YEAR = r"(?:,?\s+(?P<year>\d{4}))?"
_N = rf"(?P<n>\d{{1,3}}|{_alternation(_CARDINALS)})"
_PREPOSITIONS = ("by", "on", "before", "until", "till", "due", "no later than", "for")
#: Prepositions that make a phrase a deadline; find_due prefers phrases introduced by them.
_DEADLINE = frozenset({"by", "before", "until", "till", "due", "no later than"})


def _number(text: str) -> int:
    word = " ".join(text.lower().split())
    if word[:1].isdigit():
        return int(word.rstrip("stndrh"))
    return _CARDINALS.get(word) or _ORDINALS[word]


def working_day_before(day: date) -> date:
    """The last working day (Monday to Friday) strictly before ``day``."""
    day -= timedelta(days=1)
    while day.weekday() > _FRIDAY:
        day -= timedelta(days=1)
    return day


def next_working_day(day: date) -> date:
    """The first working day (Monday to Friday) strictly after ``day``."""
    day += timedelta(days=1)
    while day.weekday() > _FRIDAY:
        day += timedelta(days=1)
    return day


def _monday(day: date, weeks_ahead: int = 0) -> date:
    return day - timedelta(days=day.weekday()) + timedelta(weeks=weeks_ahead)


def _add_months(day: date, months: int) -> date:
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _last_working_day_of_month(day: date) -> date:
    return working_day_before(_add_months(day.replace(day=1), 1))


def _date_or_none(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _on_or_after(today: date, month: int, day: int, year: str | None) -> date | None:
    """The given day of the year; without a year, its next occurrence on or after ``today``."""
    if year is not None:
        return _date_or_none(int(year) + (2000 if len(year) == 2 else 0), month, day)
    for candidate in range(today.year, today.year + 9):  # up to 8 years on: the next 29 February
        found = _date_or_none(candidate, month, day)
        if found is not None and found >= today:
            return found
    return None


# Resolvers: (match, meeting date) -> due date, or None when the words name no real date.
Resolver = Callable[[re.Match[str], date], date | None]


def _iso(m: re.Match[str], today: date) -> date | None:
    return _date_or_none(int(m["y"]), int(m["m"]), int(m["d"]))


def _us_numeric(m: re.Match[str], today: date) -> date | None:
    return _on_or_after(today, int(m["num_month"]), int(m["day"]), m["year"]) if int(m["num_month"]) <= 12 else None


def _named_month(m: re.Match[str], today: date) -> date | None:
    return _on_or_after(today, _MONTHS[m["month"].lower().rstrip(".")], _number(m["day"]), m["year"])


def _day_of_month(m: re.Match[str], today: date) -> date | None:
    day = _number(m["day"])
    for months in range(3):  # the next month that has this day (a 31st may skip one)
        first = _add_months(today.replace(day=1), months)
        found = _date_or_none(first.year, first.month, day)
        if found is not None and found >= today:
            return found
    return None


def _days(n: int) -> Resolver:
    return lambda m, today: today + timedelta(days=n)


def _this_friday(m: re.Match[str], today: date) -> date:
    friday = _monday(today) + timedelta(days=_FRIDAY)
    return friday if friday >= today else friday + timedelta(weeks=1)


def _weeks_weekday(weeks_ahead: int, weekday: int) -> Resolver:
    return lambda m, today: _monday(today, weeks_ahead) + timedelta(days=weekday)


def _weekday_from_today(m: re.Match[str], today: date) -> date:
    return today + timedelta(days=(_WEEKDAYS[m["wd"].lower()] - today.weekday()) % 7)


def _next_weeks_weekday(m: re.Match[str], today: date) -> date:
    return _monday(today, 1) + timedelta(days=_WEEKDAYS[m["wd"].lower()])


def _end_of_month(months_ahead: int) -> Resolver:
    return lambda m, today: max(today, _last_working_day_of_month(_add_months(today.replace(day=1), months_ahead)))


def _early_next_month(m: re.Match[str], today: date) -> date:
    return next_working_day(_add_months(today.replace(day=1), 1) - timedelta(days=1))


def _later(m: re.Match[str], today: date) -> date | None:
    n, unit = _number(m["n"]), m["unit"].lower()
    if n > 366:
        return None
    if unit.startswith(("working", "business")):
        for _ in range(n):
            today = next_working_day(today)
        return today
    if unit.startswith("month"):
        return _add_months(today, n)
    return today + timedelta(days=n * (7 if unit.startswith("week") else 1))


@dataclass(frozen=True)
class DayPhrase:
    """The day a phrase names, and how to treat it (see the module docstring)."""

    day: date
    #: The phrase was a weekday name ("friday", "on friday"): the same words name a day every week.
    weekday_name: bool = False
    #: People read the phrase two ways ("next friday", "12/5"); this is the documented reading.
    reading: bool = False


@dataclass(frozen=True)
class _Rule:
    regex: re.Pattern[str]
    resolve: Resolver
    #: Only read after a preposition when searching a sentence ("the third option" is no date).
    needs_preposition: bool = False
    weekday_name: bool = False
    reading: bool = False


def _rule(
    body: str, resolve: Resolver, *, needs_preposition: bool = False, weekday_name: bool = False, reading: bool = False
) -> _Rule:
    prepositions = _alternation(_PREPOSITIONS)
    source = rf"(?<![\w/-])(?:(?P<prep>{prepositions})\s+)?(?:{body})(?![\w/-])"
    return _Rule(re.compile(source, re.IGNORECASE), resolve, needs_preposition, weekday_name, reading)


_END_OF = r"(?:the\s+)?(?:end|close)\s+of\s+"
_EARLY = r"(?:early|(?:the\s+)?(?:beginning|start)\s+of)\s+"
_RULES = (
    _rule(r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})", _iso),
    _rule(
        r"(?P<num_month>\d{1,2})/(?P<day>\d{1,2})(?:/(?P<year>\d{4}|\d{2}))?",
        _us_numeric,
        needs_preposition=True,
        reading=True,
    ),
    _rule(rf"{_MONTH}\s+{_DAY}{_YEAR}", _named_month),
    _rule(rf"(?:the\s+)?{_DAY}\s+(?:of\s+)?{_MONTH}{_YEAR}", _named_month),
    _rule(rf"the\s+{_DAY}", _day_of_month, needs_preposition=True),
    _rule(rf"today|tonight|{_END_OF}(?:the\s+)?(?:day|today|business)|eod|cob", _days(0)),
    _rule(r"tomorrow|tmrw|tmr", _days(1)),
    _rule(rf"{_END_OF}(?:(?:the\s+)?day\s+)?tomorrow|tomorrow,?\s+(?:by\s+)?{_END_OF}(?:the\s+)?day", _days(1)),
    _rule(r"the\s+day\s+after\s+tomorrow", _days(2)),
    _rule(rf"{_END_OF}(?:the\s+|this\s+)?week|this\s+week|eow", _this_friday),
    _rule(rf"{_END_OF}next\s+week|next\s+week", _weeks_weekday(1, _FRIDAY)),
    _rule(rf"{_EARLY}next\s+week", _weeks_weekday(1, 0)),
    _rule(r"the\s+week\s+after\s+next", _weeks_weekday(2, _FRIDAY)),
    _rule(rf"{_END_OF}(?:the\s+|this\s+)?month|this\s+month|eom", _end_of_month(0)),
    _rule(rf"{_END_OF}next\s+month|next\s+month", _end_of_month(1)),
    _rule(rf"{_EARLY}next\s+month", _early_next_month),
    _rule(rf"(?:in|within)\s+{_N}\s+(?P<unit>(?:working\s+|business\s+)?days?|weeks?|months?)", _later),
    _rule(rf"{_N}\s+(?P<unit>days?|weeks?)\s+from\s+(?:now|today)", _later),
    _rule(rf"next\s+{_WD}", _next_weeks_weekday, reading=True),
    _rule(rf"{_WD}\s+next\s+week", _next_weeks_weekday),
    _rule(rf"(?<!last\s)(?<!next\s)(?:this\s+)?{_WD}", _weekday_from_today, weekday_name=True),
)


def _normal(text: str) -> str:
    return " ".join(text.strip().rstrip(".!,;:?").split())


def resolve_day(text: str | None, today: date) -> DayPhrase | None:
    """The day a whole phrase names (``"by Friday"``, ``"end of month"``, ``"3/15"``) counted from ``today``,
    or ``None`` when it names no day (or an impossible one)."""
    if not text:
        return None
    phrase = _normal(text)
    for rule in _RULES:
        m = rule.regex.fullmatch(phrase)
        if m is not None and (found := rule.resolve(m, today)) is not None:
            return DayPhrase(found, weekday_name=rule.weekday_name, reading=rule.reading)
    return None


def resolve_due(text: str | None, meeting_date: date) -> date | None:
    """The due date a phrase names relative to the meeting, readings included, or ``None``."""
    found = resolve_day(text, meeting_date)
    return None if found is None else found.day


def find_due(text: str, meeting_date: date) -> tuple[date, str] | None:
    """The due date mentioned in ``text`` and the words it came from (e.g. ``"by Friday"``), or ``None``.

    When a sentence has several, a phrase introduced by a deadline word (by, before, until, due) wins,
    then the earliest, then the longest (so ``next Tuesday`` beats ``Tuesday``).
    """
    best: tuple[tuple[bool, int, int], date, str] | None = None
    for rule in _RULES:
        for m in rule.regex.finditer(text):
            prep = (m["prep"] or "").lower()
            if rule.needs_preposition and not prep:
                continue
            found = rule.resolve(m, meeting_date)
            if found is None:
                continue
            key = (" ".join(prep.split()) in _DEADLINE, -m.start(), m.end() - m.start())
            if best is None or key > best[0]:
                best = (key, found, " ".join(m[0].split()))
    return None if best is None else (best[1], best[2])
