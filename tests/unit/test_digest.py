"""Digest selection, the model's bounded view of the facts, and the template introduction (core.digest.select)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from core.digest.facts import DigestFacts, ItemFact, MeetingFact, MemoryFact, PlanFact
from core.digest.select import MAX_JSON_ENTRIES, MAX_JSON_TEXT, MAX_MEMORIES, facts_json, select, template_intro

TODAY = date(2024, 5, 10)
SINCE = datetime(2024, 5, 9, 9, tzinfo=UTC)
UNTIL = datetime(2024, 5, 10, 9, tzinfo=UTC)


def at(hours: float) -> datetime:
    return SINCE + timedelta(hours=hours)


def plan(pid: int, status: str = "pending", *, hours: float = 0, title: str | None = None) -> PlanFact:
    return PlanFact(id=pid, title=title or f"plan {pid}", status=status, channel_id="C1", requester_id="U9",
                    link=None, at=at(hours))


def item(tid: int, owner: str | None, days_ago: int, title: str | None = None) -> ItemFact:
    due = TODAY - timedelta(days=days_ago)
    return ItemFact(task_id=tid, title=title or f"item {tid}", owner_id=owner, due_date=due)


def memory(mid: int, kind: str, hours: float) -> MemoryFact:
    return MemoryFact(id=mid, text=f"memory {mid}", kind=kind, link=None, at=at(hours))


def meeting(mid: int, hours: float) -> MeetingFact:
    return MeetingFact(id=mid, title=f"meeting {mid}", link=None, action_items=2, decisions=1, at=at(hours))


def facts(kind: str = "channel", target: str = "C1", **parts: object) -> DigestFacts:
    return DigestFacts(kind=kind, target=target, since=SINCE, until=UNTIL, as_of=TODAY, **parts)


# -- selection -----------------------------------------------------------------------------------------


def test_pending_plans_are_oldest_first():
    digest = select(facts(pending=(plan(2, hours=5), plan(1, hours=1), plan(3, hours=3))))
    assert [p.id for p in digest.pending] == [1, 3, 2]


def test_finished_plans_are_grouped_by_outcome_newest_first_and_unfinished_ones_left_out():
    finished = (plan(1, "succeeded", hours=1), plan(2, "failed", hours=2), plan(3, "succeeded", hours=3),
                plan(4, "compensated", hours=4), plan(5, "expired", hours=5), plan(6, "rejected", hours=6),
                plan(7, "running", hours=7))
    digest = select(facts(finished=finished))
    assert [p.id for p in digest.succeeded] == [3, 1]
    assert [p.id for p in digest.failed] == [4, 2]
    assert [p.id for p in digest.lapsed] == [6, 5]
    assert [p.id for p in digest.finished] == [3, 1, 4, 2, 6, 5]


def test_due_items_know_their_days_overdue_and_future_ones_are_left_out():
    digest = select(facts(items=(item(1, "U1", 0), item(2, "U1", 3), item(3, "U1", -1), item(4, "U1", 1))))
    assert [(d.item.task_id, d.days_overdue) for d in digest.due_items] == [(2, 3), (4, 1), (1, 0)]


def test_owners_are_ordered_by_most_overdue_first_and_unassigned_last():
    items = (item(1, "UA", 1), item(2, "UB", 5), item(3, None, 9), item(4, "UC", 2), item(5, "UA", 0),
             item(6, "UC", 0))
    digest = select(facts(items=items))
    assert [g.owner_id for g in digest.due] == ["UB", "UC", "UA", None]
    assert [g.most_overdue for g in digest.due] == [5, 2, 1, 9]
    assert [d.item.task_id for d in digest.due[1].items] == [4, 6]


def test_owners_equally_overdue_are_ordered_by_number_of_items_then_id():
    digest = select(facts(items=(item(1, "UZ", 2), item(2, "UY", 2), item(3, "UX", 2), item(4, "UX", 0))))
    assert [g.owner_id for g in digest.due] == ["UX", "UY", "UZ"]


def test_meetings_are_newest_first():
    assert [m.id for m in select(facts(meetings=(meeting(1, 1), meeting(2, 4), meeting(3, 2)))).meetings] == [2, 3, 1]


def test_notable_memories_are_decisions_first_then_facts_and_preferences_newest_first_without_outcomes():
    memories = (memory(1, "fact", 1), memory(2, "decision", 2), memory(3, "outcome", 9), memory(4, "preference", 5),
                memory(5, "decision", 1))
    digest = select(facts(memories=memories))
    assert [m.id for m in digest.memories] == [2, 5, 4, 1]
    assert digest.more_memories == 0


def test_at_most_five_memories_are_kept_and_the_rest_are_counted():
    memories = (*(memory(i, "fact", i) for i in range(1, 9)), memory(20, "decision", 0))
    digest = select(facts(memories=memories))
    assert len(digest.memories) == MAX_MEMORIES
    assert [m.id for m in digest.memories] == [20, 8, 7, 6, 5]
    assert digest.more_memories == 4


def test_only_outcomes_make_no_memories_section():
    digest = select(facts(memories=(memory(1, "outcome", 1),)))
    assert digest.memories == ()
    assert digest.is_empty


def test_personal_digest_puts_every_due_item_in_one_group_and_requested_plans_newest_first():
    digest = select(facts("personal", "U1", items=(item(1, "U1", 0), item(2, "U1", 4)),
                          pending=(plan(5, hours=2), plan(4, hours=1)),
                          requested=(plan(7, "succeeded", hours=1), plan(8, "pending", hours=3))))
    assert [(g.owner_id, [d.item.task_id for d in g.items]) for g in digest.due] == [("U1", [2, 1])]
    assert [p.id for p in digest.pending] == [4, 5]
    assert [p.id for p in digest.requested] == [8, 7]
    assert digest.kind == "personal"
    assert not digest.is_empty


def test_empty_means_nothing_to_report_and_cost_alone_is_still_empty():
    assert select(facts()).is_empty
    assert select(facts(cost_usd=Decimal("1.5"), llm_calls=12)).is_empty
    assert select(facts(items=(item(1, "U1", -2),))).is_empty  # only due in the future


@pytest.mark.parametrize("part", [
    {"pending": (plan(1),)},
    {"finished": (plan(1, "expired"),)},
    {"items": (item(1, None, 0),)},
    {"meetings": (meeting(1, 1),)},
    {"memories": (memory(1, "decision", 1),)},
    {"requested": (plan(1, "running"),)},
])
def test_any_part_makes_a_digest_non_empty(part):
    assert not select(facts(**part)).is_empty


def test_select_keeps_the_window_and_cost():
    digest = select(facts(cost_usd=Decimal("0.0123"), llm_calls=5))
    assert (digest.since, digest.until, digest.as_of) == (SINCE, UNTIL, TODAY)
    assert (digest.cost_usd, digest.llm_calls) == (Decimal("0.0123"), 5)


# -- facts for the model -------------------------------------------------------------------------------


def test_facts_json_is_json_with_owner_mentions_due_dates_and_statuses():
    digest = select(facts(items=(item(1, "U1", 2), item(2, None, 0)), finished=(plan(3, "failed"),),
                          cost_usd=Decimal("0.5"), llm_calls=3))
    data = json.loads(json.dumps(facts_json(digest)))
    assert data["due_items"]["count"] == 2
    assert data["due_items"]["overdue"] == 1
    assert data["due_items"]["entries"][0] == {"title": "item 1", "owner": "<@U1>", "due": "2024-05-08",
                                               "days_overdue": 2}
    assert data["due_items"]["entries"][1]["owner"] is None
    assert data["failed"]["entries"][0]["status"] == "failed"
    assert data["cost"] == {"usd": "0.5", "model_calls": 3}
    assert data["today"] == "2024-05-10"


def test_facts_json_is_bounded_but_counts_stay_exact():
    long = "x" * 3000 + " <!channel>"
    digest = select(facts(pending=tuple(plan(i, title=long) for i in range(300)),
                          items=tuple(item(i, f"U{i % 7}", i % 4, title=long) for i in range(500))))
    data = facts_json(digest)
    assert data["pending_approval"]["count"] == 300
    assert len(data["pending_approval"]["entries"]) == MAX_JSON_ENTRIES
    assert data["due_items"]["count"] == 500
    assert len(data["due_items"]["entries"]) == MAX_JSON_ENTRIES
    assert all(len(e["title"]) <= MAX_JSON_TEXT for e in data["pending_approval"]["entries"])
    assert len(json.dumps(data)) < 20_000


def test_facts_json_gives_the_model_no_channel_wide_mention_to_copy():
    digest = select(facts(memories=(replace(memory(1, "decision", 1), text="ping <!here> and <!channel>"),)))
    assert facts_json(digest)["memories"]["entries"] == [{"kind": "decision", "text": "ping @here and @channel"}]


# -- template introduction -----------------------------------------------------------------------------


def test_template_intro_from_counts():
    digest = select(facts(pending=(plan(1), plan(2)),
                          finished=(plan(3, "succeeded"), plan(4, "succeeded"), plan(5, "succeeded"),
                                    plan(6, "failed")),
                          items=tuple(item(i, "U1", i) for i in range(4))))
    assert template_intro(digest) == ("2 plans wait for approval, 3 ran and 1 failed since the last digest; "
                                      "4 action items are due or overdue.")


def test_template_intro_singular_and_second_sentence():
    digest = select(facts(finished=(plan(1, "succeeded"), plan(2, "rejected")), items=(item(1, None, 0),),
                          meetings=(meeting(1, 1),), memories=(memory(1, "fact", 1), memory(2, "decision", 1))))
    assert template_intro(digest) == ("1 plan ran and 1 was rejected since the last digest; 1 action item is due "
                                      "or overdue. 1 meeting summary was posted and 2 notable memories were added.")


def test_template_intro_plural_meetings_and_one_memory():
    digest = select(facts(pending=(plan(1),), meetings=(meeting(1, 1), meeting(2, 2)),
                          memories=(memory(1, "fact", 1),)))
    assert template_intro(digest) == ("1 plan waits for approval. 2 meeting summaries were posted and 1 notable "
                                      "memory was added.")


def test_template_intro_counts_expired_and_left_out_memories():
    digest = select(facts(finished=(plan(1, "expired"), plan(2, "expired"), plan(3, "rejected"), plan(4, "rejected")),
                          memories=tuple(memory(i, "fact", i) for i in range(7))))
    assert template_intro(digest) == ("2 plans expired and 2 were rejected since the last digest. 7 notable memories "
                                      "were added.")


def test_template_intro_for_an_empty_digest_even_with_cost():
    assert template_intro(select(facts())) == "Nothing new since the last digest."
    assert template_intro(select(facts(cost_usd=Decimal(2), llm_calls=4))) == "Nothing new since the last digest."


def test_template_intro_for_a_person():
    digest = select(facts("personal", "U1", items=(item(1, "U1", 1), item(2, "U1", 0)), pending=(plan(3),),
                          requested=(plan(4, "succeeded"),)))
    assert template_intro(digest) == ("You have 2 action items due or overdue; 1 plan waits for your approval. "
                                      "1 plan you asked for is listed below.")
    one = select(facts("personal", "U1", items=(item(1, "U1", 1),)))
    assert template_intro(one) == "You have 1 action item due or overdue."
