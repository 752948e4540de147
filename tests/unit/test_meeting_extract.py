"""Model-free meeting notes (core.meetings.extract, core.meetings.patterns, core.meetings.text)."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest

from core.meetings.extract import (
    BULLET_LIMIT,
    MAX_ACTION_ITEMS,
    MAX_DECISIONS,
    MAX_OPEN_QUESTIONS,
    extract_notes,
    split_transcript,
)
from core.meetings.patterns import TASK_LIMIT
from core.meetings.records import Evidence, Transcript, Turn
from core.meetings.text import content_words, tidy, tidy_quote

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "transcripts"
MEETING = date(2026, 3, 4)  # a Wednesday


def notes_of(*turns: tuple[str | None, str], max_summary: int = 8):
    transcript = Transcript(
        tuple(Turn(speaker, text, start=float(i)) for i, (speaker, text) in enumerate(turns)), "text", "utf-8"
    )
    return extract_notes(transcript, meeting_date=MEETING, max_summary=max_summary)


def load_fixture(name: str) -> Transcript:
    data = json.loads((FIXTURES / name).read_text())
    turns = tuple(Turn(t["speaker"], t["text"], t.get("start"), t.get("end")) for t in data["turns"])
    return Transcript(turns, "json", "utf-8")


def test_first_person_named_and_explicit_commitments_with_owners_and_due_dates():
    notes = notes_of(
        ("Alice", "Okay, let's get started. Um, the launch is slipping."),
        ("Bob", "Uh I'll send the revised deck to the client by Friday."),
        ("Alice", "Great. So Carol will update the pricing page before the 15th."),
        ("Alice", "Action item: Erin to draft the press release by end of month."),
        ("Dave", "I'm going to migrate the billing database next week."),
    )
    items = {item.task: item for item in notes.action_items}
    assert set(items) == {
        "Send the revised deck to the client",
        "Update the pricing page",
        "Draft the press release",
        "Migrate the billing database",
    }
    deck = items["Send the revised deck to the client"]
    assert (deck.owner_name, deck.due, deck.due_text) == ("Bob", date(2026, 3, 6), "by Friday")
    assert deck.evidence == Evidence(quote="Uh I'll send the revised deck to the client by Friday.", turn=1, at=1.0)
    pricing, release = items["Update the pricing page"], items["Draft the press release"]
    assert (pricing.owner_name, pricing.due) == ("Carol", date(2026, 3, 15))
    assert (release.owner_name, release.due) == ("Erin", date(2026, 3, 31))
    assert items["Migrate the billing database"].owner_name == "Dave"
    assert items["Migrate the billing database"].due == date(2026, 3, 13)
    assert notes.mode == "extractive"
    assert [item.evidence.turn for item in notes.action_items] == [1, 2, 3, 4]  # meeting order


def test_requests_belong_to_the_named_person_or_to_whoever_accepts():
    notes = notes_of(
        ("Alice", "Dave, can you book the venue for next Tuesday?"),
        ("Dave", "Yes."),
        ("Alice", "Can you review the budget spreadsheet?"),
        ("Bob", "Sure, I can do that."),
        ("Alice", "Could you check the catering contract?"),
        ("Bob", "Hmm, not sure that's mine."),
        ("Alice", "Can you order the printed banners, Carol?"),
    )
    owners = {item.task: (item.owner_name, item.due) for item in notes.action_items}
    assert owners == {
        "Book the venue": ("Dave", date(2026, 3, 10)),
        "Review the budget spreadsheet": ("Bob", None),
        "Order the printed banners": ("Carol", None),
    }  # nobody accepted the catering request: no owner, so no action item


def test_group_tasks_need_a_later_due_date_and_have_no_owner():
    notes = notes_of(
        ("Carol", "We need to finalise the vendor contract by next week."),
        ("Carol", "We need to think about the branding."),
        ("Alice", "We'll have a short demo of the prototype today."),
        ("Bob", "Let's freeze the release branch on Monday."),
    )
    assert [(i.task, i.owner_name, i.due) for i in notes.action_items] == [
        ("Finalise the vendor contract", None, date(2026, 3, 13)),
        ("Freeze the release branch", None, date(2026, 3, 9)),
    ]


@pytest.mark.parametrize(
    "sentence",
    [
        "I'll start.",
        "I'll show you the next slide.",
        "I'll tell you about it.",
        "I'll do that.",
        "Can you see my screen?",
        "If I'll have time maybe.",
        "Production will cost more than we thought.",
        "Then we'll figure that out.",
    ],
)
def test_meeting_chatter_is_not_an_action_item(sentence):
    notes = notes_of(("Alice", sentence), ("Bob", "Sure."), ("Alice", "The production budget is fixed."))
    assert notes.action_items == ()


def test_action_items_are_deduplicated_capped_and_clipped():
    long_task = "I'll write " + " ".join(f"section{i}" for i in range(60)) + "."
    turns = [
        ("Ann", "I'll put the minutes in the project folder."),
        ("Ann", "I will put the minutes in the project folder."),
    ]
    turns += [("Ann", f"I'll prepare report number{i} about topic{i} by Friday.") for i in range(30)]
    notes = notes_of(*turns, ("Ann", long_task))
    tasks = [item.task for item in notes.action_items]
    assert len(tasks) == MAX_ACTION_ITEMS
    assert sum("minutes" in task for task in tasks) <= 1
    assert all(len(task) <= TASK_LIMIT for task in tasks)
    # The strongest (those with a due date) are kept, and they come back in meeting order.
    assert all(item.due == date(2026, 3, 6) for item in notes.action_items)
    turns_seen = [item.evidence.turn for item in notes.action_items]
    assert turns_seen == sorted(turns_seen)


def test_decisions_from_cues_with_context_for_bare_agreement():
    notes = notes_of(
        ("Alice", "We decided to go with the blue logo."),
        ("Bob", "We haven't decided on the venue yet."),
        ("Carol", "Should we go with the larger venue?"),
        ("Carol", "We should use the recycled packaging for every shipment."),
        ("Bob", "Agreed."),
        ("Dave", "Let's go with the smaller venue then."),
        ("Alice", "The end result has to be a final decision on the budget."),
        ("Dave", "Okay, so let's go with the smaller venue then."),
    )
    assert [(d.text, d.evidence.turn) for d in notes.decisions] == [
        ("We decided to go with the blue logo.", 0),
        ("We should use the recycled packaging for every shipment.", 4),  # evidence: the "Agreed."
        ("Let's go with the smaller venue then.", 5),
    ]
    assert notes.decisions[1].evidence.quote == "Agreed."


def test_decisions_are_capped():
    notes = notes_of(*[("Ann", f"We decided to buy widget{i} from supplier{i} in region{i}.") for i in range(20)])
    assert len(notes.decisions) == MAX_DECISIONS
    assert notes.decisions[0].text.startswith("We decided to buy widget0 ")


def test_open_questions_are_substantive():
    notes = notes_of(
        ("Alice", "Should we invite the press to the launch event?"),
        ("Bob", "Right?"),
        ("Carol", "What time is it?"),
        ("Carol", "Is the press list ready?"),
        ("Dave", "Uh what about the catering budget for the launch?"),
        ("Dave", "We invited the press."),
    )
    assert notes.open_questions == (
        "Should we invite the press to the launch event?",
        "What about the catering budget for the launch?",
    )


def test_open_questions_are_few():
    notes = notes_of(*[("Dave", f"What about supplier{i} for the packaging of product{i}?") for i in range(10)])
    assert len(notes.open_questions) == MAX_OPEN_QUESTIONS


def test_summary_picks_informative_sentences_in_order_without_markers():
    notes = notes_of(
        ("A", "Um {vocalsound} okay."),
        ("B", "The remote control needs a rubber case so the remote control survives a drop."),
        ("C", "Yeah. Mm-hmm."),
        ("A", "The remote control case could be rubber or plastic {disfmarker} rubber is cheaper and feels softer."),
        ("B", "Lunch is at noon."),
        ("C", "The remote control needs a rubber case so the remote control survives a drop."),
        max_summary=2,
    )
    assert notes.summary == (
        "The remote control needs a rubber case so the remote control survives a drop.",
        "The remote control case could be rubber or plastic — rubber is cheaper and feels softer.",
    )


def test_summary_bullets_are_clipped():
    notes = notes_of(("A", " ".join(f"topic{i % 7} detail{i}" for i in range(80)) + "."))
    assert len(notes.summary) == 1
    assert len(notes.summary[0]) <= BULLET_LIMIT and notes.summary[0].endswith("…")


def test_empty_transcript_gives_empty_notes():
    notes = extract_notes(Transcript((), "text", "utf-8"), meeting_date=MEETING)
    assert (notes.summary, notes.decisions, notes.open_questions, notes.action_items) == ((), (), (), ())
    assert notes.mode == "extractive"


def test_tidy_removes_markers_fillers_stutters_and_tokenised_spacing():
    raw = "Um {vocalsound} I 'll I 'll put the the C_D_ in the uh T_V_ {disfmarker} room <pause> ."
    assert tidy_quote(raw) == "Um I'll I'll put the the CD in the uh TV — room."
    assert tidy(raw) == "I'll put the CD in the TV — room."
    assert content_words("The buttons, the button; decided to decide!") == ["button", "button", "decid", "decid"]


def test_ami_fixture_yields_grounded_notes():
    transcript = load_fixture("ami_TS3011b.json")
    notes = extract_notes(transcript, meeting_date=MEETING)
    assert 1 <= len(notes.summary) <= 8
    minutes = [item for item in notes.action_items if "minutes" in item.task.lower()]
    assert minutes and minutes[0].owner_name == "Project Manager"  # "I will put the minutes I just made in ..."
    assert any("decided" in decision.text for decision in notes.decisions)
    every_text = [*notes.summary, *notes.open_questions, *(d.text for d in notes.decisions)]
    every_text += [item.task for item in notes.action_items]
    assert not any(re.search(r"[{<][a-z]+[}>]", text) for text in every_text)
    for evidence in [item.evidence for item in notes.action_items] + [d.evidence for d in notes.decisions]:
        assert evidence is not None
        turn_words = set(content_words(tidy(transcript.turns[evidence.turn].text)))
        assert set(content_words(evidence.quote)) <= turn_words


def test_long_fixture_keeps_its_turn_times_in_evidence():
    transcript = load_fixture("icsi_Bns002.json")
    parts = split_transcript(transcript)
    assert len({part.turn for part in parts}) > 1000
    notes = extract_notes(transcript, meeting_date=MEETING)
    assert notes.action_items
    for item in notes.action_items:
        assert item.evidence is not None and item.evidence.at == transcript.turns[item.evidence.turn].start
