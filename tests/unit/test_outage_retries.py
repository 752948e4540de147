"""The waits and words of outage handling: database outages retried, parked steps, the give-up reason."""

from __future__ import annotations

import psycopg
import pytest
from psycopg_pool import PoolTimeout

from memory.db import is_outage
from slackui.replies import gave_up_retrying
from workers.outage_retry import outage_delay
from workers.parking import park_delay


def test_a_database_outage_is_told_apart_from_a_bug_or_a_refused_row():
    assert is_outage(psycopg.OperationalError("connection refused"))
    assert is_outage(PoolTimeout("couldn't get a connection after 1.00 sec"))
    assert is_outage(psycopg.errors.AdminShutdown("terminating connection due to administrator command"))
    assert is_outage(psycopg.errors.CannotConnectNow("the database system is shutting down"))
    assert is_outage(psycopg.errors.QueryCanceled("canceling statement due to statement timeout"))
    assert not is_outage(psycopg.errors.UniqueViolation("duplicate key"))
    assert not is_outage(ValueError("a bug"))


@pytest.mark.parametrize(("attempt", "seconds"), [(1, 2), (2, 4), (3, 8), (4, 16), (5, 30), (8, 30)])
def test_outage_retries_double_from_two_seconds_up_to_thirty(attempt, seconds):
    assert outage_delay(attempt) == seconds


@pytest.mark.parametrize(("parks", "seconds"), [(1, 15), (2, 30), (3, 60), (5, 240), (6, 300), (20, 300)])
def test_parked_steps_wait_from_fifteen_seconds_doubling_up_to_five_minutes(parks, seconds):
    assert park_delay(parks) == seconds


def test_a_parked_step_never_retries_before_the_retry_after_slack_asked_for():
    assert park_delay(1, retry_after=120.0) == 120
    assert park_delay(3, retry_after=1.0) == 60


@pytest.mark.parametrize(
    ("seconds", "said"),
    [
        (0, "gave up after 4 attempts"),
        (60, "retrying for 1 minute"),
        (3600, "retrying for 60 minutes"),
        (7200, "retrying for 2 hours"),
    ],
)
def test_the_give_up_reason_names_how_long_baton_kept_trying(seconds, said):
    text = gave_up_retrying("posting to <#C1>: Slack answered HTTP 500 (http_500)", seconds=seconds, attempts=4)
    assert text.startswith("posting to <#C1>: Slack answered HTTP 500") and said in text
