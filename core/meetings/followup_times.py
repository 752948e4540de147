"""When follow-ups go out: a reminder the working day before an item is due, a check-in on the due date.

Both are sent at a fixed local hour in a named time zone (the owner's for reminders, the meeting
uploader's for check-ins), computed per date with ``zoneinfo``, so 09:00 stays 09:00 local across
daylight-saving changes. Pure: ``now`` is passed in.
"""

from __future__ import annotations

from datetime import date, datetime, time, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.dates import next_working_day, working_day_before

#: Local hour at which reminders and check-ins are sent.
FOLLOWUP_HOUR = 9


def zone(name: str | None) -> tzinfo:
    """The named time zone, or UTC for an unknown or missing name."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_moment(day: date, tz_name: str | None, *, hour: int = FOLLOWUP_HOUR) -> datetime:
    """``hour``:00 on ``day`` in the zone (a non-existent local time moves forward, as zoneinfo does)."""
    return datetime.combine(day, time(hour), tzinfo=zone(tz_name))


def reminder_at(due: date, tz_name: str | None, *, now: datetime, hour: int = FOLLOWUP_HOUR) -> datetime | None:
    """When to remind an owner of an item due on ``due``; None when it is too late to be useful.

    Normally the working day before at ``hour``. Approved after that moment but before the due date's
    start, the reminder goes at once; on or after the due date there is no reminder (the check-in
    on the due date covers it).
    """
    planned = local_moment(working_day_before(due), tz_name, hour=hour)
    if now <= planned:
        return planned
    due_start = datetime.combine(due, time(0), tzinfo=zone(tz_name))
    return now if now < due_start else None


def checkin_at(due: date, tz_name: str | None, *, now: datetime, hour: int = FOLLOWUP_HOUR) -> datetime:
    """When to check in about items due on ``due``: that day at ``hour``, or now if that has passed."""
    return max(local_moment(due, tz_name, hour=hour), now)


def next_checkin_day(after: date) -> date:
    """Open items are asked about again on the next working day."""
    return next_working_day(after)


def local_date(moment: datetime, tz_name: str | None) -> date:
    """The calendar date of ``moment`` in the zone."""
    return moment.astimezone(zone(tz_name)).date()


def snoozed_due(today: date) -> date:
    """A snoozed item is due on the next working day after today."""
    return next_working_day(today)


__all__ = [
    "FOLLOWUP_HOUR",
    "checkin_at",
    "local_date",
    "local_moment",
    "next_checkin_day",
    "reminder_at",
    "snoozed_due",
    "zone",
]
