"""One scheduler tick: enqueue every timed piece of work that is due.

``baton scheduler`` calls :func:`scheduler_tick` every interval; any number of scheduler processes may
run. What makes that safe is Postgres, not a leader lock: a digest is claimed per (target, local
date) by a unique row, reminders and check-ins by a leased status change, and the reconciler job has
one id per time slot. RQ's ``rq cron`` would neither back-fill a missed run nor stop two schedulers
from both firing; here a digest missed by up to the grace (``BATON_DIGEST_GRACE_HOURS``) is sent once
on the next tick, an older one is recorded as skipped with a log line, and a claim whose sender died
is enqueued again when its lease runs out.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from core import defaults
from core.digest.schedule import due_occurrence
from memory import audit, digests
from workers.api import RECONCILE_JOB, enqueue, enqueue_job
from workers.digest_sender import LEASE
from workers.job_context import WorkerContext
from workers.meetings.followups import dispatch_followups

log = logging.getLogger(__name__)


def scheduler_tick(ctx: WorkerContext, *, now: datetime,
                   interval: float = defaults.RECONCILE_INTERVAL_SECONDS) -> dict[str, list[int]]:
    """Claim and enqueue due digests, reminders and check-ins, and the reconciler; returns what it did."""
    assert ctx.redis is not None, "the scheduler needs Redis to enqueue work"
    done: dict[str, list[int]] = {"digests": [], "digests_skipped": [], "digests_retried": [], "followups": []}
    stamp = f"-{int(now.timestamp())}"
    grace = timedelta(hours=ctx.settings.digest_grace_hours)
    with ctx.db() as conn:
        for setting in digests.enabled_settings(conn):
            decision = due_occurrence(setting, now, grace=grace)
            if decision.occurrence is None or decision.action == "none":
                continue
            occurrence = decision.occurrence
            if decision.action == "send":
                run_id = digests.claim_scheduled(conn, setting, local_date=occurrence.local_date,
                                                 due_at=occurrence.due_at, lease_until=now + LEASE)
                if run_id is not None:
                    enqueue_job(ctx.redis, "send_digest", run_id)
                    done["digests"].append(run_id)
            else:
                why = f"missed by {decision.late_by} (the grace is {grace})"
                run_id = digests.claim_scheduled(conn, setting, local_date=occurrence.local_date,
                                                 due_at=occurrence.due_at, lease_until=now, status="skipped",
                                                 error=why)
                if run_id is not None:
                    log.warning("digest for %s on %s %s; skipped", setting.target, occurrence.local_date, why)
                    audit.append(conn, team_id=setting.team_id, kind="digest.skipped", target=setting.target,
                                 local_date=occurrence.local_date.isoformat(), reason=why)
                    done["digests_skipped"].append(run_id)
        for run_id in digests.expired_claims(conn, now=now):
            enqueue_job(ctx.redis, "send_digest", run_id, suffix=stamp)
            done["digests_retried"].append(run_id)
    done["followups"] = dispatch_followups(ctx, now=now)
    slot = int(now.timestamp() // interval)
    try:
        enqueue(ctx.redis, "default", RECONCILE_JOB, job_id=f"reconcile-{slot}")
    except Exception as err:  # a Redis blip: the next tick tries again
        log.warning("could not enqueue the reconciler: %s", err)
    if any(done.values()):
        log.info("scheduler: %s", done)
    return done
