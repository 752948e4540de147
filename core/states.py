"""Explicit state machines for plans and steps.

Every status change in Postgres goes through :func:`plan_transition` / :func:`step_transition`
first, so an impossible change (approving an expired plan, re-running a finished step) is refused
in one place. The database update then guards on the old status (``WHERE status = old``) so
concurrent changes lose cleanly.

::

    plan:  pending ──approve──▶ approved ──start──▶ running ──finish──▶ succeeded
              │                                        └──fail──▶ failed ──compensate──▶ compensated
              ├──reject──▶ rejected
              ├──expire──▶ expired
              └──cancel──▶ cancelled   (also from approved, and running with only parked steps: app uninstalled)

    step:  pending ──claim──▶ running ──succeed──▶ succeeded ──undo──▶ compensating ──undone──▶ compensated
              │                 │  ▲                                       └──undo_failed──▶ compensation_failed
              │                 │  └──resume (lease expired: reconciler)
              │                 ├──fail──▶ failed
              │                 └──unknown──▶ outcome_unknown   (an at-most-once call was interrupted)
              └──skip──▶ skipped                   │  a person settles it:
                                                   ├──confirm──▶ succeeded   ("It happened")
                                                   ├──rerun──▶ pending       ("Run it again": a fresh key)
                                                   └──skip──▶ skipped        ("Skip")
"""

from __future__ import annotations

from typing import Final


class InvalidTransition(ValueError):
    """The requested change is not allowed from the current status."""

    def __init__(self, kind: str, status: str, event: str) -> None:
        super().__init__(f"cannot {event} a {kind} that is {status}")
        self.status = status
        self.event = event


PLAN_TRANSITIONS: Final[dict[tuple[str, str], str]] = {
    ("pending", "approve"): "approved",
    ("pending", "reject"): "rejected",
    ("pending", "expire"): "expired",
    ("approved", "start"): "running",
    ("running", "finish"): "succeeded",
    ("running", "fail"): "failed",
    ("failed", "compensate"): "compensated",
    # The workspace removed Baton (app_uninstalled / tokens_revoked): nothing of the plan will run.
    ("pending", "cancel"): "cancelled",
    ("approved", "cancel"): "cancelled",
    ("running", "cancel"): "cancelled",
}

STEP_TRANSITIONS: Final[dict[tuple[str, str], str]] = {
    ("pending", "claim"): "running",
    ("pending", "skip"): "skipped",
    ("running", "resume"): "running",
    ("running", "succeed"): "succeeded",
    ("running", "fail"): "failed",
    ("running", "unknown"): "outcome_unknown",
    ("outcome_unknown", "confirm"): "succeeded",
    ("outcome_unknown", "rerun"): "pending",
    ("outcome_unknown", "skip"): "skipped",
    ("succeeded", "undo"): "compensating",
    ("compensating", "undone"): "compensated",
    ("compensating", "undo_failed"): "compensation_failed",
}

PLAN_FINAL: Final = frozenset({"succeeded", "failed", "compensated", "rejected", "expired", "cancelled"})
#: Final unless a person settles it (``outcome_unknown``: confirm, rerun or skip).
STEP_FINAL: Final = frozenset(
    {"succeeded", "failed", "skipped", "compensated", "compensation_failed", "outcome_unknown"}
)


def plan_transition(status: str, event: str) -> str:
    """The plan status after ``event``; raises :class:`InvalidTransition` if not allowed."""
    try:
        return PLAN_TRANSITIONS[(status, event)]
    except KeyError:
        raise InvalidTransition("plan", status, event) from None


def step_transition(status: str, event: str) -> str:
    """The step status after ``event``; raises :class:`InvalidTransition` if not allowed."""
    try:
        return STEP_TRANSITIONS[(status, event)]
    except KeyError:
        raise InvalidTransition("step", status, event) from None
