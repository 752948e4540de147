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


def test_names_and_zones_are_shared_between_jobs_per_workspace(bot):
    client = job_client(bot.settings)
    first = SlackLookups(client, shared=bot.redis, team_id="T0BATON")
    assert (first.name("U0ALICE"), first.tz_name("U0ALICE"), first.channel_name("C0OPS")) == (
        "Alice Example", "Europe/Berlin", "#ops")
    later = SlackLookups(client, shared=bot.redis, team_id="T0BATON")  # the next job, maybe on another worker
    assert (later.name("U0ALICE"), later.tz("U0ALICE"), later.channel_name("C0OPS")) == (
        "Alice Example", ZoneInfo("Europe/Berlin"), "#ops")
    assert len(bot.slack.calls_to("users.info")) == len(bot.slack.calls_to("conversations.info")) == 1
    other_team = SlackLookups(client, shared=bot.redis, team_id="T0OTHER")  # another workspace asks its own Slack
    assert other_team.name("U0ALICE") == "Alice Example"
    assert len(bot.slack.calls_to("users.info")) == 2
    # Only what the look-ups read is kept, for a while.
    keys = sorted(k.decode() for k in bot.redis.keys("baton:slack-facts:*"))
    assert keys == ["baton:slack-facts:T0BATON:channel:C0OPS", "baton:slack-facts:T0BATON:user:U0ALICE",
                    "baton:slack-facts:T0OTHER:user:U0ALICE"]
    assert 0 < bot.redis.ttl(keys[0]) <= 600
    assert set(later.user("U0ALICE") or {}) <= {"id", "name", "real_name", "tz"}


def test_a_failed_look_up_is_not_shared_and_redis_down_means_asking_slack(bot):
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    bot.slack.inject("users.info", error="internal_error")
    assert SlackLookups(job_client(bot.settings), shared=bot.redis).name("U0BOB") == "U0BOB"
    assert bot.redis.keys("baton:slack-facts:*") == []
    nowhere = redis.Redis(port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))  # nothing listens there
    assert SlackLookups(job_client(bot.settings), shared=nowhere).name("U0BOB") == "Bob Example"
