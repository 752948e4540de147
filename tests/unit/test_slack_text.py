"""Cleaning Slack text for Postgres: NUL and lone surrogates become U+FFFD, nothing else changes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.slack_text import REPLACEMENT, TooDeep, clean_text, clean_tree


def test_nul_and_lone_surrogates_become_the_replacement_character():
    assert clean_text("a\x00b\ud800c\udfffd") == f"a{REPLACEMENT}b{REPLACEMENT}c{REPLACEMENT}d"


def test_ordinary_text_is_untouched():
    text = "héllo 😀 \ufffe \uffff \u200b <@U1> tab\tnewline\n"
    assert clean_text(text) == text


def test_keys_and_nested_values_are_cleaned_and_other_types_kept():
    body = {"a\x00": [{"t": "\ud83d"}, 1, 2.5, True, None]}
    assert clean_tree(body) == {f"a{REPLACEMENT}": [{"t": REPLACEMENT}, 1, 2.5, True, None]}


def test_depth_is_capped():
    deep: list = []
    for _ in range(10):
        deep = [deep]
    assert clean_tree(deep, max_depth=11) == deep
    with pytest.raises(TooDeep):
        clean_tree(deep, max_depth=10)


@given(st.text(st.characters(codec=None, categories=None)))
def test_every_cleaned_string_encodes_as_utf8_without_nul(text):
    cleaned = clean_text(text)
    assert "\x00" not in cleaned
    cleaned.encode("utf-8")
    assert len(cleaned) == len(text)
