"""Precision and recall of the default redactor on a labelled set of Slack-style messages.

``tests/data/redaction_cases.jsonl`` holds one case a line: ``{"text": ..., "spans": [{"kind": ...,
"value": ...}]}`` where ``value`` is the exact substring that must be redacted (the n-th span with a
given value is its n-th occurrence); a case with no spans must come through untouched. A predicted
finding is a true positive when it has the labelled kind and covers the labelled value exactly or
with only punctuation or whitespace around it. The table lands in the terminal summary.
"""

from __future__ import annotations

import json
import string
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from core.redaction import DEFAULT_REDACTOR, KINDS, Finding

CASES_PATH = Path(__file__).resolve().parents[1] / "data" / "redaction_cases.jsonl"
MIN_OVERALL = 0.95
MIN_PER_KIND = 0.90


@dataclass(frozen=True)
class Span:
    kind: str
    start: int
    end: int


def load_cases() -> list[tuple[str, list[Span]]]:
    cases = []
    for number, line in enumerate(CASES_PATH.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        case = json.loads(line)
        cases.append((case["text"], gold_spans(case, number)))
    return cases


def gold_spans(case: dict, line: int) -> list[Span]:
    seen: Counter[str] = Counter()
    spans = []
    for label in case["spans"]:
        value = label["value"]
        start = -1
        for _ in range(seen[value] + 1):
            start = case["text"].find(value, start + 1)
            assert start >= 0, f"line {line}: {value!r} does not occur {seen[value] + 1} time(s) in the text"
        seen[value] += 1
        spans.append(Span(label["kind"], start, start + len(value)))
    return spans


def only_padding(chars: str) -> bool:
    return all(c.isspace() or c in string.punctuation or unicodedata.category(c).startswith("P") for c in chars)


def covers(text: str, found: Finding, gold: Span) -> bool:
    return (
        found.kind == gold.kind
        and found.start <= gold.start
        and found.end >= gold.end
        and only_padding(text[found.start : gold.start] + text[gold.end : found.end])
    )


@dataclass
class Tally:
    predicted: int = 0
    labelled: int = 0
    matched: int = 0

    @property
    def precision(self) -> float:
        return self.matched / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.matched / self.labelled if self.labelled else 1.0


def score(cases: list[tuple[str, list[Span]]]) -> tuple[dict[str, Tally], list[str]]:
    tallies = {kind: Tally() for kind in KINDS}
    misses = []
    for text, golds in cases:
        findings = list(DEFAULT_REDACTOR.redact(text).findings)
        for finding in findings:
            tallies[finding.kind].predicted += 1
        unused = list(findings)
        for gold in golds:
            tallies[gold.kind].labelled += 1
            match = next((f for f in unused if covers(text, f, gold)), None)
            if match is None:
                misses.append(f"missed {gold.kind} {text[gold.start:gold.end]!r} in {text!r}")
            else:
                unused.remove(match)
                tallies[gold.kind].matched += 1
        for extra in unused:
            if not any(covers(text, extra, gold) for gold in golds):
                misses.append(f"wrong {extra.kind} {text[extra.start:extra.end]!r} in {text!r}")
    return tallies, misses


def test_data_set_is_big_and_covers_every_kind():
    cases = load_cases()
    labelled = Counter(span.kind for _, spans in cases for span in spans)
    assert len(cases) >= 200
    assert sum(1 for _, spans in cases if not spans) >= 80, "too few hard negatives"
    assert set(labelled) == set(KINDS)
    assert min(labelled.values()) >= 20


def test_precision_and_recall(quality_report):
    tallies, misses = score(load_cases())
    total = Tally(
        predicted=sum(t.predicted for t in tallies.values()),
        labelled=sum(t.labelled for t in tallies.values()),
        matched=sum(t.matched for t in tallies.values()),
    )
    rows = [(kind, t.labelled, t.predicted, t.matched, t.precision, t.recall) for kind, t in sorted(tallies.items())]
    rows.append(("overall", total.labelled, total.predicted, total.matched, total.precision, total.recall))
    quality_report(
        f"redaction quality ({CASES_PATH.name}, span level)",
        rows,
        headers=("kind", "labelled", "predicted", "correct", "precision", "recall"),
    )
    report = "\n".join(misses)
    assert total.precision >= MIN_OVERALL, report
    assert total.recall >= MIN_OVERALL, report
    for kind, tally in tallies.items():
        assert tally.precision >= MIN_PER_KIND, f"{kind} precision\n{report}"
        assert tally.recall >= MIN_PER_KIND, f"{kind} recall\n{report}"

