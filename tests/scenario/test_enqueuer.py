"""The web process's enqueuer: calls made while a batch is on its way go together as the next one, on real Redis."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

from rq import Queue

from bot.enqueuer import BatchingEnqueuer
from core import correlation
from workers.api import JobRef, enqueue_jobs


def test_a_burst_is_enqueued_in_few_batches_each_job_once_with_its_own_correlation(redis_conn):
    batches: list[int] = []
    first_batch_sent = threading.Event()

    def enqueue_many(jobs: Sequence[JobRef]) -> None:
        batches.append(len(jobs))
        first_batch_sent.wait(5)  # the first batch is on its way while the rest of the burst arrives
        enqueue_jobs(redis_conn, jobs)

    enqueuer = BatchingEnqueuer(enqueue_many)

    async def listener(ident: int) -> None:
        correlation.set_current(f"slack-Ev{ident}")
        await enqueuer("plan_request", ident)

    async def burst() -> None:
        tasks = [asyncio.create_task(listener(1))]
        while not batches:  # the first event's batch is in its thread
            await asyncio.sleep(0.001)
        tasks += [asyncio.create_task(listener(ident)) for ident in range(2, 51)]
        await asyncio.sleep(0.05)
        first_batch_sent.set()
        await asyncio.gather(*tasks)

    asyncio.run(burst())
    assert batches == [1, 49]  # two thread hops and two Redis round trips for fifty events
    jobs = Queue("plans", connection=redis_conn).get_jobs()
    assert sorted(job.id for job in jobs) == sorted(f"plan_request-{ident}" for ident in range(1, 51))
    # Each job carries the id its own request implies, not the batch's or the first caller's.
    assert {job.meta["correlation_id"] for job in jobs} == {f"req-{ident}" for ident in range(1, 51)}


def test_the_same_job_twice_in_one_batch_is_one_job(redis_conn):
    enqueue_jobs(redis_conn, [JobRef("execute_plan", 7), JobRef("execute_plan", 7), JobRef("plan_request", 7)])
    assert [job.id for job in Queue("actions", connection=redis_conn).get_jobs()] == ["execute_plan-7"]
    assert [job.id for job in Queue("plans", connection=redis_conn).get_jobs()] == ["plan_request-7"]


def test_redis_down_fails_no_caller_and_the_next_batch_goes_through(redis_conn, caplog):
    down = True

    def enqueue_many(jobs: Sequence[JobRef]) -> None:
        if down:
            raise ConnectionError("redis is down")
        enqueue_jobs(redis_conn, jobs)

    enqueuer = BatchingEnqueuer(enqueue_many)
    asyncio.run(enqueuer("plan_request", 1))  # logged, not raised: the request stays for the reconciler
    assert "could not enqueue plan_request 1" in caplog.text
    down = False
    asyncio.run(enqueuer("plan_request", 2))
    assert [job.id for job in Queue("plans", connection=redis_conn).get_jobs()] == ["plan_request-2"]
