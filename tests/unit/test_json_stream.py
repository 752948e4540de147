"""Where the first JSON object ends in text fed piece by piece (core.json_stream)."""

from __future__ import annotations

import itertools
import json

from hypothesis import given
from hypothesis import strategies as st

from core.json_stream import ObjectEnd, cut_after_object, first_object

_SCALARS = st.none() | st.booleans() | st.integers() | st.text()
_VALUES = st.recursive(
    _SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4), max_leaves=12
)


def scan(*pieces: str) -> ObjectEnd:
    found = ObjectEnd()
    for piece in pieces:
        found.feed(piece)
    return found


@given(
    obj=st.dictionaries(st.text(), _VALUES, max_size=5),
    cuts=st.lists(st.integers(min_value=0), max_size=8),
    before=st.sampled_from(["", "```json\n", "Here it is: ", 'I use {x} and "quotes" here: ', "{x} is not it: [1]"]),
    after=st.text(),
)
def test_the_end_is_found_however_the_text_is_cut(obj, cuts, before, after):
    encoded = json.dumps(obj, ensure_ascii=False)
    text = before + encoded + after
    bounds = sorted({0, len(text), *(cut % (len(text) + 1) for cut in cuts)})
    found = scan(*(text[a:b] for a, b in itertools.pairwise(bounds)))
    assert found.end == len(before) + len(encoded) and found.value == obj
    assert found.trailing == bool(after.strip())
    assert cut_after_object(text, found) == (text[: found.end] if after.strip() else text)


def test_braces_and_escaped_quotes_inside_strings_do_not_count():
    text = '{"a": "} { \\" }", "b": ["]", {"c": "\\\\"}]}'
    assert scan(text[:7], text[7:20], text[20:]).end == len(text)


def test_a_balanced_span_that_is_not_json_is_passed_over():
    assert first_object('I use {x} syntax and {"a": [1, {"b": "}"}]} then more') == {"a": [1, {"b": "}"}]}
    assert first_object("{x} and {y}") is None


def test_an_unfinished_object_has_no_end_and_whitespace_after_one_is_not_trailing():
    assert scan('{"answer": "cut').end is None
    assert scan("no object at all").end is None
    done = scan('{"a": 1}', "\n  \n")
    assert done.end == 8 and not done.trailing
    done.feed("```")
    assert done.trailing
