"""Daily digests through the real endpoint and the scheduler, with an injected clock: configured with
``/baton digest``, sent at most once per channel per local date (two schedulers racing, catch-up after
downtime, both sides of DST), skipped when empty, switched off when the channel is archived, and
posted once through Slack 429s."""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime, timedelta

from memory import digests
from tests.scenario.loop_helpers import eventually
from tests.scenario.meeting_helpers import MONDAY, create_followups, meeting_row, set_clock, tick, upload
from workers.job_context import install
from workers.scheduler import scheduler_tick


def command(bot, text, *, user="U0ALICE", channel="C0GENERAL"):
    answer = bot.slack.slash_command(user, channel, "/baton", text)
    assert answer.status == 200
    return answer


def digest_posts(bot, channel="C0GENERAL"):
    return [m for m in bot.slack.messages(channel) if (m.get("bot_id") and "digest" in (m.get("text") or "").lower())
            or any(b.get("type") == "header" and "digest" in json.dumps(b).lower() for b in m.get("blocks") or [])]


def configure(bot, text="digest daily 09:00", **kwargs):
    command(bot, text, **kwargs)
    bot.run_jobs()


def test_configure_show_and_switch_off(bot, db):
    set_clock(bot, MONDAY)
    configure(bot)
    setting = digests.load_setting(db, team_id="T0LOCAL", target="C0GENERAL")
    assert setting is not None and setting.enabled and setting.tz == "Europe/Berlin"  # Alice's Slack zone
    assert setting.local_time.isoformat() == "09:00:00" and setting.schedule == "daily"
    shown = command(bot, "digest")
    assert shown.status == 200
    configure(bot, "digest weekdays 08:30 America/New_York")
    setting = digests.load_setting(db, team_id="T0LOCAL", target="C0GENERAL")
    assert setting.tz == "America/New_York" and setting.schedule == "weekdays"
    configure(bot, "digest off")
    assert not digests.load_setting(db, team_id="T0LOCAL", target="C0GENERAL").enabled
    bad = command(bot, "digest daily 25:00")
    assert "Usage" in bad.body
    kinds = [r["kind"] for r in db.execute("SELECT kind FROM audit_log WHERE kind LIKE 'digest.%' ORDER BY id")]
    assert kinds == ["digest.configured", "digest.configured", "digest.off"]


def _with_activity(bot, db):
    """A pending high-risk plan, a meeting whose follow-ups exist, and a remembered fact."""
    set_clock(bot, MONDAY - timedelta(hours=3))  # Monday 07:00 UTC
    configure(bot)
    set_clock(bot, MONDAY)  # the day's work happens after that morning's digest time
    bot.slack.post_as_user("U0ALICE", "C0GENERAL", "<@U0BATON> post Release 1.2 is out to <#C0OPS|ops>")
    bot.run_jobs(wait_for=1)
    upload(bot)
    meeting = meeting_row(db)
    create_followups(bot, meeting)
    bot.run_jobs(wait_for=1)
    return meeting


def test_the_digest_goes_once_a_day_at_nine_local_even_with_two_schedulers(bot, db):
    _with_activity(bot, db)
    # Tuesday 08:01 UTC = 09:01 in Berlin: two scheduler processes tick at the same moment.
    set_clock(bot, MONDAY + timedelta(days=1, hours=-1, minutes=-59))
    contexts = [bot.context(), bot.context()]
    install(contexts[0])
    barrier = threading.Barrier(2)
    results: list[dict] = []

    def run(context) -> None:
        barrier.wait()
        results.append(scheduler_tick(context, now=context.now()))

    threads = [threading.Thread(target=run, args=(c,)) for c in contexts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(len(r["digests"]) for r in results) == [0, 1]
    bot.run_jobs()
    tick(bot)
    posts = digest_posts(bot)
    assert len(posts) == 1
    body = json.dumps(posts[0]["blocks"])
    assert "Post a message in" in body and "archives/C0GENERAL/p" in body  # waiting for approval, linked
    assert "Update the pricing page" in body and "<@U0BOB>" in body  # due today (Tuesday), owner mentioned
    assert "launch.vtt" in body  # meeting notes posted
    # Later the same day: nothing more; the next morning: one more.
    set_clock(bot, MONDAY + timedelta(days=1, hours=6))
    tick(bot)
    assert len(digest_posts(bot)) == 1
    set_clock(bot, MONDAY + timedelta(days=2, hours=-1, minutes=-59))
    tick(bot)
    assert len(digest_posts(bot)) == 2
    runs = db.execute("SELECT local_date, status FROM digest_runs WHERE trigger = 'scheduled' ORDER BY id").fetchall()
    assert [(str(r["local_date"]), r["status"]) for r in runs] == [("2026-11-24", "sent"), ("2026-11-25", "sent")]


def test_after_downtime_a_digest_within_the_grace_is_sent_once_and_an_older_one_skipped(bot, db, caplog):
    set_clock(bot, MONDAY - timedelta(hours=3))
    configure(bot)
    command(bot, "digest now")  # an on-demand digest does not use up the day's scheduled one
    bot.run_jobs()
    bot.slack.post_as_user("U0ALICE", "C0GENERAL", "<@U0BATON> post Release 1.2 is out to <#C0OPS|ops>")
    bot.run_jobs(wait_for=1)
    # Down from before 09:00 Berlin until 11:30 Berlin (2.5 h late): sent once.
    set_clock(bot, MONDAY + timedelta(minutes=30))
    tick(bot)
    tick(bot)
    assert db.execute("SELECT count(*) AS n FROM digest_runs WHERE trigger = 'scheduled' AND status = 'sent'"
                      ).fetchone()["n"] == 1
    # Down again until 13:30 Berlin the next day (4.5 h late): skipped, logged, not sent.
    with caplog.at_level(logging.WARNING, logger="workers.scheduler"):
        set_clock(bot, MONDAY + timedelta(days=1, hours=2, minutes=30))
        tick(bot)
        tick(bot)
    skipped = db.execute("SELECT status, error FROM digest_runs WHERE local_date = '2026-11-24'").fetchone()
    assert skipped["status"] == "skipped" and "missed by" in skipped["error"]
    assert any("missed by" in r.getMessage() for r in caplog.records)
    assert db.execute("SELECT count(*) AS n FROM digest_runs WHERE status = 'sent'").fetchone()["n"] == 2


def _sent_dates(db):
    rows = db.execute("SELECT local_date, due_at FROM digest_runs WHERE trigger = 'scheduled' AND status IN "
                      "('sent', 'empty') ORDER BY local_date").fetchall()
    return [(str(r["local_date"]), r["due_at"].astimezone(UTC).strftime("%H:%M")) for r in rows]


def test_nine_oclock_stays_nine_oclock_across_daylight_saving_changes(bot, db):
    spring = datetime(2026, 3, 27, 7, 0, tzinfo=UTC)
    set_clock(bot, spring)
    configure(bot, "digest daily 09:00 Europe/Berlin")
    # Every 30 minutes for three days across the spring-forward night of 2026-03-29.
    for step in range(3 * 48):
        set_clock(bot, spring + timedelta(minutes=30 * step))
        install(bot.context())
        scheduler_tick(bot.context(), now=bot.clock.now())
    bot.run_jobs()
    assert _sent_dates(db) == [("2026-03-27", "08:00"), ("2026-03-28", "08:00"), ("2026-03-29", "07:00")]


def test_fall_back_sends_once_at_nine_local(bot, db):
    autumn = datetime(2026, 10, 24, 6, 0, tzinfo=UTC)
    set_clock(bot, autumn)
    configure(bot, "digest daily 09:00 Europe/Berlin")
    for step in range(3 * 48):
        set_clock(bot, autumn + timedelta(minutes=30 * step))
        scheduler_tick(bot.context(), now=bot.clock.now())
    bot.run_jobs()
    assert _sent_dates(db) == [("2026-10-24", "07:00"), ("2026-10-25", "08:00"), ("2026-10-26", "08:00")]


def test_an_empty_scheduled_digest_is_skipped_but_digest_now_always_posts(bot, db):
    set_clock(bot, MONDAY - timedelta(hours=3))
    configure(bot)
    set_clock(bot, MONDAY - timedelta(hours=1, minutes=59))
    tick(bot)
    assert digest_posts(bot) == []
    assert db.execute("SELECT status FROM digest_runs").fetchone()["status"] == "empty"
    command(bot, "digest now")
    bot.run_jobs(wait_for=1)
    posts = digest_posts(bot)
    assert len(posts) == 1 and "Nothing new" in json.dumps(posts[0])


def test_an_archived_channel_switches_its_digest_off_with_a_log_line(bot, db, caplog):
    bot.slack.add_channel("C0ARCH", "old-project")
    set_clock(bot, MONDAY - timedelta(hours=3))
    configure(bot, channel="C0ARCH")
    command(bot, "digest now", channel="C0ARCH")
    bot.run_jobs()
    bot.slack.add_channel("C0ARCH", "old-project", is_archived=True)  # Slack now refuses posts: is_archived
    db.execute("UPDATE digest_settings SET last_sent_at = %s", (MONDAY - timedelta(days=2),))
    db.execute("INSERT INTO memories (team_id, scope, channel_id, text, kind, idempotency_key, created_at) "
               "VALUES ('T0LOCAL', 'channel', 'C0ARCH', 'The project is archived', 'fact', 'k1', %s)",
               (MONDAY - timedelta(hours=5),))
    with caplog.at_level(logging.WARNING, logger="workers.digest_sender"):
        set_clock(bot, MONDAY - timedelta(hours=1, minutes=59))
        tick(bot)
    setting = digests.load_setting(db, team_id="T0LOCAL", target="C0ARCH")
    assert not setting.enabled and "is_archived" in setting.disabled_reason
    assert any("switched off" in r.getMessage() for r in caplog.records)
    set_clock(bot, MONDAY + timedelta(days=1))
    tick(bot)
    assert db.execute("SELECT count(*) AS n FROM digest_runs WHERE target = 'C0ARCH' AND trigger = 'scheduled'"
                      ).fetchone()["n"] == 1


def test_slack_429_while_posting_is_waited_out_and_the_digest_goes_once(bot, db):
    _with_activity(bot, db)
    set_clock(bot, MONDAY + timedelta(days=1, hours=-1, minutes=-59))
    bot.slack.inject("chat.postMessage", status=429, retry_after=1)
    tick(bot)
    assert len(digest_posts(bot)) == 1
    statuses = [c.status for c in bot.slack.calls_to("chat.postMessage")]
    assert 429 in statuses


def test_a_personal_digest_comes_by_dm_with_only_their_items(bot, db):
    _with_activity(bot, db)
    configure(bot, "digest me weekdays 08:00", user="U0BOB")  # Bob is in New York
    set_clock(bot, MONDAY + timedelta(days=1, hours=3, minutes=1))  # Tue 13:01 UTC = 08:01 New York
    tick(bot)
    posts = digest_posts(bot, "D0BOB")
    assert len(posts) == 1
    body = json.dumps(posts[0]["blocks"])
    assert "Update the pricing page" in body and "launch checklist" not in body


def test_app_home_shows_open_items_approvals_and_digests(bot, db):
    _with_activity(bot, db)
    configure(bot, "digest me daily 08:00", user="U0BOB")
    db.execute("INSERT INTO policies (team_id, channel_id, policy) VALUES ('T0LOCAL', '', %s)",
               ('{"approvers": {"high": ["U0BOB"]}}',))
    bot.slack.deliver_event({"type": "app_home_opened", "user": "U0BOB", "channel": "D0BOB", "tab": "home",
                             "event_ts": "1700000000.000100"})
    bot.run_jobs(wait_for=1)
    view = eventually(lambda: bot.slack.views().get("U0BOB") or next(
        (c.params.get("view") for c in bot.slack.calls_to("views.publish")), None))
    text = json.dumps(view)
    assert "Update the pricing page" in text  # Bob's open item
    assert "Post a message in" in text  # waits for Bob's approval (designated high-risk approver)
    assert "By DM to you" in text


def test_with_a_model_it_writes_only_the_intro_from_the_facts(bot, db, fake_openai):
    bot.setting_changes = {"openai_api_key": fake_openai.api_key, "openai_base_url": fake_openai.base_url}
    fake_openai.respond_with(lambda body: {"intro": "Bob's pricing page update is due today. <!channel> look!"}
                             if "digest" in json.dumps(body["messages"]) else None)
    _with_activity(bot, db)
    fake_openai.reset()
    fake_openai.respond_with(lambda body: {"intro": "Bob's pricing page update is due today. <!channel> look!"})
    set_clock(bot, MONDAY + timedelta(days=1, hours=-1, minutes=-59))
    tick(bot)
    body = json.dumps(digest_posts(bot)[0]["blocks"])
    assert "pricing page update is due today" in body and "<!channel>" not in body
    request = fake_openai.chat_requests[-1].body
    facts = json.dumps(request["messages"])
    assert "<untrusted_digest_facts>" in facts and "Update the pricing page" in facts
    assert request["model"] == bot.settings.cheap_model
    assert db.execute("SELECT purpose FROM llm_calls WHERE purpose = 'digest'").fetchone() is not None
    # The facts section is the same as without a model: the model adds no item.
    assert body.count("Update the pricing page") == 1


def test_an_intro_echoing_the_prompts_delimiters_loses_them(bot, db, fake_openai):
    bot.setting_changes = {"openai_api_key": fake_openai.api_key, "openai_base_url": fake_openai.base_url}
    _with_activity(bot, db)
    fake_openai.reset()
    fake_openai.respond_with(lambda body: {"intro": "</untrusted_digest_facts> Bob's update is due today."})
    set_clock(bot, MONDAY + timedelta(days=1, hours=-1, minutes=-59))
    tick(bot)
    body = json.dumps(digest_posts(bot)[0]["blocks"])
    assert "update is due today" in body and "untrusted" not in body


def test_the_scheduler_process_loop_claims_due_digests(bot, db):
    from baton.worker_process import run_scheduler

    now = datetime.now(UTC)
    digests.save_setting(db, team_id="T0LOCAL", target="C0GENERAL", kind="channel", schedule="daily",
                         local_time=(now - timedelta(minutes=1)).time().replace(second=0, microsecond=0), tz="UTC",
                         configured_by="U0ALICE", now=now - timedelta(hours=1))
    slept: list[float] = []
    run_scheduler(bot.settings, interval=15, iterations=2, sleep=slept.append)
    assert slept == [15]
    runs = db.execute("SELECT trigger, status FROM digest_runs").fetchall()
    assert runs == [{"trigger": "scheduled", "status": "claimed"}]  # claimed once over two ticks, job queued
    assert bot.run_jobs() >= 2  # the digest sender and the reconciler


def test_a_digest_set_up_after_todays_time_starts_tomorrow(bot, db):
    set_clock(bot, MONDAY)  # 11:00 in Berlin: today's 09:00 has passed
    configure(bot)
    bot.slack.post_as_user("U0ALICE", "C0GENERAL", "<@U0BATON> post Release 1.2 is out to <#C0OPS|ops>")
    bot.run_jobs(wait_for=1)
    tick(bot)
    assert digest_posts(bot) == []  # not a "late" digest for a time before it was set up
    set_clock(bot, MONDAY + timedelta(days=1, hours=-1, minutes=-59))
    tick(bot)
    assert len(digest_posts(bot)) == 1
