"""core.mentions: only Baton's own mention leaves a request; the rest are listed for the planner."""

from __future__ import annotations

import pytest

from core.mentions import Mention, mentions_in, without_mention_of


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<@UBATON> create a task for <@U0BOB> to write it", "create a task for <@U0BOB> to write it"),
        ("<@UBATON|baton>: send lunch is here to <@U0BOB|bob>", "send lunch is here to <@U0BOB|bob>"),
        ("hey <@UBATON>, post hi in <#C1|general>", "hey post hi in <#C1|general>"),
        ("post hi to <#C1> <@UBATON>", "post hi to <#C1>"),
        ("<@UBATONX> is not Baton", "<@UBATONX> is not Baton"),
        ("  line one\nline two <@UBATON>  ", "line one\nline two"),
        ("<@UBATON>", ""),
    ],
)
def test_only_batons_own_mention_is_removed(text, expected):
    assert without_mention_of(text, "UBATON") == expected


def test_without_a_bot_id_nothing_is_removed():
    assert without_mention_of(" <@UBATON> post hi ", None) == "<@UBATON> post hi"


def test_mentions_are_listed_once_in_order_up_to_the_limit():
    text = "ask <@U0BOB|bob> and <@W0ANN> to post in <#C0OPS|ops>, then <@U0BOB> again in <#G1>"
    assert mentions_in(text, limit=10) == (
        Mention("person", "U0BOB", "bob"),
        Mention("person", "W0ANN"),
        Mention("channel", "C0OPS", "ops"),
        Mention("channel", "G1"),
    )
    assert mentions_in(text, limit=2) == (Mention("person", "U0BOB", "bob"), Mention("person", "W0ANN"))
    assert mentions_in("post #general and @bob", limit=10) == ()
