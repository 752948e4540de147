"""The correlation id: context-local, inherited by tasks and threads, carried by jobs, chosen by rule."""

from __future__ import annotations

import asyncio
import threading

from core import correlation


def test_bind_sets_and_restores():
    assert correlation.get() is None
    with correlation.bind("req-1"):
        assert correlation.get() == "req-1"
        with correlation.bind("plan-2"):
            assert correlation.get() == "plan-2"
        assert correlation.get() == "req-1"
    assert correlation.get() is None


def test_set_current_returns_a_token_that_resets():
    token = correlation.set_current("digest-3")
    assert correlation.get() == "digest-3"
    correlation.reset(token)
    assert correlation.get() is None


def test_asyncio_tasks_and_to_thread_inherit_it_and_concurrent_tasks_stay_apart():
    async def handle(request_id: int) -> tuple[str | None, str | None]:
        correlation.set_current(correlation.for_request(request_id))
        await asyncio.sleep(0)
        in_thread = await asyncio.to_thread(correlation.get)
        return correlation.get(), in_thread

    async def main() -> list[tuple[str | None, str | None]]:
        return list(await asyncio.gather(handle(1), handle(2)))

    assert asyncio.run(main()) == [("req-1", "req-1"), ("req-2", "req-2")]
    assert correlation.get() is None


def test_a_plain_thread_starts_without_one():
    seen: list[str | None] = []
    with correlation.bind("req-9"):
        thread = threading.Thread(target=lambda: seen.append(correlation.get()))
        thread.start()
        thread.join()
    assert seen == [None]


def test_formats():
    assert correlation.for_request(5) == "req-5"
    assert correlation.for_plan(6) == "plan-6"
    assert correlation.for_digest(7) == "digest-7"
    assert correlation.for_slack_event("Ev1") == "slack-Ev1"
    assert correlation.is_request("req-5") and not correlation.is_request("plan-6")
    assert not correlation.is_request(None)


def test_a_job_implies_its_id_from_its_function_and_first_argument():
    assert correlation.from_job("workers.planning.request.plan_request", [7]) == "req-7"
    assert correlation.from_job("execute_plan", [3]) == "plan-3"
    assert correlation.from_job("workers.digest_sender.send_digest", (5,)) == "digest-5"
    assert correlation.from_job("workers.home.publish_home", [1]) is None
    assert correlation.from_job("plan_request", []) is None


def test_the_id_stored_with_a_job():
    # A job's own request or digest wins: the reconciler or a command must not lend it theirs.
    assert correlation.for_enqueue("req-1", "req-7") == "req-7"
    assert correlation.for_enqueue(None, "digest-5") == "digest-5"
    # An approval click knows the request; the execution job only its plan.
    assert correlation.for_enqueue("req-1", "plan-3") == "req-1"
    # A bare delivery id is less than the plan a job names.
    assert correlation.for_enqueue("slack-Ev1", "plan-3") == "plan-3"
    assert correlation.for_enqueue("slack-Ev1", None) == "slack-Ev1"
    assert correlation.for_enqueue(None, None) is None
