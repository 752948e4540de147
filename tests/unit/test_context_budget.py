"""Token estimates, newest-first windows and clipping (core.context_budget, core.planning.prompt_context)."""

from __future__ import annotations

import pytest

from core.context_budget import clip_text, estimate_tokens, fit_newest_first
from core.planning.prompt_context import ThreadMessage, budget_thread


@pytest.mark.parametrize(("text", "tokens"), [("", 0), ("a", 1), ("abcd", 1), ("abcde", 2), ("x" * 400, 100)])
def test_estimate_is_chars_over_four_rounded_up(text, tokens):
    assert estimate_tokens(text) == tokens


def test_keeps_the_newest_items_in_chronological_order():
    items = ["a" * 40, "b" * 40, "c" * 40, "d" * 40]  # 10 tokens each, oldest first
    assert fit_newest_first(items, text_of=str, budget_tokens=25) == ["c" * 40, "d" * 40]
    assert fit_newest_first(items, text_of=str, budget_tokens=40) == items
    assert fit_newest_first(items, text_of=str, budget_tokens=9) == []


def test_drops_whole_items_and_leaves_no_gaps():
    items = ["old" * 4, "x" * 400, "new" * 4]  # 3, 100 and 3 tokens
    # The 100-token message does not fit, so the window ends there: the older small one is not kept.
    assert fit_newest_first(items, text_of=str, budget_tokens=50) == ["new" * 4]


def test_works_on_any_item_type():
    messages = [ThreadMessage("ann", "x" * 40), ThreadMessage("bob", "y" * 8)]
    assert fit_newest_first(messages, text_of=lambda m: m.text, budget_tokens=2) == [messages[1]]


def test_clip_leaves_short_text_alone():
    assert clip_text("short", 10) == "short"
    assert clip_text("x" * 40, 10) == "x" * 40


def test_clip_keeps_the_head_marks_the_cut_and_fits_the_budget():
    text = " ".join(f"word{i}" for i in range(1000))
    clipped = clip_text(text, 50)
    assert clipped.startswith("word0 word1 word2")
    assert clipped.endswith("more characters cut]")
    assert estimate_tokens(clipped) <= 50
    head = clipped.split(" [… ")[0]
    assert text.startswith(head) and head.endswith(tuple(f"word{i}" for i in range(100)))  # no split word
    omitted = int(clipped.split("[… ")[1].split()[0])
    assert omitted == len(text) - len(head)


def test_clip_rejects_a_negative_budget():
    with pytest.raises(ValueError):
        clip_text("x", -1)


def test_budget_thread_clips_long_messages_before_fitting():
    thread = [ThreadMessage("ann", "hello"), ThreadMessage("bob", "log " * 2000), ThreadMessage("cy", "ok")]
    kept = budget_thread(thread, budget_tokens=1000, message_max_tokens=100)
    assert [m.author for m in kept] == ["ann", "bob", "cy"]
    assert estimate_tokens(kept[1].text) <= 100 and "more characters cut" in kept[1].text
    assert budget_thread(thread, budget_tokens=50, message_max_tokens=100) == (ThreadMessage("cy", "ok"),)
