"""How many of the humans' action items and decisions Baton's meeting notes recover, on real meetings.

    python -m bench.meeting_quality [--mode extractive|llm] [--repeat 10]

Loads the AMI meetings in ``../shared/fixtures/transcripts/ami_*.json`` (real design-team meetings with
the AMI corpus's human abstractive summaries, whose "actions" and "decisions" sections are the
references), builds a :class:`core.meetings.records.Transcript` straight from each file's turns
(``Turn(speaker, text)``), takes notes, and compares them with the references.

``--mode extractive`` (default) runs the degraded-mode extractor ``core.meetings.extract.extract_notes``;
``--mode llm`` runs ``workers.meetings.notes.take_notes`` with a real model, configured from
``OPENAI_BASE_URL`` and/or ``OPENAI_API_KEY`` (one of them) and ``BATON_CHAT_MODEL`` (required, so the
results say which model ran; ``BATON_CHEAP_MODEL`` optionally for the per-chunk calls). Meetings where
``take_notes`` fell back to the extractor are flagged with its reason in the output. The meeting date
given to both is 2026-03-02 (the corpus has none; it only affects due dates, which are not scored).

Matching rule (the same for action items and decisions). A text's *content stems* are
``core.meetings.text.content_words``: lowercased words, with stop words, fillers, contractions and
corpus markers removed, each cut by a tiny suffix stripper (-ies -> -y, -ing, -ed, -s, then a final
-e: "buttons" = "button", "decided" = "decide"). Let R be the set of a reference item's stems and E
that of an extracted item (for action items: owner name + task, since references name the owner,
"The project manager will ..."; for decisions: the decision text). The pair **matches** when

    |R ∩ E| >= 2  and  |R ∩ E| / |R| >= 0.5

i.e. the extracted item contains at least half of the reference's content (and two words of it).
*Recall* = references matched by at least one extracted item. *Matched extracted* = extracted items
matching at least one reference, a rough precision (references are abstractive summaries, so a
correct extracted item often shares few words with them; read it as a lower bound). The JSON keeps,
for every reference, the best coverage |R ∩ E| / |R| and the extracted text that reached it.

Also times the extractor on the ~100-minute ICSI meeting ``icsi_Bns002.json`` (1,605 turns, no
references). Prints Markdown tables and writes ``bench/results/meeting_quality[.llm].json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from bench._common import machine, markdown_table, write_results
from core.meetings.extract import extract_notes
from core.meetings.records import MeetingNotes, Transcript, Turn
from core.meetings.text import content_words

FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "transcripts"
LONG_MEETING = "icsi_Bns002.json"
MEETING_DATE = date(2026, 3, 2)
#: The matching rule's two thresholds (see the module docstring).
MIN_SHARED = 2
MIN_COVERAGE = 0.5


@dataclass
class Run:
    """Notes of one meeting and what producing them cost."""

    notes: MeetingNotes
    seconds: float
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    #: Why the extractor stood in for the model (llm mode), if it did.
    degraded_reason: str | None = None


Taker = Callable[[Transcript], Run]


def load(path: Path) -> tuple[Transcript, dict[str, Any]]:
    """A fixture's transcript (turns exactly as stored) and its raw JSON."""
    data = json.loads(path.read_text())
    turns = tuple(Turn(t["speaker"], t["text"], t.get("start"), t.get("end")) for t in data["turns"])
    return Transcript(turns, "json", "utf-8"), data


def stems(text: str) -> set[str]:
    return set(content_words(text))


def coverage(reference: str, extracted: str) -> float:
    """Share of the reference's content stems found in ``extracted``; 0 if fewer than MIN_SHARED are."""
    ref, ext = stems(reference), stems(extracted)
    shared = len(ref & ext)
    return shared / len(ref) if ref and shared >= MIN_SHARED else 0.0


def score(references: Sequence[str], extracted: Sequence[str]) -> dict[str, Any]:
    """Recall of ``references`` by ``extracted`` under the matching rule, with the best match of each."""
    best: list[dict[str, Any]] = []
    for reference in references:
        top = max(((coverage(reference, text), text) for text in extracted), default=(0.0, ""))
        best.append({"reference": reference, "coverage": round(top[0], 3), "best": top[1] if top[0] else None})
    matched_extracted = sum(
        any(coverage(reference, text) >= MIN_COVERAGE for reference in references) for text in extracted
    )
    return {
        "references": len(references),
        "recalled": sum(entry["coverage"] >= MIN_COVERAGE for entry in best),
        "extracted": len(extracted),
        "matched_extracted": matched_extracted,
        "per_reference": best,
    }


def action_texts(notes: MeetingNotes) -> list[str]:
    return [f"{item.owner_name or ''} {item.task}".strip() for item in notes.action_items]


def extractive(transcript: Transcript) -> Run:
    started = time.perf_counter()
    notes = extract_notes(transcript, meeting_date=MEETING_DATE)
    return Run(notes, time.perf_counter() - started)


def llm_taker(env: Mapping[str, str]) -> Taker:
    """``take_notes`` with a real model; exits with a message naming what is missing."""
    base_url, api_key, model = env.get("OPENAI_BASE_URL"), env.get("OPENAI_API_KEY"), env.get("BATON_CHAT_MODEL")
    if not (base_url or api_key) or not model:
        sys.exit(
            "--mode llm needs a model: export OPENAI_API_KEY (or OPENAI_BASE_URL for a keyless local server) "
            "and BATON_CHAT_MODEL (e.g. gpt-4o-mini), then run again."
        )
    try:
        from workers.meetings.notes import take_notes
    except ImportError as err:
        sys.exit(f"--mode llm needs workers.meetings.notes.take_notes, which could not be imported: {err}")
    from workers.llm.client import LLMClient

    llm = LLMClient(api_key=api_key, base_url=base_url, model=model)
    cheap_model = env.get("BATON_CHEAP_MODEL") or model

    def take(transcript: Transcript) -> Run:
        started = time.perf_counter()
        outcome = take_notes(
            transcript, llm=llm, meeting_date=MEETING_DATE, team_id="bench", chat_model=model, cheap_model=cheap_model
        )
        seconds = time.perf_counter() - started
        # take_notes falls back to the extractor when the model fails: say so rather than score it as the model.
        degraded = getattr(outcome, "degraded_reason", None)
        return Run(outcome.notes, seconds, outcome.calls, outcome.input_tokens, outcome.output_tokens, degraded)

    return take


def run(take: Taker, *, mode: str, repeat: int) -> dict[str, Any]:
    meetings = []
    for path in sorted(FIXTURES.glob("ami_*.json")):
        transcript, data = load(path)
        result = take(transcript)
        meetings.append(
            {
                "meeting": path.stem,
                "turns": len(transcript.turns),
                "seconds": result.seconds,
                "calls": result.calls,
                "input_tokens": result.input_tokens,
                "output_tokens": result.output_tokens,
                "degraded_reason": result.degraded_reason,
                "actions": score(data.get("reference_action_items") or [], action_texts(result.notes)),
                "decisions": score(data.get("reference_decisions") or [], [d.text for d in result.notes.decisions]),
                "notes": {
                    "summary": list(result.notes.summary),
                    "open_questions": list(result.notes.open_questions),
                    "action_items": action_texts(result.notes),
                    "decisions": [d.text for d in result.notes.decisions],
                },
            }
        )
    long_transcript, _ = load(FIXTURES / LONG_MEETING)
    long_runs = [take(long_transcript) for _ in range(repeat if mode == "extractive" else 1)]
    notes = long_runs[-1].notes
    return {
        "machine": machine(),
        "mode": mode,
        "meeting_date": MEETING_DATE.isoformat(),
        "rule": {"min_shared": MIN_SHARED, "min_coverage": MIN_COVERAGE},
        "meetings": meetings,
        "totals": {kind: _total(meetings, kind) for kind in ("actions", "decisions")},
        "long_meeting": {
            "meeting": LONG_MEETING.removesuffix(".json"),
            "turns": len(long_transcript.turns),
            "words": long_transcript.words,
            "runs": len(long_runs),
            "seconds_min": min(r.seconds for r in long_runs),
            "seconds_median": statistics.median(r.seconds for r in long_runs),
            "seconds_max": max(r.seconds for r in long_runs),
            "summary": len(notes.summary),
            "decisions": len(notes.decisions),
            "open_questions": len(notes.open_questions),
            "action_items": len(notes.action_items),
        },
    }


def _total(meetings: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    references = sum(m[kind]["references"] for m in meetings)
    recalled = sum(m[kind]["recalled"] for m in meetings)
    extracted = sum(m[kind]["extracted"] for m in meetings)
    matched = sum(m[kind]["matched_extracted"] for m in meetings)
    return {
        "references": references,
        "recalled": recalled,
        "recall": recalled / references if references else None,
        "extracted": extracted,
        "matched_extracted": matched,
    }


def report(results: dict[str, Any]) -> str:
    rows = []
    for m in results["meetings"]:
        a, d = m["actions"], m["decisions"]
        rows.append(
            [
                m["meeting"],
                m["turns"],
                f"{a['recalled']} / {a['references']}",
                a["extracted"],
                a["matched_extracted"],
                f"{d['recalled']} / {d['references']}",
                d["extracted"],
                d["matched_extracted"],
                m["seconds"] * 1000.0,
            ]
        )
    totals = results["totals"]
    a, d = totals["actions"], totals["decisions"]
    rows.append(
        [
            "**all**",
            sum(m["turns"] for m in results["meetings"]),
            f"**{a['recalled']} / {a['references']}** ({_pct(a['recall'])})",
            a["extracted"],
            a["matched_extracted"],
            f"**{d['recalled']} / {d['references']}** ({_pct(d['recall'])})",
            d["extracted"],
            d["matched_extracted"],
            sum(m["seconds"] for m in results["meetings"]) * 1000.0,
        ]
    )
    headers = [
        "meeting",
        "turns",
        "actions recalled",
        "actions extracted",
        "extracted matching a ref",
        "decisions recalled",
        "decisions extracted",
        "extracted matching a ref",
        "ms",
    ]
    long = results["long_meeting"]
    long_line = (
        f"{long['meeting']}: {long['turns']:,} turns, {long['words']:,} words -> "
        f"median {long['seconds_median'] * 1000:.0f} ms (min {long['seconds_min'] * 1000:.0f}, "
        f"max {long['seconds_max'] * 1000:.0f} ms, "
        f"{long['runs']} runs); {long['summary']} summary bullets, "
        f"{long['decisions']} decisions, {long['open_questions']} open questions, {long['action_items']} action items"
    )
    lines = [markdown_table(headers, rows), "", long_line]
    if results["mode"] == "llm":
        meetings = results["meetings"]
        lines.append(
            f"model {results.get('model')}: {sum(m['calls'] for m in meetings)} calls, "
            f"{sum(m['input_tokens'] for m in meetings):,} input / {sum(m['output_tokens'] for m in meetings):,} "
            "output tokens on the AMI meetings"
        )
        lines += [f"DEGRADED {m['meeting']}: {m['degraded_reason']}" for m in meetings if m["degraded_reason"]]
    return "\n".join(lines)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.meeting_quality", description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("extractive", "llm"), default="extractive")
    parser.add_argument("--repeat", type=int, default=10, help="timed runs on the long meeting (extractive mode)")
    args = parser.parse_args(argv)
    take = extractive if args.mode == "extractive" else llm_taker(dict(os.environ))
    results = run(take, mode=args.mode, repeat=max(1, args.repeat))
    if args.mode == "llm":
        results["model"] = os.environ.get("BATON_CHAT_MODEL")
    print(report(results))
    path = write_results("meeting_quality" if args.mode == "extractive" else "meeting_quality.llm", results)
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
