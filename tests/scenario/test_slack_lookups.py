"""The jobs' Slack look-ups: asked once per job, best effort, and a failure is not remembered."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from connectors.slack_clients import job_client
from workers.slack_lookups import SlackLookups


def test_answers_are_asked_once_per_job(bot):
    lookups = SlackLookups(job_client(bot.settings))
    assert lookups.tz("U0ALICE") == ZoneInfo("Europe/Berlin")
    assert lookups.name("U0ALICE") == "Alice Example"
    posted = bot.slack.post_as_user("U0BOB", "C0OPS", "hello")
    assert lookups.permalink("C0OPS", posted.ts) == lookups.permalink("C0OPS", posted.ts) is not None
    assert len(bot.slack.calls_to("users.info")) == 1
    assert len(bot.slack.calls_to("chat.getPermalink")) == 1


def test_a_failed_look_up_falls_back_and_is_asked_again(bot):
    lookups = SlackLookups(job_client(bot.settings))
    bot.slack.inject("users.info", error="internal_error")
    assert lookups.tz("U0BOB") == ZoneInfo("UTC")  # Slack could not say: UTC, no failed job
    assert lookups.name("U0BOB") == "Bob Example"  # asked again, not the remembered failure
    assert lookups.tz_name("U0BOB") == "America/New_York"
    assert len(bot.slack.calls_to("users.info")) == 2
    assert lookups.name(None) == "someone" and lookups.permalink(None, "1.2") is None


def test_a_channel_name_is_asked_once_and_falls_back_to_the_id(bot):
    lookups = SlackLookups(job_client(bot.settings))
    assert lookups.channel_name("C0OPS") == lookups.channel_name("C0OPS") == "#ops"
    assert len(bot.slack.calls_to("conversations.info")) == 1
    assert lookups.channel_name("C0NOSUCH") == "C0NOSUCH"  # Slack would not say: the id, no failed job
