"""Clock times as transcripts write them (``00:01:02.500``, ``0:03``, ``00:00:01,000``), read as seconds."""

from __future__ import annotations

import re

#: A clock time inside a larger pattern: ``m:ss`` or ``h:mm:ss``, with optional ``.ms`` / ``,ms``.
#: Minutes and seconds take two digits here so that prose like "3:4" is not read as a time.
CLOCK = r"\d{1,3}(?::\d{2}){1,2}(?:[.,]\d{1,3})?"

# Looser than CLOCK on purpose: old Teams exports write "0:0:3.210", and a cue timing line is
# unambiguous, so single-digit fields are accepted when the whole string must be a time.
_CLOCK_PARTS = re.compile(r"(?:(\d+):)?(\d{1,2}):(\d{1,2})(?:[.,](\d{1,3}))?")


def parse_clock(value: str) -> float | None:
    """Seconds for a whole clock string such as ``00:01:02.500`` or ``1:02``; ``None`` if it is not one.

    Minutes and seconds of 60 or more are not a time (``00:00:75.000`` is malformed, not 75 seconds).
    """
    match = _CLOCK_PARTS.fullmatch(value.strip())
    if match is None:
        return None
    hours, minutes, seconds, fraction = match.groups()
    if int(minutes) >= 60 or int(seconds) >= 60:
        return None
    total = int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds)
    if fraction:
        total += int(fraction) / 10 ** len(fraction)
    return float(total)
