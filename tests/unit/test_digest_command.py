"""``/baton digest ...``: every command form, the errors users see, and the one-line description."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time

import pytest

from core.digest.command import DIGEST_USAGE, DigestCommand, DigestCommandError, describe, parse_digest_command
from core.digest.facts import DigestSetting, Occurrence
from core.digest.schedule import next_occurrence


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", DigestCommand("show", personal=False)),
        ("   ", DigestCommand("show", personal=False)),
        ("now", DigestCommand("now", personal=False)),
        ("NOW", DigestCommand("now", personal=False)),
        ("off", DigestCommand("off", personal=False)),
        ("daily 09:00", DigestCommand("set", personal=False, schedule="daily", local_time=time(9))),
        ("weekdays 08:30", DigestCommand("set", personal=False, schedule="weekdays", local_time=time(8, 30))),
        (
            "daily 09:00 Europe/Berlin",
            DigestCommand("set", personal=False, schedule="daily", local_time=time(9), tz="Europe/Berlin"),
        ),
        (
            "Weekdays 9:30pm america/new_york",
            DigestCommand("set", personal=False, schedule="weekdays", local_time=time(21, 30), tz="America/New_York"),
        ),
        ("DAILY 9 am", DigestCommand("set", personal=False, schedule="daily", local_time=time(9))),
        (
            "daily 9:30 pm UTC",
            DigestCommand("set", personal=False, schedule="daily", local_time=time(21, 30), tz="UTC"),
        ),
        ("daily 0715", DigestCommand("set", personal=False, schedule="daily", local_time=time(7, 15))),
        ("me", DigestCommand("show", personal=True)),
        ("Me now", DigestCommand("now", personal=True)),
        ("me off", DigestCommand("off", personal=True)),
        ("me daily 09:00", DigestCommand("set", personal=True, schedule="daily", local_time=time(9))),
        (
            "me weekdays 08:30 Pacific/Auckland",
            DigestCommand("set", personal=True, schedule="weekdays", local_time=time(8, 30), tz="Pacific/Auckland"),
        ),
    ],
)
def test_every_command_form_parses(text: str, expected: DigestCommand):
    assert parse_digest_command(text) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("daily 09:75", "`09:75` is not a time."),
        ("weekdays 24:00", "`24:00` is not a time."),
        ("daily 9", "`9` is not a time."),
        ("daily", "`daily` needs a time, like `daily 09:00`."),
        ("me weekdays", "`weekdays` needs a time, like `weekdays 09:00`."),
        ("daily 09:00 Mars/Olympus", "`Mars/Olympus` is not a time zone I know"),
        ("daily 09:00 Europe/Berlin please", "I don't understand `please` after `daily 09:00 Europe/Berlin`."),
        ("now please", "I don't understand `please` after `now`."),
        ("me off now", "I don't understand `now` after `off`."),
        ("hourly 09:00", "I don't understand `hourly`."),
        ("me me", "I don't understand `me`."),
        ("09:00 daily", "Say how often first, like `daily 09:00`"),
        ("weekly 09:00", "I don't understand `weekly`."),
    ],
)
def test_bad_commands_say_what_is_wrong_and_show_usage(text: str, problem: str):
    with pytest.raises(DigestCommandError) as caught:
        parse_digest_command(text)
    assert caught.value.problem.startswith(problem)
    assert caught.value.reason.startswith(problem)
    assert caught.value.reason.endswith(DIGEST_USAGE)
    assert str(caught.value) == caught.value.reason
    assert isinstance(caught.value, ValueError)


def test_usage_lists_every_form():
    forms = ("`/baton digest`", "daily 09:00", "weekdays 08:30", "digest now", "digest off", "digest me`")
    for form in (*forms, "me daily 09:00", "me weekdays", "me now", "me off"):
        assert form in DIGEST_USAGE


BERLIN_DAILY = DigestSetting(
    team_id="T1", target="C1", kind="channel", schedule="daily", local_time=time(9), tz="Europe/Berlin"
)


def test_describe_a_channel_digest_with_its_next_send_in_local_time():
    upcoming = next_occurrence(BERLIN_DAILY, datetime(2026, 11, 22, 12, tzinfo=UTC))
    expected = "Daily at 09:00 (Europe/Berlin) in this channel; next: Mon 23 Nov 09:00."
    assert describe(BERLIN_DAILY, next_at=upcoming) == expected


def test_describe_a_personal_weekday_digest_by_dm():
    setting = replace(
        BERLIN_DAILY, kind="personal", target="U1", schedule="weekdays", local_time=time(8, 30), tz="America/New_York"
    )
    # Friday evening in New York: next is Monday, after the fall-back change.
    upcoming = next_occurrence(setting, datetime(2026, 10, 30, 22, tzinfo=UTC))
    assert upcoming == Occurrence(date(2026, 11, 2), datetime(2026, 11, 2, 13, 30, tzinfo=UTC))
    assert describe(setting, next_at=upcoming) == "Weekdays at 08:30 (America/New_York) by DM; next: Mon 2 Nov 08:30."


def test_describe_without_a_next_send_and_in_an_unknown_zone():
    assert describe(replace(BERLIN_DAILY, tz="Mars/Olympus"), next_at=None) == "Daily at 09:00 (UTC) in this channel."


def test_describe_a_disabled_digest_with_and_without_a_reason():
    for reason in ("channel archived", "channel_archived"):
        off = replace(BERLIN_DAILY, enabled=False, disabled_reason=reason)
        assert describe(off, next_at=None) == "Off (channel archived)."
    # A stale next_at is ignored for a disabled setting.
    off = replace(BERLIN_DAILY, enabled=False)
    assert describe(off, next_at=Occurrence(date(2026, 11, 23), datetime(2026, 11, 23, 8, tzinfo=UTC))) == "Off."
