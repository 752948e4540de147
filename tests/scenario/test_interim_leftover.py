"""A "still working" message never stays next to the card: whichever run or job posts the card removes the
message an earlier run of the request left in its thread (the run cut short by an outage is in
``test_postgres_outage.py``)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core import defaults
from slackui import replies
from tests.scenario.loop_helpers import card_posts, eventually
from workers.reconcile import reconcile

ASK = "<@U0BATON> post Release 1.2 is out to <#C0OPS|ops>"


def cards_up(bot: Any) -> list[Any]:
    return [call for call in card_posts(bot) if call.response.get("ok")]


def still_working(bot: Any) -> list[dict[str, Any]]:
    return [m for m in bot.slack.messages("C0GENERAL") if (m.get("text") or "").startswith(replies.PLANNING_SLOW_START)]


@pytest.mark.parametrize(
    ("after", "recovers"),
    [
        # Soon: the recovery pass posts the stored plan's card (post_plan_card).
        (defaults.RECONCILE_GRACE_SECONDS + 1, {"cards": 1, "requests": 0}),
        # Past the planning deadline: the request is planned again first (its re-run finds the plan and posts the card).
        (defaults.PLANNING_STUCK_SECONDS + 1, {"cards": 1, "requests": 1}),
    ],
)
def test_a_card_the_recovery_pass_posts_for_a_failed_planner_replaces_its_still_working_message(
    bot, db, after, recovers
):
    bot.setting_changes = {"planning_interim_seconds": 1}
    delivery = bot.slack.post_as_user("U0ALICE", "C0GENERAL", ASK)
    assert all(r.status == 200 for r in delivery.responses)
    bot.slack.inject("users.info", delay=2.5)  # slow planning: the thread hears "still working" ...

    def refuse_the_card() -> None:  # ... and then Slack refuses the card, so the planning job fails
        assert eventually(lambda: still_working(bot), timeout=10)
        bot.slack.inject("chat.postMessage", error="internal_error")

    refuser = threading.Thread(target=refuse_the_card)
    refuser.start()
    bot.run_jobs(wait_for=1)
    refuser.join()
    assert cards_up(bot) == [] and len(still_working(bot)) == 1
    assert db.execute("SELECT status FROM requests").fetchone()["status"] == "planning"

    # The recovery pass finds the plan without a card (and the request stuck) and posts it; the leftover goes.
    later = datetime.now(UTC) + timedelta(seconds=after)
    done = reconcile(later.isoformat())
    assert {what: len(done[what]) for what in recovers} == recovers
    bot.run_jobs(wait_for=1)
    assert [c.params["thread_ts"] for c in cards_up(bot)] == [delivery.ts]
    assert still_working(bot) == []
    assert db.execute("SELECT status FROM requests").fetchone()["status"] == "planned"
