"""When a digest is due: one send moment per local date, daylight-saving correct, with catch-up grace.

A digest is configured as a wall-clock time (``09:00``) in a named zone (``Europe/Berlin``), so each
occurrence is computed per local date with ``zoneinfo`` and converted to UTC. A 09:00 digest is at 09:00
local on both sides of a change: 08:00 UTC before and 07:00 UTC after Berlin springs forward on
2026-03-29; 13:00 UTC before and 14:00 UTC after New York falls back on 2026-11-01. An unknown zone
name means UTC. Pure: ``now`` is passed in and must be timezone-aware.

Daylight-saving rules, for times that are not simply there once on the day of a change:

- **Spring forward** (a local time in the gap does not exist): the time is shifted forward by the length
  of the gap, which is what ``zoneinfo`` does with ``fold=0`` (the offset from before the change). 02:30
  in Europe/Berlin on 2026-03-29 is sent at 03:30 CEST (01:30 UTC); 02:30 in America/New_York on
  2026-03-08 at 03:30 EDT (07:30 UTC).
- **Fall back** (a local time happens twice): it is sent once, at its first occurrence (``fold=0``, the
  offset from before the change). 01:30 in America/New_York on 2026-11-01 is 01:30 EDT (05:30 UTC); the
  second 01:30 (EST) belongs to the same occurrence, so asking again then finds the same local date.

Schedules: ``daily`` is every day, ``weekdays`` Monday to Friday (in the digest's zone, not in UTC);
a disabled setting has no occurrences.

Catch-up: :func:`due_occurrence` looks only at the latest occurrence at or before ``now``. Within
``grace`` of its due moment it is ``"send"`` (so a scheduler that was down briefly still sends today's
digest); older than that it is ``"skip"`` (missed; the caller logs it and records its claim so it is not
considered again). Older missed occurrences are never reported again. The function is stateless: the
caller makes "at most once per (target, local date)" true with a unique claim in Postgres.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.digest.facts import DigestSetting, Occurrence, Schedule

__all__ = [
    "Decision",
    "DecisionAction",
    "due_occurrence",
    "effective_zone",
    "latest_occurrence",
    "next_occurrence",
    "occurrence_on",
    "parse_local_time",
    "runs_on",
]

DecisionAction = Literal["send", "skip", "none"]

_SATURDAY = 5
# The longest stretch between two occurrences is Friday to Monday on a weekday schedule, so looking back
# three local dates from today always finds the latest occurrence, even just after local midnight.
_LOOKBACK_DAYS = 3
# A weekday schedule runs at least every third day; eight days covers any schedule and week boundary.
_LOOKAHEAD_DAYS = 8


@dataclass(frozen=True)
class Decision:
    """What to do about a digest now: send the latest occurrence, skip it as missed, or nothing."""

    occurrence: Occurrence | None
    action: DecisionAction
    late_by: timedelta | None = None  # now - due_at, for "send" and "skip"


def effective_zone(tz: str | None) -> ZoneInfo:
    """The named zone, or UTC for an unknown, malformed or missing name (the zone the schedule really uses)."""
    try:
        return ZoneInfo(tz or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def runs_on(schedule: Schedule, local_day: date) -> bool:
    """Whether ``schedule`` has an occurrence on ``local_day`` (``weekdays`` skips Saturday and Sunday)."""
    return schedule == "daily" or local_day.weekday() < _SATURDAY


def occurrence_on(setting: DigestSetting, local_day: date) -> Occurrence | None:
    """The send moment (in UTC) for ``local_day`` in the setting's zone; None if there is none that day.

    None when the setting is disabled or the schedule skips the day. A local time in a spring-forward gap
    moves forward by the gap; an ambiguous one on a fall-back day is its first occurrence (see above).
    """
    if not setting.enabled or not runs_on(setting.schedule, local_day):
        return None
    wall = datetime.combine(local_day, setting.local_time.replace(tzinfo=None, fold=0))
    due_at = wall.replace(tzinfo=effective_zone(setting.tz)).astimezone(UTC)
    return Occurrence(local_date=local_day, due_at=due_at)


def _local_today(setting: DigestSetting, now: datetime) -> date:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(effective_zone(setting.tz)).date()


def latest_occurrence(setting: DigestSetting, now: datetime) -> Occurrence | None:
    """The latest occurrence due at or before ``now`` within the last few local dates, or None."""
    today = _local_today(setting, now)
    for back in range(_LOOKBACK_DAYS + 1):
        found = occurrence_on(setting, today - timedelta(days=back))
        if found is not None and found.due_at <= now:
            return found
    return None


def due_occurrence(setting: DigestSetting, now: datetime, *, grace: timedelta) -> Decision:
    """Whether the latest occurrence at or before ``now`` should be sent, skipped as missed, or neither.

    ``"send"`` when ``now - due_at <= grace`` (exactly at the grace still sends), ``"skip"`` when later,
    ``"none"`` when there is no recent occurrence (disabled, nothing due yet on a weekday schedule, or
    the latest one was before the setting was configured).
    """
    if grace < timedelta(0):
        raise ValueError("grace must not be negative")
    found = latest_occurrence(setting, now)
    if found is None or (setting.configured_at is not None and found.due_at < setting.configured_at):
        # Nothing due, or the occurrence came before the digest was set up: set at 10:05 for 09:00,
        # the first one is tomorrow's (as /baton digest says), not a "late" one today.
        return Decision(occurrence=None, action="none")
    late_by = now - found.due_at
    return Decision(occurrence=found, action="send" if late_by <= grace else "skip", late_by=late_by)


def next_occurrence(setting: DigestSetting, now: datetime) -> Occurrence | None:
    """The first occurrence strictly after ``now`` (None for a disabled setting)."""
    today = _local_today(setting, now)
    # Start a day early: a moment shifted across midnight by a gap could belong to yesterday's date.
    for ahead in range(-1, _LOOKAHEAD_DAYS + 1):
        found = occurrence_on(setting, today + timedelta(days=ahead))
        if found is not None and found.due_at > now:
            return found
    return None


_TIME = re.compile(
    r"(?P<hour>\d{1,2})(?:[:.](?P<minute>\d{2}))?\s*(?:(?P<ampm>[ap])\.?m\.?)?"
    r"|(?P<hhmm_hour>\d{2})(?P<hhmm_minute>\d{2})",
    re.IGNORECASE,
)


def parse_local_time(text: str) -> time | None:
    """A wall-clock time as people type it, or None.

    Accepted: 24-hour ``09:00``, ``9:00``, ``21:15``, ``9.30``; four digits ``0900`` / ``2115``; 12-hour
    ``9am``, ``9 am``, ``9:30pm``, ``12am`` (midnight), ``12pm`` (noon), ``a.m.``/``p.m.``. A bare hour
    without am/pm (``9``) is refused as ambiguous, as are ``24:00``, ``25:00``, ``9:60``, ``13pm``, ``0am``
    and seconds.
    """
    m = _TIME.fullmatch(text.strip())
    if m is None:
        return None
    if m["hhmm_hour"] is not None:
        hour, minute = int(m["hhmm_hour"]), int(m["hhmm_minute"])
    else:
        hour, minute = int(m["hour"]), int(m["minute"] or 0)
        if m["ampm"] is not None:
            if not 1 <= hour <= 12:
                return None
            hour = hour % 12 + (12 if m["ampm"].lower() == "p" else 0)
        elif m["minute"] is None:
            return None
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)
