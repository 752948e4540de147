"""``/baton digest ...``: the arguments read into a :class:`DigestCommand`, and a setting described in one line.

The text parsed is what follows the word ``digest``. Keywords are case-insensitive; a time zone is an IANA
name (``Europe/Berlin``, any case); without one the caller uses the configuring user's Slack time zone::

    ""                                  show this channel's digest
    "now" / "off"                       send one now / turn it off
    "daily 09:00 [Europe/Berlin]"       set (also "weekdays 8:30am", "daily 9:30 pm")
    "me", "me now", "me off", "me daily 09:00 [zone]"
                                        the same for the caller's personal digest by DM

Anything else raises :class:`DigestCommandError` (a ``ValueError``) whose ``reason`` is a short sentence for
the user followed by :data:`DIGEST_USAGE`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from core.digest.facts import DigestSetting, Occurrence, Schedule
from core.digest.schedule import effective_zone, parse_local_time

__all__ = ["DIGEST_USAGE", "DigestAction", "DigestCommand", "DigestCommandError", "describe", "parse_digest_command"]

DigestAction = Literal["show", "set", "off", "now"]

DIGEST_USAGE = """Usage:
• `/baton digest` shows this channel's digest
• `/baton digest daily 09:00 [Europe/Berlin]` posts one here every day at 09:00 (in your Slack time zone \
unless you name one)
• `/baton digest weekdays 08:30 [America/New_York]` posts one here Monday to Friday
• `/baton digest now` posts one now
• `/baton digest off` turns it off
• `/baton digest me`, `me daily 09:00 [zone]`, `me weekdays 08:30 [zone]`, `me now`, `me off` do the same \
for your personal digest by DM
Times can be written 09:00, 9:30pm, 9am or 0900."""

_SCHEDULES: dict[str, Schedule] = {"daily": "daily", "weekdays": "weekdays"}
_AM_PM = frozenset({"am", "pm", "a.m.", "p.m."})
_WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class DigestCommandError(ValueError):
    """The arguments are not a digest command; ``reason`` is the reply for the user (problem plus usage)."""

    def __init__(self, problem: str) -> None:
        self.problem = problem
        self.reason = f"{problem}\n{DIGEST_USAGE}"
        super().__init__(self.reason)


@dataclass(frozen=True)
class DigestCommand:
    """A parsed ``/baton digest`` command. For ``set``, ``tz`` None means the user's Slack time zone."""

    action: DigestAction
    personal: bool
    schedule: Schedule | None = None
    local_time: time | None = None
    tz: str | None = None


@lru_cache(maxsize=1)
def _zones_by_lower_name() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def canonical_zone(name: str) -> str | None:
    """The IANA zone name as spelled in the tz database (``europe/berlin`` -> ``Europe/Berlin``), or None."""
    found = _zones_by_lower_name().get(name.lower())
    if found is not None:
        return found
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def _no_more(words: list[str], after: str) -> None:
    if words:
        raise DigestCommandError(f"I don't understand `{' '.join(words)}` after `{after}`.")


def _parse_set(schedule: Schedule, words: list[str], personal: bool) -> DigestCommand:
    if not words:
        raise DigestCommandError(f"`{schedule}` needs a time, like `{schedule} 09:00`.")
    time_text, rest = words[0], words[1:]
    if rest and rest[0].lower() in _AM_PM:  # "9:30 pm"
        time_text, rest = f"{time_text} {rest[0]}", rest[1:]
    local_time = parse_local_time(time_text)
    if local_time is None:
        raise DigestCommandError(f"`{time_text}` is not a time.")
    tz: str | None = None
    if rest:
        tz = canonical_zone(rest[0])
        if tz is None:
            raise DigestCommandError(f"`{rest[0]}` is not a time zone I know; use an IANA name like `Europe/Berlin`.")
        rest = rest[1:]
    _no_more(rest, f"{schedule} {time_text}" + (f" {tz}" if tz else ""))
    return DigestCommand(action="set", personal=personal, schedule=schedule, local_time=local_time, tz=tz)


def parse_digest_command(text: str) -> DigestCommand:
    """Read the arguments after ``/baton digest``; raises :class:`DigestCommandError` for anything else."""
    words = text.split()
    personal = bool(words) and words[0].lower() == "me"
    if personal:
        words = words[1:]
    if not words:
        return DigestCommand(action="show", personal=personal)
    keyword, rest = words[0].lower(), words[1:]
    if keyword in ("now", "off"):
        _no_more(rest, keyword)
        return DigestCommand(action="now" if keyword == "now" else "off", personal=personal)
    if keyword in _SCHEDULES:
        return _parse_set(_SCHEDULES[keyword], rest, personal)
    if parse_local_time(words[0]) is not None:
        raise DigestCommandError(f"Say how often first, like `daily {words[0]}` or `weekdays {words[0]}`.")
    raise DigestCommandError(f"I don't understand `{words[0]}`.")


def _when(occurrence: Occurrence, tz: str) -> str:
    local = occurrence.due_at.astimezone(effective_zone(tz))
    weekday, month = _WEEKDAY_NAMES[local.weekday()], _MONTH_NAMES[local.month - 1]
    return f"{weekday} {local.day} {month} {local:%H:%M}"


def describe(setting: DigestSetting, *, next_at: Occurrence | None) -> str:
    """One line for users, e.g. ``Daily at 09:00 (Europe/Berlin) in this channel; next: Mon 23 Nov 09:00.``

    Times are shown in the zone the schedule really uses (UTC for an unknown name). A disabled setting
    reads ``Off.`` or ``Off (channel archived).`` with its reason.
    """
    if not setting.enabled:
        reason = (setting.disabled_reason or "").replace("_", " ").strip()
        return f"Off ({reason})." if reason else "Off."
    tz = effective_zone(setting.tz).key
    label = "Daily" if setting.schedule == "daily" else "Weekdays"
    where = "in this channel" if setting.kind == "channel" else "by DM"
    line = f"{label} at {setting.local_time:%H:%M} ({tz}) {where}"
    return f"{line}; next: {_when(next_at, tz)}." if next_at is not None else f"{line}."
