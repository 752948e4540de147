"""A real-text retrieval set for the embedding benchmark, made from the fixtures (no synthetic text).

Corpus (memory-like texts, ~3,400): every meeting turn of ``../shared/fixtures/transcripts/*.json`` with at
least 8 words once the corpora's markers (``{vocalsound}``, ``<pause>``) are taken out; each meeting's human
reference sentences (decisions, action items, problems, progress, abstract); the 401 Slack-style messages of
``tests/data/redaction_cases.jsonl``; and the human answer of every QMSum specific query.

Two tasks, both labelled by people (QMSum, AMI/ICSI annotators), none by either model:

    answer   query: a QMSum specific query ("What did the team think about the energy source ...?");
             relevant: its reference answer, one text among the ~3,400. recall@10 = share of queries whose
             answer is in the top 10 (and MRR@10).
    span     query: a QMSum specific query or topic; relevant: the turns inside its ``relevant_text_span``.
             precision@10 = share of the top 10 that are such turns.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT.parent / "shared" / "fixtures" / "transcripts"
REDACTION_CASES = ROOT / "tests" / "data" / "redaction_cases.jsonl"
MIN_WORDS = 8
_MARKER = re.compile(r"\{[^}]*\}|<[^>]*>")
REFERENCE_SECTIONS = (
    "reference_decisions",
    "reference_action_items",
    "reference_problems",
    "reference_progress",
    "reference_abstract",
)


@dataclass
class RetrievalSet:
    """Texts to embed and the labelled queries over them (indices into ``texts``)."""

    texts: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    answer_queries: list[tuple[str, int]] = field(default_factory=list)
    span_queries: list[tuple[str, set[int]]] = field(default_factory=list)

    def add(self, text: str, kind: str) -> int:
        self.texts.append(text)
        self.kinds.append(kind)
        return len(self.texts) - 1


def clean(text: str) -> str:
    """The words of a turn without the corpora's markers."""
    return " ".join(_MARKER.sub(" ", text).split())


def _spans(raw: list[list[str]]) -> set[int]:
    return {turn for start, end in raw for turn in range(int(start), int(end) + 1)}


def build(fixtures: Path = FIXTURES, redaction_cases: Path = REDACTION_CASES) -> RetrievalSet:
    """The corpus and both tasks; raises FileNotFoundError when the fixtures are not beside the repository."""
    data = RetrievalSet()
    meetings = sorted(fixtures.glob("*.json"))
    if not meetings:
        raise FileNotFoundError(f"no meeting transcripts in {fixtures}")
    for path in meetings:
        meeting = json.loads(path.read_text(encoding="utf-8"))
        turn_index: dict[int, int] = {}
        for position, turn in enumerate(meeting["turns"]):
            text = clean(turn["text"])
            if len(text.split()) >= MIN_WORDS:
                turn_index[position] = data.add(text, "turn")
        for section in REFERENCE_SECTIONS:
            for sentence in meeting.get(section) or []:
                data.add(sentence, "reference")
        for query in meeting.get("qmsum_specific_queries") or []:
            answer = data.add(query["answer"], "answer")
            data.answer_queries.append((query["query"], answer))
            relevant = {turn_index[t] for t in _spans(query["relevant_text_span"]) if t in turn_index}
            if relevant:
                data.span_queries.append((query["query"], relevant))
        for topic in meeting.get("qmsum_topic_list") or []:
            relevant = {turn_index[t] for t in _spans(topic["relevant_text_span"]) if t in turn_index}
            if relevant:
                data.span_queries.append((topic["topic"], relevant))
    for line in redaction_cases.read_text(encoding="utf-8").splitlines():
        if line.strip():
            data.add(json.loads(line)["text"], "slack")
    return data
