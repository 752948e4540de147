"""Which actions the planner is offered when the catalogue is too large to offer them all.

With a few dozen MCP tools the catalogue would cost more prompt tokens than the request and its thread together,
and most of it has nothing to do with the request. :func:`select_actions` keeps the catalogue whole while it fits
its token budget; past that it offers:

1. every built-in action (few, and the ones most requests need);
2. every tool the request names: its action name (``github.create_issue``), or its bare tool name as a word when
   that looks like an identifier (``create_issue``, not ``search``);
3. the other tools ranked by BM25 (Okapi, k1=1.2, b=0.75) of the request (and, at a lower weight, the thread) against
   each tool's name, summary and argument names and descriptions, words stemmed with the Snowball English stemmer,
   taken best first while they fit the budget. A tool sharing no word with the request is not offered.

An action's cost is its entry in the prompt plus its variant in the reply's schema, estimated at
:data:`JSON_CHARS_PER_TOKEN` (both are JSON, whose quotes and brackets tokenise denser than the prose
:mod:`core.context_budget` estimates). Pure: no I/O.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from functools import cache, lru_cache
from typing import Any

import snowballstemmer

from core.planning.catalogue_text import compact_entry, schema_shape

Entry = Mapping[str, Any]

#: Characters per token of JSON like the catalogue's (o200k_base reads ~3.0 here: ``bench/prompt_tokens.py``).
JSON_CHARS_PER_TOKEN = 3
#: What each step variant of the schema adds around an action's argument shape (``{"type":"object",...}``).
_VARIANT_CHARS = 215
#: BM25's term-frequency saturation and length normalisation (the usual values).
K1 = 1.2
B = 0.75
#: How much a word of the thread counts against one of the request itself.
THREAD_WEIGHT = 0.3

# A tool name with one of these is an identifier a person only writes on purpose.
_IDENTIFIER = re.compile(r"[_\-0-9]|[a-z][A-Z]")
_WORD = re.compile(r"[a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
# Words that say nothing about which tool is meant (request and tool text alike).
_STOPWORDS = frozenset(
    {
        "a", "an", "and", "are", "as", "at", "be", "by", "can", "could", "do", "for", "from", "get", "give", "has",
        "have", "i", "if", "in", "into", "is", "it", "its", "me", "my", "of", "on", "or", "our", "please", "should",
        "so", "some", "that", "the", "their", "them", "then", "there", "these", "this", "those", "to", "us", "we",
        "what", "when", "where", "which", "who", "will", "with", "would", "you", "your",
    }
)  # fmt: skip


def entry_cost(entry: Entry) -> int:
    """Estimated prompt tokens of offering ``entry``: its text in the catalogue and its shape in the schema."""
    text = json.dumps(compact_entry(entry), ensure_ascii=False)
    shape = json.dumps(schema_shape(entry.get("args_schema") or {}), separators=(",", ":"))
    return math.ceil((len(text) + len(shape) + len(str(entry["action"])) + _VARIANT_CHARS) / JSON_CHARS_PER_TOKEN)


def select_actions(
    entries: Sequence[Entry],
    *,
    request: str,
    thread: str = "",
    budget_tokens: int,
    cost: Callable[[Entry], int] = entry_cost,
) -> list[Entry]:
    """The entries to offer for ``request`` within ``budget_tokens`` (all of them when they fit), in catalogue order.

    Built-in actions (entries without a ``source``) and tools the request names are always offered, even past the
    budget; the rest by relevance while they fit.
    """
    costs = [cost(entry) for entry in entries]
    if sum(costs) <= budget_tokens:
        return list(entries)
    chosen = {i for i, entry in enumerate(entries) if "source" not in entry or names_tool(request, entry)}
    spent = sum(costs[i] for i in chosen)
    others = [i for i in range(len(entries)) if i not in chosen]
    scores = bm25_scores([document_words(entries[i]) for i in others], query_weights(request, thread))
    for score, i in sorted(zip(scores, others, strict=True), key=lambda pair: (-pair[0], pair[1])):
        if score <= 0:
            break
        if spent + costs[i] <= budget_tokens:
            chosen.add(i)
            spent += costs[i]
    return [entries[i] for i in sorted(chosen)]


def names_tool(request: str, entry: Entry) -> bool:
    """Whether ``request`` names the tool: its whole action name anywhere, or its bare name as a word when that
    looks like an identifier (``create_issue``, ``getUser``, ``s3-sync``; not an English word like ``search``)."""
    action = str(entry["action"])
    text = request.lower()
    if action.lower() in text:
        return True
    bare = action.rsplit(".", 1)[-1]
    if not _IDENTIFIER.search(bare):
        return False
    return re.search(rf"(?<![\w.-]){re.escape(bare.lower())}(?![\w-])", text) is not None


def document_words(entry: Entry) -> list[str]:
    """The stemmed words a tool is found by: its action name (twice: names matter most), summary and arguments."""
    schema = entry.get("args_schema") or {}
    properties = schema.get("properties") or {} if isinstance(schema, Mapping) else {}
    parts = [str(entry["action"])] * 2 + [str(entry.get("summary") or "")]
    for name, prop in properties.items():
        parts.append(str(name))
        if isinstance(prop, Mapping):
            parts.append(str(prop.get("description") or ""))
    return words(" ".join(parts))


def query_weights(request: str, thread: str = "") -> dict[str, float]:
    """Each stemmed word of the request (weight 1 per use) and of the thread (:data:`THREAD_WEIGHT` per use)."""
    weights: dict[str, float] = {}
    for text, weight in ((request, 1.0), (thread, THREAD_WEIGHT)):
        for word in words(text):
            weights[word] = weights.get(word, 0.0) + weight
    return weights


def bm25_scores(documents: Sequence[Sequence[str]], query: Mapping[str, float]) -> list[float]:
    """Okapi BM25 of each document (a list of words) for a weighted query; IDF is the non-negative variant."""
    if not documents:
        return []
    average = sum(len(d) for d in documents) / len(documents) or 1.0
    frequency: Counter[str] = Counter(word for d in documents for word in set(d))
    n = len(documents)
    idf = {word: math.log(1 + (n - frequency[word] + 0.5) / (frequency[word] + 0.5)) for word in query}
    scores = []
    for document in documents:
        counts = Counter(document)
        norm = K1 * (1 - B + B * len(document) / average)
        scores.append(
            sum(
                weight * idf[word] * counts[word] * (K1 + 1) / (counts[word] + norm)
                for word, weight in query.items()
                if counts[word]
            )
        )
    return scores


def words(text: str) -> list[str]:
    """Lower-cased, stemmed words of ``text`` (camelCase and snake_case split), stopwords and single letters (the
    ``s`` of "customer's") left out."""
    split = _CAMEL.sub(" ", text).lower()
    return [_stem(word) for word in _WORD.findall(split) if len(word) > 1 and word not in _STOPWORDS]


@cache
def _stemmer() -> Any:
    return snowballstemmer.stemmer("english")


@lru_cache(maxsize=16_384)
def _stem(word: str) -> str:
    return str(_stemmer().stemWord(word))
