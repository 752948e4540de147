"""What a digest says, selected and ordered from the loaded facts (pure: no I/O, no clock).

``select`` turns ``DigestFacts`` into a ``Digest``: ordered sections ready to render
(``slackui.digest_views``). ``facts_json`` is the bounded view a model is given to write the
introduction, and ``template_intro`` the introduction used when no model is available. Nothing here
adds to the facts; it only filters, groups, orders and counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from core.digest.facts import DigestFacts, DigestKind, ItemFact, MeetingFact, MemoryFact, PlanFact

#: Finished plans, by outcome. Other statuses (pending, approved, running) are not finished.
SUCCEEDED = frozenset({"succeeded"})
FAILED = frozenset({"failed", "compensated", "compensation_failed"})
LAPSED = frozenset({"expired", "rejected"})
#: Memory kinds worth a line in a digest and their rank: decisions first, then facts and preferences
#: together. Outcomes are not notable (the finished plans already report them).
NOTABLE_MEMORY_RANK = {"decision": 0, "fact": 1, "preference": 1}
#: A digest lists the newest few notable memories; the rest are counted (``Digest.more_memories``).
MAX_MEMORIES = 5


@dataclass(frozen=True)
class DueItem:
    """An open action item due on or before the digest's day; ``days_overdue`` is 0 when due that day."""

    item: ItemFact
    days_overdue: int


@dataclass(frozen=True)
class OwnerItems:
    """One owner's due items, most overdue first; ``owner_id`` is None for unassigned items."""

    owner_id: str | None
    items: tuple[DueItem, ...]

    @property
    def most_overdue(self) -> int:
        """Days overdue of this owner's most overdue item."""
        return max((due.days_overdue for due in self.items), default=0)


@dataclass(frozen=True)
class Digest:
    """A digest's sections in the order they are shown; every tuple is already ordered.

    ``pending``: plans waiting for approval (personal: waiting for this person), oldest first.
    ``succeeded`` / ``failed`` (failed or compensated) / ``lapsed`` (expired or rejected): plans
    finished since the last digest, newest first. ``due``: action items due on ``as_of`` or overdue,
    grouped by owner, most overdue owner first and unassigned last (personal: one group, the
    person's). ``meetings``: meeting notes posted, newest first. ``memories``: at most
    ``MAX_MEMORIES`` notable memories, decisions first, then facts and preferences, newest first
    within a kind; ``more_memories`` counts the notable ones left out. ``requested`` (personal):
    plans the person asked for, newest first. ``cost_usd`` / ``llm_calls``: model spend since.
    """

    kind: DigestKind
    target: str
    since: datetime
    until: datetime
    as_of: date
    pending: tuple[PlanFact, ...] = ()
    succeeded: tuple[PlanFact, ...] = ()
    failed: tuple[PlanFact, ...] = ()
    lapsed: tuple[PlanFact, ...] = ()
    due: tuple[OwnerItems, ...] = ()
    meetings: tuple[MeetingFact, ...] = ()
    memories: tuple[MemoryFact, ...] = ()
    more_memories: int = 0
    requested: tuple[PlanFact, ...] = ()
    cost_usd: Decimal = Decimal(0)
    llm_calls: int = 0

    @property
    def finished(self) -> tuple[PlanFact, ...]:
        """All finished plans: succeeded, then failed, then expired or rejected."""
        return self.succeeded + self.failed + self.lapsed

    @property
    def due_items(self) -> tuple[DueItem, ...]:
        """Every due item, in the order shown (owner by owner)."""
        return tuple(due for group in self.due for due in group.items)

    @property
    def is_empty(self) -> bool:
        """Nothing to report: no plans pending, finished or requested, no due items, no meetings and
        no memories. Model cost alone does not make a digest worth sending."""
        return not (self.pending or self.finished or self.due or self.meetings or self.memories or self.requested)


def _newest_first(plans: Iterable[PlanFact]) -> tuple[PlanFact, ...]:
    return tuple(sorted(plans, key=lambda plan: (plan.at, plan.id), reverse=True))


def _due_groups(items: Iterable[ItemFact], today: date, *, personal_owner: str | None) -> tuple[OwnerItems, ...]:
    due = [DueItem(item, (today - item.due_date).days) for item in items if item.due_date <= today]
    due.sort(key=lambda d: (-d.days_overdue, d.item.due_date, d.item.title.casefold(), d.item.task_id))
    if not due:
        return ()
    if personal_owner is not None:
        return (OwnerItems(personal_owner, tuple(due)),)
    by_owner: dict[str | None, list[DueItem]] = {}
    for entry in due:
        by_owner.setdefault(entry.item.owner_id, []).append(entry)
    groups = [OwnerItems(owner, tuple(entries)) for owner, entries in by_owner.items()]
    groups.sort(key=lambda g: (g.owner_id is None, -g.most_overdue, -len(g.items), g.owner_id or ""))
    return tuple(groups)


def _notable(memories: Iterable[MemoryFact]) -> list[MemoryFact]:
    notable = [memory for memory in memories if memory.kind in NOTABLE_MEMORY_RANK]
    # Newest first, then a stable sort by rank keeps newest-first within each rank.
    notable.sort(key=lambda memory: (memory.at, memory.id), reverse=True)
    notable.sort(key=lambda memory: NOTABLE_MEMORY_RANK[memory.kind])
    return notable


def select(facts: DigestFacts) -> Digest:
    """The digest for ``facts``: filtered, grouped and ordered, never added to."""
    today = facts.as_of
    notable = _notable(facts.memories)
    personal = facts.kind == "personal"
    return Digest(
        kind=facts.kind,
        target=facts.target,
        since=facts.since,
        until=facts.until,
        as_of=today,
        pending=tuple(sorted(facts.pending, key=lambda plan: (plan.at, plan.id))),
        succeeded=_newest_first(p for p in facts.finished if p.status in SUCCEEDED),
        failed=_newest_first(p for p in facts.finished if p.status in FAILED),
        lapsed=_newest_first(p for p in facts.finished if p.status in LAPSED),
        due=_due_groups(facts.items, today, personal_owner=facts.target if personal else None),
        meetings=tuple(sorted(facts.meetings, key=lambda m: (m.at, m.id), reverse=True)),
        memories=tuple(notable[:MAX_MEMORIES]),
        more_memories=max(0, len(notable) - MAX_MEMORIES),
        requested=_newest_first(facts.requested),
        cost_usd=facts.cost_usd,
        llm_calls=facts.llm_calls,
    )


# -- the introduction's inputs -------------------------------------------------------------------------
#: ``facts_json`` lists at most this many entries per section (the counts stay exact) ...
MAX_JSON_ENTRIES = 20
#: ... with titles and memory texts clipped to this many characters.
MAX_JSON_TEXT = 150
_BROADCASTS = {"<!channel>": "@channel", "<!here>": "@here", "<!everyone>": "@everyone"}


def _text(text: str) -> str:
    """User-written text for the model: one line, bounded, without channel-wide mention tokens."""
    for token, plain in _BROADCASTS.items():
        text = text.replace(token, plain)
    text = " ".join(text.split())
    return text if len(text) <= MAX_JSON_TEXT else text[: MAX_JSON_TEXT - 1] + "…"


def _listing(entries: list[dict[str, Any]], count: int | None = None) -> dict[str, Any]:
    return {"count": len(entries) if count is None else count, "entries": entries[:MAX_JSON_ENTRIES]}


def _plans_json(plans: tuple[PlanFact, ...]) -> dict[str, Any]:
    return _listing([{"title": _text(p.title), "status": p.status, "risk": p.risk, "at": p.at.isoformat()}
                     for p in plans[:MAX_JSON_ENTRIES]], len(plans))


def facts_json(digest: Digest) -> dict[str, Any]:
    """A compact, JSON-able view of the digest's facts: what a model is given to write the
    introduction. Counts are exact; each list holds at most ``MAX_JSON_ENTRIES`` entries, in the
    digest's order, and titles are clipped to ``MAX_JSON_TEXT`` characters."""
    due = digest.due_items
    return {
        "kind": digest.kind,
        "since": digest.since.isoformat(),
        "until": digest.until.isoformat(),
        "today": digest.as_of.isoformat(),
        "pending_approval": _plans_json(digest.pending),
        "succeeded": _plans_json(digest.succeeded),
        "failed": _plans_json(digest.failed),
        "expired_or_rejected": _plans_json(digest.lapsed),
        "due_items": {
            **_listing([{"title": _text(d.item.title),
                         "owner": f"<@{d.item.owner_id}>" if d.item.owner_id else None,
                         "due": d.item.due_date.isoformat(), "days_overdue": d.days_overdue}
                        for d in due[:MAX_JSON_ENTRIES]], len(due)),
            "overdue": sum(1 for d in due if d.days_overdue > 0),
            "owners": sum(1 for group in digest.due if group.owner_id is not None),
        },
        "meetings": _listing([{"title": _text(m.title), "action_items": m.action_items, "decisions": m.decisions}
                              for m in digest.meetings[:MAX_JSON_ENTRIES]], len(digest.meetings)),
        "memories": _listing([{"kind": m.kind, "text": _text(m.text)} for m in digest.memories],
                             len(digest.memories) + digest.more_memories),
        "requested": _plans_json(digest.requested),
        "cost": {"usd": str(digest.cost_usd), "model_calls": digest.llm_calls},
    }


def _n(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _and(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _finished_clause(digest: Digest, *, noun: bool) -> str | None:
    expired = sum(1 for p in digest.lapsed if p.status == "expired")
    rejected = len(digest.lapsed) - expired
    counts = [(len(digest.succeeded), "ran"), (len(digest.failed), "failed"), (expired, "expired"),
              (rejected, "was rejected" if rejected == 1 else "were rejected")]
    parts = [f"{count} {verb}" for count, verb in counts if count]
    if not parts:
        return None
    if noun:  # the first count names what is counted: "3 plans ran and 1 failed"
        count, _, verb = parts[0].partition(" ")
        parts[0] = f"{_n(int(count), 'plan', 'plans')} {verb}"
    return _and(parts) + " since the last digest"


def template_intro(digest: Digest) -> str:
    """The introduction written from counts alone, used when no model is available: one or two
    sentences, e.g. "2 plans wait for approval, 3 ran and 1 failed since the last digest; 4 action
    items are due or overdue." For an empty digest, "Nothing new since the last digest."."""
    personal = digest.kind == "personal"
    items = len(digest.due_items)
    pending = len(digest.pending)
    plans: list[str] = []
    if pending:
        plans.append(_n(pending, "plan waits", "plans wait") + (" for your approval" if personal else " for approval"))
    finished = _finished_clause(digest, noun=not pending)
    first: list[str] = []
    if items and personal:
        first.append(f"you have {_n(items, 'action item', 'action items')} due or overdue")
    elif items:
        first.append(_n(items, "action item is", "action items are") + " due or overdue")
    if personal:
        first += plans
    elif plans or finished:
        first.insert(0, ", ".join(plans + ([finished] if finished else [])))
    second: list[str] = []
    if digest.requested:
        second.append(_n(len(digest.requested), "plan you asked for is", "plans you asked for are") + " listed below")
    if personal and finished:
        second.append(finished)
    if digest.meetings:
        second.append(_n(len(digest.meetings), "meeting summary was", "meeting summaries were") + " posted")
    memories = len(digest.memories) + digest.more_memories
    if memories:
        second.append(_n(memories, "notable memory was", "notable memories were") + " added")
    sentences = ["; ".join(first), _and(second) if second else ""]
    text = " ".join(s[0].upper() + s[1:] + "." for s in sentences if s)
    return text or "Nothing new since the last digest."
