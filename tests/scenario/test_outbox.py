"""Replies through the Slack outbox (workers/outbox.py): a job whose channel's turn is later returns at once, and
the reply lands at its turn exactly once, in order within its thread, also when its job is lost or runs twice."""

from __future__ import annotations

import contextlib
import time
from datetime import timedelta

from rq.registry import ScheduledJobRegistry
from rq.scheduler import RQScheduler

from connectors.slack_once import post_once
from core import defaults
from memory import requests
from tests.scenario.loop_helpers import plan_row
from tests.scenario.meeting_helpers import MONDAY, create_followups, set_clock, tick
from tests.scenario.meeting_helpers import replies as meeting_replies
from tests.scenario.test_meeting_followups import _summarised
from tests.scenario.test_outage_parking import approved_plan, reports
from workers.api import enqueue_job, get_queue
from workers.cards import reply_in_thread
from workers.job_context import install
from workers.memories.flows import FACT_LIMIT
from workers.outbox import send_post
from workers.planning.interim import InterimNotice, interim_key
from workers.reconcile import reconcile
from workers.throttle import NotYourTurn, take_turn

TEAM = "T0LOCAL"


def _thread(bot, channel="C0GENERAL"):
    """A message to reply under (posted straight to the workspace, outside the channel's line)."""
    return str(bot.context().slack.chat_postMessage(channel=channel, text="the question")["ts"])


def _busy(bot, channel, *, turns=1):
    """Someone else has just taken the channel's current turn (and ``turns - 1`` after it)."""
    for n in range(turns):
        with contextlib.suppress(NotYourTurn):  # a later turn, held for that holder: the line is longer, the point
            take_turn(bot.redis, channel, holder=f"someone-else-{n}", interval=bot.post_interval)


def _replies(bot, channel, thread_ts):
    return [m["text"] for m in bot.slack.messages(channel) if m.get("thread_ts") == thread_ts and m["ts"] != thread_ts]


def _rows(db):
    return db.execute("SELECT id, state, due_at, posted_ts, attempts FROM slack_outbox ORDER BY id").fetchall()


def _run_scheduled(bot, *, timeout=8.0, queue_name="plans"):
    """What RQ's scheduler in a `baton worker` does as deferred jobs fall due, then run them; returns when each
    chat.postMessage was answered (monotonic seconds)."""
    queue = get_queue(queue_name, connection=bot.redis)
    scheduler = RQScheduler([queue], connection=bot.redis)
    scheduler.prepare_registries([queue.name])
    deadline = time.monotonic() + timeout
    seen = len(bot.slack.calls_to("chat.postMessage"))
    landed: list[float] = []
    while ScheduledJobRegistry(queue=queue).count and time.monotonic() < deadline:
        scheduler.enqueue_scheduled_jobs()
        bot.run_jobs()
        now_seen = len(bot.slack.calls_to("chat.postMessage"))
        landed += [time.monotonic()] * (now_seen - seen)
        seen = now_seen
        time.sleep(0.02)
    assert ScheduledJobRegistry(queue=queue).count == 0
    return landed


def test_a_reply_whose_turn_is_later_returns_at_once_and_lands_at_its_turn_exactly_once(bot, db):
    bot.post_interval = 1.0
    ctx = bot.context()
    install(ctx)
    thread = _thread(bot)
    _busy(bot, "C0GENERAL")
    start = time.monotonic()
    reply_in_thread(ctx, team_id=TEAM, channel="C0GENERAL", thread_ts=thread, key="refusal:req-1", text="No.")
    assert time.monotonic() - start < 0.2  # the turn is ~1 s away: nobody slept for it
    assert _replies(bot, "C0GENERAL", thread) == []
    [row] = _rows(db)
    assert row["state"] == "pending" and row["due_at"] > ctx.now() + timedelta(seconds=0.5)

    landed = _run_scheduled(bot)

    assert _replies(bot, "C0GENERAL", thread) == ["No."]
    assert landed and landed[0] - start >= 0.9  # at its turn, not before
    [row] = _rows(db)
    assert row["state"] == "posted" and row["posted_ts"]
    # The job again (a redelivery), and the job that made the reply again: still one reply.
    enqueue_job(bot.redis, "post_outbox", row["id"])
    bot.run_jobs()
    reply_in_thread(ctx, team_id=TEAM, channel="C0GENERAL", thread_ts=thread, key="refusal:req-1", text="No.")
    assert _replies(bot, "C0GENERAL", thread) == ["No."]
    # A day on, the recovery pass deletes the done row: long past any rerun that could need its key.
    assert reconcile((ctx.now() + timedelta(hours=23)).isoformat())["outbox"] == [] and len(_rows(db)) == 1
    reconcile((ctx.now() + timedelta(hours=25)).isoformat())
    assert _rows(db) == []


def test_a_job_refusing_in_a_busy_channel_finishes_without_waiting_for_the_turn(bot, db):
    bot.post_interval = 3.0
    _busy(bot, "C0GENERAL")
    delivery = bot.slack.post_as_user("U0ALICE", "C0GENERAL", "<@U0BATON> remember " + "x" * (FACT_LIMIT + 1))
    assert all(r.status == 200 for r in delivery.responses)
    start = time.monotonic()
    assert bot.run_jobs(wait_for=1) == 1
    took = time.monotonic() - start
    assert took < 1.5, f"plan_request took {took:.2f} s with its reply's turn 3 s away"
    assert db.execute("SELECT status FROM requests").fetchone()["status"] == "refused"
    assert not [c for c in bot.slack.calls_to("chat.postMessage") if "too long to remember" in c.params.get("text", "")]
    _run_scheduled(bot)
    posted = [c for c in bot.slack.calls_to("chat.postMessage") if "too long to remember" in c.params.get("text", "")]
    assert len(posted) == 1


def test_two_replies_in_one_thread_appear_in_the_order_they_were_made(bot, db):
    bot.post_interval = 0.5
    ctx = bot.context()
    install(ctx)
    thread = _thread(bot)
    start = time.monotonic()
    _busy(bot, "C0GENERAL")
    for n in range(3):
        reply_in_thread(ctx, team_id=TEAM, channel="C0GENERAL", thread_ts=thread, key=f"r{n}", text=f"reply {n}")
    # Only the thread's first reply holds a turn; the others wait behind it, not on a turn of their own.
    assert len(ScheduledJobRegistry(queue=get_queue("plans", connection=bot.redis))) == 1

    landed = _run_scheduled(bot)

    assert _replies(bot, "C0GENERAL", thread) == ["reply 0", "reply 1", "reply 2"]
    # Each on its own turn of the line (0.5, 1.0 and 1.5 s after the busy one): the last one not before its turn.
    # (Two may land closer than 0.5 s: a deferred job runs up to a second late, and the line does not wait to
    # make up for that.)
    assert landed[-1] - start >= 1.4
    assert {row["state"] for row in _rows(db)} == {"posted"}


def test_a_busy_channel_does_not_hold_up_another_channels_reply(bot, db):
    bot.post_interval = 2.0
    ctx = bot.context()
    install(ctx)
    busy, idle = _thread(bot, "C0GENERAL"), _thread(bot, "C0OPS")
    _busy(bot, "C0GENERAL", turns=3)
    reply_in_thread(ctx, team_id=TEAM, channel="C0GENERAL", thread_ts=busy, key="busy", text="later")
    start = time.monotonic()
    reply_in_thread(ctx, team_id=TEAM, channel="C0OPS", thread_ts=idle, key="idle", text="now")
    assert time.monotonic() - start < 0.2
    assert _replies(bot, "C0OPS", idle) == ["now"]  # posted by the job itself: its channel's turn was free
    assert _replies(bot, "C0GENERAL", busy) == []


def test_a_reply_whose_job_was_lost_is_posted_once_by_the_recovery_pass(bot, db):
    bot.post_interval = 30.0  # its turn is far off
    ctx = bot.context()
    install(ctx)
    thread = _thread(bot)
    _busy(bot, "C0GENERAL")
    reply_in_thread(ctx, team_id=TEAM, channel="C0GENERAL", thread_ts=thread, key="lost", text="still here")
    reply_in_thread(ctx, team_id=TEAM, channel="C0GENERAL", thread_ts=thread, key="lost-2", text="and me")
    registry = ScheduledJobRegistry(queue=get_queue("plans", connection=bot.redis))
    for job_id in registry.get_job_ids():
        registry.remove(job_id, delete_job=True)  # Redis lost the deferred job
    bot.redis.delete(*bot.redis.keys("baton:throttle:*"))  # and the line with it
    assert reconcile()["outbox"] == []  # not due yet: its own job would post it
    due = _rows(db)[0]["due_at"]
    later = due + timedelta(seconds=defaults.RECONCILE_GRACE_SECONDS + 1)
    assert reconcile(later.isoformat())["outbox"] == [_rows(db)[0]["id"]]  # the thread's first reply only
    bot.clock.advance(seconds=(later - ctx.now()).total_seconds())
    bot.run_jobs(wait_for=1)
    assert _replies(bot, "C0GENERAL", thread) == ["still here"]
    # The second reply now has its own turn (the channel's next, 30 s on) and a job for it.
    assert [row["state"] for row in _rows(db)] == ["posted", "pending"] and registry.count == 1
    assert reconcile(later.isoformat())["outbox"] == []  # once posted, never again


def test_a_reply_posted_by_a_worker_that_died_before_recording_it_is_found_not_posted_again(bot, db):
    bot.post_interval = 30.0
    ctx = bot.context()
    install(ctx)
    thread = _thread(bot)
    _busy(bot, "C0GENERAL")
    reply_in_thread(ctx, team_id=TEAM, channel="C0GENERAL", thread_ts=thread, key="died", text="once")
    [row] = _rows(db)
    # The killed worker's try: counted, posted, never recorded.
    db.execute("UPDATE slack_outbox SET attempts = 1, due_at = now() - interval '1 minute' WHERE id = %s", (row["id"],))
    post_once(ctx.slack, channel="C0GENERAL", key="died", doing="test", thread_ts=thread, text="once")
    bot.redis.delete(*bot.redis.keys("baton:throttle:*"))
    enqueue_job(bot.redis, "post_outbox", row["id"])
    bot.run_jobs()
    assert _replies(bot, "C0GENERAL", thread) == ["once"]
    assert _rows(db)[0]["state"] == "posted"


def test_slack_failing_a_reply_for_now_puts_it_off_and_refusing_it_for_good_lets_the_thread_go_on(bot, db):
    ctx = bot.context()
    install(ctx)
    thread = _thread(bot)
    bot.slack.inject("chat.postMessage", status=503)
    reply_in_thread(ctx, team_id=TEAM, channel="C0GENERAL", thread_ts=thread, key="limited", text="after 503")
    [row] = _rows(db)
    assert row["state"] == "pending" and row["due_at"] > ctx.now() + timedelta(seconds=10)  # 15 s, the first put-off
    bot.clock.advance(seconds=20)
    enqueue_job(bot.redis, "post_outbox", row["id"])
    bot.run_jobs()
    assert _replies(bot, "C0GENERAL", thread) == ["after 503"]
    bot.slack.inject("chat.postMessage", error="is_archived")
    reply_in_thread(ctx, team_id=TEAM, channel="C0GENERAL", thread_ts=thread, key="refused", text="never")
    reply_in_thread(ctx, team_id=TEAM, channel="C0GENERAL", thread_ts=thread, key="next", text="next")
    assert [row["state"] for row in _rows(db)] == ["posted", "failed", "posted"]
    assert _replies(bot, "C0GENERAL", thread) == ["after 503", "next"]


def _request(bot, db, n):
    delivery = bot.slack.post_as_user("U0ALICE", "C0GENERAL", f"<@U0BATON> post Release {n} is out to <#C0OPS|ops>")
    assert all(r.status == 200 for r in delivery.responses)
    row = db.execute("SELECT id FROM requests ORDER BY id DESC LIMIT 1").fetchone()
    return requests.load_request(db, row["id"])


def test_a_still_working_message_waits_for_its_turn_without_holding_up_the_job(bot, db):
    bot.post_interval = 0.6
    ctx = bot.context()
    install(ctx)
    first, second = _request(bot, db, 1), _request(bot, db, 2)
    _busy(bot, "C0GENERAL")
    notice = InterimNotice(ctx, first, after=0.05)
    with notice:
        time.sleep(0.3)  # planning; the message's turn is still ~0.3 s away
        start = time.monotonic()
    assert time.monotonic() - start < 0.1  # the planning job's end did not wait for the turn
    time.sleep(0.5)
    assert [c for c in bot.slack.calls_to("chat.postMessage") if c.params.get("metadata")] == []  # closed first

    _busy(bot, "C0GENERAL")
    with InterimNotice(ctx, second, after=0.05):
        time.sleep(1.5)  # slow planning: the message is posted at its turn
        posted = [c for c in bot.slack.calls_to("chat.postMessage") if c.params.get("metadata")]
        assert [c.params["metadata"]["event_payload"]["key"] for c in posted] == [interim_key(second.id)]
    assert [c.params["ts"] for c in bot.slack.calls_to("chat.delete")] == [posted[0].response["ts"]]


def test_a_message_with_blocks_keeps_them_while_it_waits_for_its_turn(bot, db):
    bot.post_interval = 0.5
    ctx = bot.context()
    install(ctx)
    thread = _thread(bot)
    _busy(bot, "C0GENERAL")
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Step 1* did not run"}}]
    send_post(ctx, team_id=TEAM, channel="C0GENERAL", thread_ts=thread, key="blocks", text="Step 1", blocks=blocks)
    assert _replies(bot, "C0GENERAL", thread) == []
    _run_scheduled(bot)
    [message] = [m for m in bot.slack.messages("C0GENERAL") if m.get("thread_ts") == thread and m["ts"] != thread]
    assert message["blocks"] == blocks and message["text"] == "Step 1"


def test_a_final_report_whose_turn_is_later_is_posted_at_its_turn_by_the_plans_runner_coming_back(bot, db):
    plan = approved_plan(bot, db)
    bot.post_interval = 2.0
    _busy(bot, "C0GENERAL")
    start = time.monotonic()
    bot.run_jobs(wait_for=1)
    took = time.monotonic() - start
    assert took < 1.0, f"execute_plan took {took:.2f} s with its report's turn 2 s away"
    assert plan_row(db)["status"] == "succeeded" and reports(bot) == []
    [park] = db.execute("SELECT reason FROM parked_steps WHERE plan_id = %s", (plan["id"],)).fetchall()
    assert park["reason"] == "waiting for its turn"

    _run_scheduled(bot, queue_name="actions")

    assert len(reports(bot)) == 1
    assert db.execute("SELECT count(*) AS n FROM parked_steps").fetchone()["n"] == 0


def test_a_check_in_whose_turn_is_later_is_sent_at_its_turn_once_without_a_sleeping_worker(bot, db):
    meeting = _summarised(bot, db)
    assert create_followups(bot, meeting).status == 200
    bot.run_jobs(wait_for=1)
    set_clock(bot, MONDAY + timedelta(days=1, hours=-1, minutes=-55))  # Tuesday 08:05 UTC: the check-in is due
    bot.post_interval = 2.0
    _busy(bot, meeting["card_channel"])
    start = time.monotonic()
    tick(bot)
    assert time.monotonic() - start < 1.5  # its turn is 2 s away: the sender did not sleep for it
    assert meeting_replies(bot, meeting, containing="Check-in 2026-11-24") == []

    _run_scheduled(bot, queue_name="actions")
    tick(bot)

    assert len(meeting_replies(bot, meeting, containing="Check-in 2026-11-24")) == 1
    row = db.execute("SELECT status, message_ts FROM followups WHERE kind = 'checkin' ORDER BY run_at").fetchone()
    assert row["status"] == "sent" and row["message_ts"]
