"""How long model calls may take: each attempt by its purpose, and all the calls of one piece of work together.

A plan wants an answer in seconds, a meeting part may take a minute on a local server, and a digest's intro is a
few sentences, so one per-attempt timeout for all of them is either too short for meetings or far too long for a
plan. Each purpose has its own (``<purpose>_repair`` takes its purpose's unless set itself); the deadlines of a
request's planning, a meeting's notes and a digest bound every attempt, retry, repair and fallback of that work
together (:class:`workers.llm.deadline.Deadline`), so attempts never pile up behind a slow server.
"""

from __future__ import annotations

from collections.abc import Mapping

from core import defaults

#: The purposes a timeout may be set for (``BATON_LLM_TIMEOUTS``): Baton's model calls and their repairs.
PURPOSES = frozenset(defaults.LLM_ATTEMPT_TIMEOUTS) | {f"{p}_repair" for p in defaults.LLM_ATTEMPT_TIMEOUTS}


def attempt_timeout(purpose: str, timeouts: Mapping[str, float], *, default: float) -> float:
    """Seconds one attempt of a call made for ``purpose`` may take: its own entry, else its purpose's (for a
    repair), else ``default``."""
    if purpose in timeouts:
        return timeouts[purpose]
    return timeouts.get(purpose.removesuffix("_repair"), default)


def parse_timeouts(value: str, *, unit: str = "seconds") -> tuple[tuple[str, int], ...]:
    """``purpose=seconds,...`` (or another whole-number ``unit``, e.g. output tokens) as pairs; raises ``ValueError``
    naming the entry that is not one."""
    pairs: list[tuple[str, int]] = []
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        purpose, sep, seconds = (s.strip() for s in part.partition("="))
        if not sep or purpose not in PURPOSES or not seconds.isdigit() or int(seconds) < 1:
            raise ValueError(f"entry {part!r} is not purpose={unit} (purposes: {', '.join(sorted(PURPOSES))})")
        pairs.append((purpose, int(seconds)))
    return tuple(pairs)
