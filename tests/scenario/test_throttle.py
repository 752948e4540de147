"""Per-channel post spacing across workers (real Redis), and plan cards that wait for their turn in a job of
their own instead of a worker asleep on the throttle."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from rq.registry import ScheduledJobRegistry
from rq.scheduler import RQScheduler

from core import defaults
from tests.scenario.loop_helpers import card_posts
from workers.api import get_queue
from workers.job_context import install
from workers.reconcile import reconcile
from workers.throttle import NotYourTurn, take_turn, turn_delay, wait_turn

ASK = "<@U0BATON> post Release {n} is out to <#C0OPS|ops>"


def test_posts_to_one_channel_are_spaced_and_other_channels_are_not_held_up(redis_conn):
    start = time.monotonic()
    wait_turn(redis_conn, "C1", interval=0.3)
    wait_turn(redis_conn, "C2", interval=0.3)  # another channel: no wait
    assert time.monotonic() - start < 0.2
    wait_turn(redis_conn, "C1", interval=0.3)  # same channel: waits for the previous turn to pass
    assert time.monotonic() - start >= 0.28


def test_no_redis_or_zero_interval_never_blocks():
    start = time.monotonic()
    wait_turn(None, "C1", interval=5)
    take_turn(None, "C1", holder="h", interval=5)
    assert time.monotonic() - start < 0.05


def test_a_later_turn_is_raised_not_slept_and_held_for_its_holder(redis_conn):
    take_turn(redis_conn, "C1", holder="card-1", interval=0.5)  # the channel is free: at once
    start = time.monotonic()
    with pytest.raises(NotYourTurn) as second:
        take_turn(redis_conn, "C1", holder="card-2", interval=0.5)
    with pytest.raises(NotYourTurn) as third:
        take_turn(redis_conn, "C1", holder="card-3", interval=0.5)
    assert time.monotonic() - start < 0.1  # told, not put to sleep
    assert 0.4 < second.value.delay <= 0.5 and 0.9 < third.value.delay <= 1.0
    # Asking again keeps the place in line: the same slot, not a new one at the back.
    assert turn_delay(redis_conn, "C1", holder="card-2", interval=0.5) <= second.value.delay
    take_turn(redis_conn, "C2", holder="card-9", interval=0.5)  # other channels are not held up
    time.sleep(second.value.delay)
    take_turn(redis_conn, "C1", holder="card-2", interval=0.5)  # its turn has come
    # A blocking post takes the same line: after card-3's held slot, not before it.
    assert turn_delay(redis_conn, "C1", interval=0.5) > 0.4


def _ask(bot, n, channel="C0GENERAL"):
    delivery = bot.slack.post_as_user("U0ALICE", channel, ASK.format(n=n))
    assert all(r.status == 200 for r in delivery.responses)


def _run_scheduled(bot):
    """What RQ's scheduler in a `baton worker` does when the deferred jobs fall due, then run them."""
    queue = get_queue("plans", connection=bot.redis)
    scheduler = RQScheduler([queue], connection=bot.redis)
    scheduler.prepare_registries([queue.name])
    deadline = time.monotonic() + 5
    while ScheduledJobRegistry(queue=queue).count and time.monotonic() < deadline:
        scheduler.enqueue_scheduled_jobs()
        bot.run_jobs()
        time.sleep(0.05)
    assert ScheduledJobRegistry(queue=queue).count == 0


def test_cards_in_a_busy_channel_wait_their_turn_without_holding_up_the_worker(bot, db):
    bot.post_interval = 0.4
    for n in range(3):
        _ask(bot, n)
    _ask(bot, 9, channel="C0OPS")
    start = time.monotonic()
    bot.run_jobs(wait_for=4)
    assert time.monotonic() - start < 2.0  # no job slept for its channel's turn (3 x 0.4 s would show)
    # One card per channel at once; the busy channel's others are scheduled for their turns.
    posted = {call.params["channel"] for call in card_posts(bot)}
    assert posted == {"C0GENERAL", "C0OPS"} and len(card_posts(bot)) == 2
    waiting = db.execute("SELECT id, card_due_at FROM plans WHERE card_ts IS NULL ORDER BY id").fetchall()
    assert len(waiting) == 2 and all(row["card_due_at"] is not None for row in waiting)
    assert {r["status"] for r in db.execute("SELECT status FROM requests").fetchall()} == {"planned"}

    _run_scheduled(bot)

    cards = [call for call in card_posts(bot) if call.params["channel"] == "C0GENERAL"]
    assert len(cards) == 3  # each plan's card exactly once
    assert db.execute("SELECT count(*) AS n FROM plans WHERE card_ts IS NULL").fetchone()["n"] == 0


def test_a_deferred_card_whose_job_was_lost_is_posted_by_the_recovery_pass(bot, db):
    bot.post_interval = 30.0  # the second card's turn is far off
    _ask(bot, 1)
    _ask(bot, 2)
    bot.run_jobs(wait_for=2)
    assert len(card_posts(bot)) == 1
    queue = get_queue("plans", connection=bot.redis)
    registry = ScheduledJobRegistry(queue=queue)
    for job_id in registry.get_job_ids():
        registry.remove(job_id, delete_job=True)  # Redis lost the deferred job
    bot.redis.delete(*bot.redis.keys("baton:throttle:*"))  # and the line with it
    install(bot.context())
    assert reconcile()["cards"] == []  # not due yet: its own job would post it
    due = db.execute("SELECT card_due_at FROM plans WHERE card_ts IS NULL").fetchone()["card_due_at"]
    later = due + timedelta(seconds=defaults.RECONCILE_GRACE_SECONDS + 1)
    recovered = reconcile(later.isoformat())["cards"]
    assert len(recovered) == 1
    bot.run_jobs(wait_for=1)
    assert len(card_posts(bot)) == 2
    assert reconcile(later.isoformat())["cards"] == []  # once posted, never again
