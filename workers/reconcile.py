"""The reconciler: finds work that Postgres says is unfinished and Redis forgot, and fixes it.

The workers run it between jobs (one pass per 5 s across all of them), and ``baton scheduler``
enqueues it too, so recovery needs no particular process; a Postgres advisory lock lets one pass run at a
time across every process and machine. It never does side effects itself: it re-enqueues jobs, which are
idempotent, from what Postgres says is unfinished (never from RQ's failed registry), and expires stale
plans. Recovery of a SIGKILLed worker's step waits only for the step's lease (15 s, renewed while its runner
lives: workers/lease_keeper.py), not for RQ's abandoned-job detection. A step parked by an outage
(``workers/parking.py``) is resumed the same way once its lease (its next try) has passed, and a parked final
report is retried when due, and so is a reply of the Slack outbox whose turn passed unposted
(``workers/outbox.py``). The data of a workspace that uninstalled Baton is purged once its grace period has
passed (``workers.uninstall``).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from core import defaults
from memory import audit, locks, outbox, parking, plans, requests, vectors, workspace_purge
from memory.db import Conn
from memory.locks import try_advisory_lock
from memory.store import delete_expired
from workers.api import EMBED_PENDING_JOB, JOBS, enqueue, enqueue_job
from workers.assistant import regreet_lost
from workers.cards import update_card
from workers.job_context import current
from workers.queue_admin import end_dead_runs
from workers.team_tokens import acting_for
from workers.uninstall import purge_due

log = logging.getLogger(__name__)


def reconcile(now_iso: str | None = None) -> dict[str, list[int]]:
    """One reconciliation pass (nothing, when another process is running one). ``now_iso`` pins the clock
    (tests); otherwise the worker's clock."""
    ctx = current()
    now = datetime.fromisoformat(now_iso) if now_iso else ctx.now()
    grace = now - timedelta(seconds=defaults.RECONCILE_GRACE_SECONDS)
    stamp = f"-r{int(now.timestamp())}"
    done: dict[str, list[int]] = {
        "expired": [],
        "requests": [],
        "cards": [],
        "plans_started": [],
        "plans_resumed": [],
        "reports_retried": [],
        "memories_removed": [],
        "removals": [],
        "workspaces_purged": [],
        "outbox": [],
    }
    assert ctx.redis is not None, "the reconciler needs Redis to re-enqueue work"
    with ctx.db() as conn, try_advisory_lock(conn, locks.RECOVERY) as mine:
        if not mine:
            log.debug("another process is running the recovery pass")
            return done
        for plan_id in plans.expire_due(conn, now=now):
            plan = plans.load_plan(conn, plan_id)
            if plan is not None:
                audit.append(conn, team_id=plan.team_id, plan_id=plan_id, kind="plan.expired")
                with acting_for(ctx, plan.team_id):
                    update_card(ctx, plan)
            done["expired"].append(plan_id)
        stuck_before = now - timedelta(seconds=defaults.PLANNING_STUCK_SECONDS)
        for request_id in requests.stale_requests(conn, older_than=grace):
            record = requests.load_request(conn, request_id)
            if record is None:
                continue
            if record.status == "planning" and not requests.reset_stuck_planning(
                conn, request_id, older_than=stuck_before
            ):
                continue  # still within its planning time; the planner may be alive
            if record.status == "planning":
                end_dead_runs(ctx.redis, func=JOBS["plan_request"][1], ident=request_id, started_before=stuck_before,
                              reason="planning overdue: its runner is taken for dead; enqueued again")
            enqueue_job(ctx.redis, "plan_request", request_id, suffix=stamp)
            audit.append(conn, team_id=record.team_id, request_id=request_id, kind="reconcile.recovered",
                         what="request", status=record.status)
            done["requests"].append(request_id)
        for plan_id in plans.cardless_plans(
            conn, older_than=grace, newer_than=now - timedelta(seconds=defaults.CARD_RETRY_HORIZON_SECONDS)
        ):
            enqueue_job(ctx.redis, "post_plan_card", plan_id, suffix=stamp)
            _recovered_plan(conn, plan_id, what="plan_card")
            done["cards"].append(plan_id)
        for plan_id in plans.approved_not_started(conn, older_than=grace):
            enqueue_job(ctx.redis, "execute_plan", plan_id, suffix=stamp)
            _recovered_plan(conn, plan_id, what="plan_start")
            done["plans_started"].append(plan_id)
        lapsed = now - timedelta(seconds=defaults.STEP_LEASE_SECONDS)
        for plan_id in plans.plans_with_expired_leases(conn, now=now):
            # The runner that let its lease lapse is dead: its RQ run no longer counts as running.
            end_dead_runs(ctx.redis, func=JOBS["execute_plan"][1], ident=plan_id, started_before=lapsed,
                          reason="its runner died (the step's lease lapsed); the recovery pass enqueued it again")
            enqueue_job(ctx.redis, "execute_plan", plan_id, suffix=stamp)
            _recovered_plan(conn, plan_id, what="plan_resume")
            done["plans_resumed"].append(plan_id)
        for plan_id in plans.stalled_plans(conn, now=now, older_than=grace):
            if plan_id not in done["plans_resumed"]:
                enqueue_job(ctx.redis, "execute_plan", plan_id, suffix=stamp)
                _recovered_plan(conn, plan_id, what="plan_resume")
                done["plans_resumed"].append(plan_id)
        for plan_id in parking.reports_due(conn, now=now):
            # A final report Slack refused (workers/parking.py): the plan's runner tries to post it again.
            if plan_id not in done["plans_resumed"]:
                enqueue_job(ctx.redis, "execute_plan", plan_id, suffix=stamp)
                _recovered_plan(conn, plan_id, what="plan_report")
                done["reports_retried"].append(plan_id)
        for post_id in outbox.overdue_threads(conn, older_than=grace):
            # A reply whose turn passed unposted (its job lost with Redis, its worker dead): its thread is drained.
            enqueue_job(ctx.redis, "post_outbox", post_id, suffix=stamp)
            done["outbox"].append(post_id)
        outbox.prune(conn, done_before=now - timedelta(seconds=defaults.OUTBOX_KEEP_SECONDS))
        regreet_lost(ctx, conn, now=now, stamp=stamp)  # a new assistant thread whose greeting job was lost
        retention = ctx.settings.memory_retention_days
        removed = delete_expired(conn, now=now, unused_before=now - timedelta(days=retention) if retention else None)
        for team_id, count in removed.items():
            audit.append(conn, team_id=team_id, kind="memory.expired", count=count, retention_days=retention)
            done["memories_removed"].append(count)
        for event_pk in workspace_purge.unhandled_removals(conn, older_than=grace):
            # An app_uninstalled / tokens_revoked whose job was lost (Redis down at the ack): handle it now.
            enqueue_job(ctx.redis, "retire_workspace", event_pk, suffix=stamp)
            done["removals"].append(event_pk)
        for counts in purge_due(conn, now=now).values():  # uninstalled workspaces past their grace period
            done["workspaces_purged"].append(sum(counts.values()))
        if vectors.any_unembedded(conn):
            # Memories stored while the embedding service was down (or before it existed) get their vectors.
            enqueue(
                ctx.redis, "default", EMBED_PENDING_JOB, job_id=f"embed-pending{stamp}"
            )
    if any(done.values()):
        log.info("reconciler: %s", done)
    return done


def _recovered_plan(conn: Conn, plan_id: int, *, what: str) -> None:
    """Audit a plan the reconciler enqueued again (``reconcile.recovered``; counted by ``/metrics``)."""
    plan = plans.load_plan(conn, plan_id)
    if plan is not None:
        audit.append(conn, team_id=plan.team_id, plan_id=plan_id, kind="reconcile.recovered", what=what,
                     status=plan.status)
