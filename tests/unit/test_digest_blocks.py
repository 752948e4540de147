"""The digest message (slackui.digest_views): Block Kit limits, nothing dropped silently, no pings, no
injected links."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from core.digest.facts import DigestFacts, ItemFact, MeetingFact, MemoryFact, PlanFact
from core.digest.select import Digest, select, template_intro
from localslack.validation import blocks_problems
from slackui.digest_views import MODEL_LABEL, TEMPLATE_LABEL, digest_message, escape

TODAY = date(2024, 5, 10)
SINCE = datetime(2024, 5, 9, 9, tzinfo=UTC)
UNTIL = datetime(2024, 5, 10, 9, tzinfo=UTC)
HINT = "see Baton's Home tab"
LINK = "https://acme.slack.com/archives/C1/p1715331600000100"
MORE = re.compile(r"…and (\d+) more")


def plan(pid: int, status: str = "pending", *, title: str | None = None, link: str | None = LINK,
         risk: str = "low") -> PlanFact:
    return PlanFact(id=pid, title=title or f"Plan {pid}", status=status, channel_id="C1", requester_id="U9",
                    link=link, at=SINCE + timedelta(minutes=pid), risk=risk)


def item(tid: int, owner: str | None, days_ago: int, *, title: str | None = None) -> ItemFact:
    due = TODAY - timedelta(days=days_ago)
    return ItemFact(task_id=tid, title=title or f"Item {tid}", owner_id=owner, due_date=due)


def digest(kind: str = "channel", target: str = "C1", **parts: object) -> Digest:
    return select(DigestFacts(kind=kind, target=target, since=SINCE, until=UNTIL, as_of=TODAY, **parts))


def render(d: Digest, *, intro: str | None = None, by_model: bool = False) -> tuple[str, list[dict]]:
    return digest_message(d, title="Daily digest · Fri 10 May 2024",
                          intro=template_intro(d) if intro is None else intro, intro_by_model=by_model, more_hint=HINT)


def texts(blocks: list[dict]) -> list[str]:
    """Every text in the blocks: sections, headers and context elements."""
    found = []
    for block in blocks:
        if "text" in block:
            found.append(block["text"]["text"])
        found += [e["text"] for e in block.get("elements", []) if "text" in e]
    return found


def sections(blocks: list[dict]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] == "section"]


def section_with(blocks: list[dict], heading: str) -> str:
    (text,) = [t for t in sections(blocks) if heading in t.split("\n", 1)[0]]
    return text


def bullets(text: str) -> int:
    return sum(1 for line in text.split("\n") if line.startswith("• "))


def more(text: str) -> int:
    found = MORE.findall(text)
    return int(found[0]) if found else 0


# -- structure -----------------------------------------------------------------------------------------


def test_a_small_channel_digest_has_header_intro_label_and_one_section_per_part():
    d = digest(pending=(plan(1),), finished=(plan(2, "succeeded"), plan(3, "failed"), plan(4, "expired")),
               items=(item(1, "U1", 2),), meetings=(MeetingFact(1, "Weekly sync", LINK, 3, 2, SINCE),),
               memories=(MemoryFact(1, "We deploy on Tuesdays", "decision", None, SINCE),),
               cost_usd=Decimal("0.012345"), llm_calls=5)
    text, blocks = render(d)
    assert blocks_problems(blocks) == []
    assert blocks[0] == {"type": "header", "text": {"type": "plain_text", "text": "Daily digest · Fri 10 May 2024",
                                                    "emoji": True}}
    assert blocks[1]["text"]["text"] == template_intro(d)
    assert blocks[2]["elements"][0]["text"] == TEMPLATE_LABEL
    headings = [t.split("\n", 1)[0] for t in sections(blocks)[1:]]
    assert headings == [":hourglass_flowing_sand: *Waiting for approval* (1)",
                        ":white_check_mark: *Done since the last digest* (1)", ":x: *Failed since the last digest* (1)",
                        ":no_entry_sign: *Expired or rejected* (1)", ":alarm_clock: *Action items due* (1)",
                        "<@U1> (1)", ":spiral_note_pad: *Meeting notes posted* (1)", ":brain: *Worth remembering* (1)"]
    assert f"<{LINK}|Weekly sync> · 3 action items · 2 decisions" in section_with(blocks, "Meeting notes")
    assert "*Decision:* We deploy on Tuesdays" in section_with(blocks, "Worth remembering")
    assert blocks[-1]["elements"][0]["text"] == "Model cost since the last digest: $0.0123 over 5 model calls"
    assert text.startswith("Daily digest · Fri 10 May 2024: 1 plan waits for approval")


def test_the_model_label_only_when_the_model_wrote_the_intro():
    d = digest(pending=(plan(1),))
    _, blocks = render(d, intro="One plan needs <@U7>'s approval.", by_model=True)
    assert blocks[1]["text"]["text"] == "One plan needs <@U7>'s approval."
    assert blocks[2]["elements"][0]["text"] == MODEL_LABEL
    _, blank = render(d, intro="   ", by_model=True)
    assert blank[1]["text"]["text"] == template_intro(d)
    assert blank[2]["elements"][0]["text"] == TEMPLATE_LABEL


def test_an_empty_digest_says_nothing_new_and_has_no_sections():
    _, blocks = render(digest())
    assert [b["type"] for b in blocks] == ["header", "section", "context"]
    assert blocks[1]["text"]["text"] == "Nothing new since the last digest."


def test_cost_line_is_singular_and_absent_without_model_calls():
    _, one = render(digest(pending=(plan(1),), cost_usd=Decimal("0.5"), llm_calls=1))
    assert one[-1]["elements"][0]["text"].endswith("$0.5000 over 1 model call")
    _, none = render(digest(pending=(plan(1),)))
    assert not any("Model cost" in t for t in texts(none))


def test_due_items_mention_their_owners_and_say_how_overdue():
    _, blocks = render(digest(items=(item(1, "U1", 2), item(2, "U1", 1), item(3, "U1", 0), item(4, None, 5))))
    owner = section_with(blocks, "<@U1>")
    assert owner.split("\n") == ["<@U1> (3)", "• Item 1 · 2 days overdue", "• Item 2 · 1 day overdue",
                                 "• Item 3 · due today"]
    assert section_with(blocks, "_Unassigned_") == "_Unassigned_ (1)\n• Item 4 · 5 days overdue"
    # The most overdue owner first, unassigned last.
    assert sections(blocks).index(owner) < sections(blocks).index(section_with(blocks, "_Unassigned_"))


def test_personal_digest_sections():
    d = digest("personal", "U1", items=(item(1, "U1", 1),), pending=(plan(2, risk="high"),),
               requested=(plan(3, "succeeded"), plan(4, "compensated")))
    _, blocks = render(d)
    assert blocks_problems(blocks) == []
    headings = [t.split("\n", 1)[0] for t in sections(blocks)[1:]]
    assert headings == [":alarm_clock: *Due for you* (1)", ":hourglass_flowing_sand: *Waiting for your approval* (1)",
                        ":outbox_tray: *You asked for* (2)"]
    assert "• Item 1 · 1 day overdue" in section_with(blocks, "Due for you")
    assert not any("<@U1>" in t for t in texts(blocks))  # no need to ping someone in their own DM
    assert ":red_circle: high risk" in section_with(blocks, "Waiting for your approval")
    asked = section_with(blocks, "You asked for")
    assert "Failed — completed steps were undone" in asked and "Done" in asked
    assert asked.index("plan #4") < asked.index("plan #3")  # newest first


# -- links and escaping --------------------------------------------------------------------------------


def test_titles_are_linked_when_a_link_exists():
    _, blocks = render(digest(pending=(plan(1), plan(2, link=None))))
    waiting = section_with(blocks, "Waiting for approval")
    assert f"• <{LINK}|Plan 1> · plan #1 · waiting since <!date^" in waiting
    assert "• Plan 2 · plan #2 · waiting since" in waiting


@pytest.mark.parametrize("link", ["javascript:alert(1)", "https://x.example/a|b", "https://x.example/<b>",
                                  "https://x.example/a b"])
def test_unsafe_links_are_not_rendered_as_links(link):
    _, blocks = render(digest(pending=(plan(1, link=link),)))
    assert "• Plan 1 · plan #1" in section_with(blocks, "Waiting for approval")


def test_titles_are_mrkdwn_escaped_so_they_cannot_inject_a_link():
    title = "Fix <https://evil.example|the docs> & <@U123> > now"
    _, blocks = render(digest(pending=(plan(1, title=title, link=None),)))
    waiting = section_with(blocks, "Waiting for approval")
    assert "Fix &lt;https://evil.example|the docs&gt; &amp; @U123 &gt; now" in waiting
    assert "<https://evil" not in waiting and "<@U123>" not in waiting


@pytest.mark.parametrize("token", ["<!channel>", "<!here>", "<!everyone>", "<!here|here>", "<!channel|@channel>"])
def test_no_part_of_a_digest_pings_a_whole_channel(token):
    d = digest(pending=(plan(1, title=f"Deploy {token} now"),),
               finished=(plan(2, "failed", title=f"{token} fail"),),
               items=(item(1, "U1", 1, title=f"Tell {token}"),),
               meetings=(MeetingFact(1, f"Sync {token}", LINK, 1, 1, SINCE),),
               memories=(MemoryFact(1, f"Remember {token}", "decision", LINK, SINCE),),
               requested=(plan(3, "succeeded", title=token),))
    text, blocks = render(d, intro=f"Morning {token}, see below.", by_model=True)
    for found in [*texts(blocks), text]:
        assert "<!channel" not in found and "<!here" not in found and "<!everyone" not in found
        assert "<!" not in found.replace("<!date^", "")
    assert "Deploy @" in section_with(blocks, "Waiting for approval")
    assert blocks[1]["text"]["text"].startswith("Morning @")
    # Slack does no automatic mention parsing in these texts.
    assert all(b["text"].get("verbatim") for b in blocks if b["type"] == "section")


def test_escape():
    assert escape("a <!here> & <b>") == "a @here &amp; &lt;b&gt;"


# -- limits --------------------------------------------------------------------------------------------


def huge(kind: str = "channel", target: str = "C1", *, title: str = "x" * 3000) -> Digest:
    owners = [f"U{n:03d}" for n in range(40)]
    return digest(
        kind, target,
        pending=tuple(plan(i, title=f"{title} & <!channel> {i}", risk="high") for i in range(300)),
        finished=tuple(plan(1000 + i, ("succeeded", "failed", "expired")[i % 3], title=title) for i in range(90)),
        items=tuple(item(i, owners[i % 40] if i % 10 else None, i % 7, title=title) for i in range(500)),
        meetings=tuple(MeetingFact(i, title, LINK, 3, 1, SINCE) for i in range(60)),
        memories=tuple(MemoryFact(i, "<!here> " + title, "decision", LINK, SINCE) for i in range(40)),
        requested=tuple(plan(2000 + i, "running", title=title) for i in range(200)),
        cost_usd=Decimal("12.5"), llm_calls=9000,
    )


@pytest.mark.parametrize("kind", ["channel", "personal"])
def test_a_huge_digest_stays_within_block_kit_limits(kind):
    text, blocks = render(huge(kind, "C1" if kind == "channel" else "U001"))
    assert blocks_problems(blocks) == []
    assert len(blocks) <= 50
    assert all(len(t) <= 3000 for t in sections(blocks))
    assert len(blocks[0]["text"]["text"]) <= 150
    assert len(text) <= 300


@pytest.mark.parametrize("title", ["x" * 3000, "short", "&" * 3000, "<>" * 1500],
                         ids=["long", "short", "ampersands", "angle-brackets"])
def test_long_lists_end_with_and_n_more_counting_every_entry_left_out(title):
    d = huge(title=title)
    _, blocks = render(d)
    expected = {"Waiting for approval": 300, "Done since": 30, "Failed since": 30, "Expired or rejected": 30,
                "Meeting notes": 60, "Worth remembering": 40, "Requested plans": 200}
    for heading, total in expected.items():
        part = section_with(blocks, heading)
        assert f"({total})" in part.split("\n", 1)[0]
        shown = bullets(part)
        assert 1 <= shown <= 10
        assert more(part) == total - shown, heading
        assert f"…and {total - shown} more ({HINT})" in part
    if title == "short":
        assert more(section_with(blocks, "Waiting for approval")) == 290


def test_every_due_item_is_shown_or_counted_and_every_owner_is_mentioned():
    d = huge()
    _, blocks = render(d)
    due_part = [t for t in sections(blocks) if t.startswith("<@U") or t.startswith("_Unassigned_") or
                t.startswith("…and")]
    assert sum(bullets(t) + more(t) for t in due_part) == 500
    owners = {group.owner_id for group in d.due if group.owner_id}
    assert len(owners) == 36  # every tenth item is unassigned
    assert all(any(f"<@{owner}>" in t for t in due_part) for owner in owners)
    assert due_part[-1].startswith("…and") and "_Unassigned_" in due_part[-1]  # unassigned last


def test_many_owners_overflow_into_one_line_that_mentions_them():
    items = (*(item(i, f"U{i:03d}", 1) for i in range(25)), item(99, None, 9))
    _, blocks = render(digest(items=items))
    overflow = sections(blocks)[-1]
    assert overflow.startswith("…and 16 more for <@U010>, <@U011>")
    assert overflow.endswith(f"<@U024> and _Unassigned_ ({HINT})")
    assert blocks_problems(blocks) == []
