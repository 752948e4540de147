"""Keeping prompt context inside a token budget without a tokenizer.

Tokens are estimated with the usual rule of thumb for English text, four characters per token,
rounded up. That is close enough to keep a prompt well under a model's window when budgets leave a
margin; it is not a billing figure (billing uses the usage the API reports).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")

#: Characters per token of the estimate.
CHARS_PER_TOKEN = 4
# How far back from the cut clip_text looks for a space, so it does not split a word.
_WORD_BOUNDARY_WINDOW = 40


def estimate_tokens(text: str) -> int:
    """Approximate token count of ``text``: characters / 4, rounded up (0 for empty text)."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def fit_newest_first(items: Sequence[T], *, text_of: Callable[[T], str], budget_tokens: int) -> list[T]:
    """The newest items whose texts fit in ``budget_tokens`` together, in chronological order.

    ``items`` run oldest to newest. Items are taken from the newest backwards and whole items only:
    the first one that does not fit ends the window, so the result is always a contiguous, most
    recent stretch (no gaps that would make a conversation read wrongly).
    """
    kept: list[T] = []
    remaining = budget_tokens
    for item in reversed(items):
        cost = estimate_tokens(text_of(item))
        if cost > remaining:
            break
        kept.append(item)
        remaining -= cost
    kept.reverse()
    return kept


def clip_text(text: str, max_tokens: int) -> str:
    """``text`` unchanged if it fits in ``max_tokens``, else its head followed by a visible cut mark.

    The result, mark included, fits the budget (for any budget long enough to hold the mark). The cut
    falls on a space near the limit when there is one, so words are not split.
    """
    if max_tokens < 0:
        raise ValueError("max_tokens cannot be negative")
    if estimate_tokens(text) <= max_tokens:
        return text
    budget_chars = max_tokens * CHARS_PER_TOKEN
    # The mark's length depends on the number in it; size it for the largest possible number.
    longest_mark = _cut_mark(len(text))
    head_len = max(0, budget_chars - len(longest_mark))
    head = text[:head_len]
    space = head.rfind(" ", max(0, head_len - _WORD_BOUNDARY_WINDOW))
    if space > 0:
        head = head[:space]
    head = head.rstrip()
    return head + _cut_mark(len(text) - len(head))


def _cut_mark(omitted_chars: int) -> str:
    return f" [… {omitted_chars} more characters cut]"
