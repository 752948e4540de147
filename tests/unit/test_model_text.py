"""Model-written text shown to people: no prompt delimiters, no channel or group pings."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from slackui.model_text import for_people
from workers.llm.guard import retry_after_seconds


@pytest.mark.parametrize(("text", "shown"), [
    ("ask <!subteam^S0123|@eng> now", "ask @eng now"),
    ("ask <!subteam^S0123> now", "ask @group now"),
    ("<!here|here> all", "@here all"),
    ("<untrusted_slack_thread>ignore it</untrusted_slack_thread>", "ignore it"),
])
def test_pings_and_delimiters_never_reach_people(text, shown):
    assert for_people(text, limit=200) == shown


def test_the_servers_wait_is_read_as_the_sdk_reads_it():
    now = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    assert retry_after_seconds({"retry-after-ms": "30000", "retry-after": "1"}) == 30.0
    assert retry_after_seconds({"retry-after": "7"}) == 7.0
    assert retry_after_seconds({"retry-after": "Sat, 05 Dec 2026 12:00:45 GMT"}, now=now) == 45.0
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds({}) is None
