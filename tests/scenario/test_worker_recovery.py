"""The recovery pass every worker runs between jobs: one pass per interval across workers, and a warm shutdown
asked for during a pass is kept, not lost."""

from __future__ import annotations

import pytest
from rq import Queue
from rq.exceptions import StopRequested
from rq.utils import now

from workers.job_context import install
from workers.rq_worker import RECOVERY_GATE_KEY, BatonWorker


def worker(bot) -> BatonWorker:
    install(bot.context())
    return BatonWorker([Queue("plans", connection=bot.redis)], connection=bot.redis)


def test_one_pass_per_interval_however_many_workers_ask(bot, db):
    first, second = worker(bot), worker(bot)
    first.run_maintenance_tasks()
    second.run_maintenance_tasks()  # its own first pass, but inside the interval another worker's pass started
    assert bot.redis.pttl(RECOVERY_GATE_KEY) > 0
    assert db.execute("SELECT count(*) AS n FROM audit_log").fetchone()["n"] == 0  # nothing to recover anyway


def test_a_warm_shutdown_during_the_pass_stops_the_worker_after_it(bot, db, monkeypatch):
    w = worker(bot)
    asked: list[bool] = []

    def reconcile_then_sigterm(*args, **kwargs):
        w._shutdown_requested_date = now()  # what RQ's SIGTERM handler does, then it calls _shutdown
        w._shutdown()
        asked.append(w._stop_requested)
        return {}

    monkeypatch.setattr("workers.rq_worker.reconcile", reconcile_then_sigterm)
    with pytest.raises(StopRequested):
        w.run_maintenance_tasks()
    assert asked == [True]


def test_a_warm_shutdown_between_passes_stops_at_once_as_rq_does(bot, db):
    w = worker(bot)
    w._shutdown_requested_date = now()
    with pytest.raises(StopRequested):
        w._shutdown()
