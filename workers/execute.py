"""Run an approved plan's steps exactly once each, with retries, compensation and a report.

Exactly once: each step is claimed in Postgres with a lease (``plan_steps``), its idempotency key
is claimed in the effects ledger before the side effect and completed after it, and the connector
itself refuses to repeat an effect already done under the key (it looks the key up at the far
side). So a retry, a duplicate job or a worker SIGKILLed mid-step and resumed by the reconciler
never does a side effect twice.

At most once: a connector of that class (an MCP tool with no key and no idempotent hint) is never called twice.
A step found with an earlier claim in the ledger (its worker died), or whose call was interrupted
(``OutcomeUnknown``), ends as ``outcome_unknown``; the plan waits (``running``), nothing is undone or repeated by
itself, and the thread asks a person (``workers/step_questions.py``): *It happened*, *Run it again* (a fresh
attempt key) or *Skip* (``memory/step_settlement.py``), after which the plan is run on from there. A step whose
connector's pin (an MCP tool's definition) differs from the one recorded when planned does not run, and the
thread offers to plan the request again.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from pydantic import ValidationError

from connectors.base import Connector, DefinitionChanged, OutcomeUnknown, PermanentError, RetryableError
from connectors.registry import ConnectorRegistry, UnknownAction
from core import defaults
from core.plan_records import PlanRecord, StepRecord
from memory import audit, effects, plans
from memory.db import Conn, is_outage
from slackui import replies, step_question
from workers.assistant import clear_plan_status
from workers.cards import reply_in_thread, update_card
from workers.connector_wiring import registry_for
from workers.job_context import WorkerContext, current
from workers.lease_keeper import LeaseKeeper
from workers.mcp_listing import refresh_listings
from workers.memories.outcome import remember_outcome
from workers.parking import failure_reason, hold_report, park_step, post_report, take_parked_report
from workers.step_questions import ask_about_step, offer_replan

log = logging.getLogger(__name__)


def execute_plan(plan_id: int) -> str:
    """Execute (or resume) plan ``plan_id``. Returns the plan's final status, or why it did nothing."""
    ctx = current()
    with ctx.db() as conn:
        plan = plans.load_plan(conn, plan_id)
        if plan is None:
            return "missing"
        if plan.status == "approved":
            if not plans.move_plan(conn, plan_id, event="start", frm="approved", now=ctx.now()):
                return "taken"
            audit.append(conn, team_id=plan.team_id, plan_id=plan_id, kind="plan.running")
            clear_plan_status(ctx, conn, plan)
        elif plan.status not in ("running", "failed", "succeeded", "compensated"):
            return plan.status
        registry = registry_for(ctx)
        runner = _Runner(ctx, conn, registry, plan_id)
        return runner.run()


class _Runner:
    """One pass over a plan: run pending steps in order, compensate on failure, report."""

    def __init__(self, ctx: WorkerContext, conn: Conn, registry: ConnectorRegistry, plan_id: int) -> None:
        self.ctx, self.conn, self.registry, self.plan_id = ctx, conn, registry, plan_id
        self.team_id = self.plan().team_id

    def _record(self, *, kind: str, **detail: Any) -> None:
        """Append to the audit trail of this plan."""
        audit.append(self.conn, team_id=self.team_id, plan_id=self.plan_id, kind=kind, **detail)

    def plan(self) -> PlanRecord:
        plan = plans.load_plan(self.conn, self.plan_id)
        assert plan is not None
        return plan

    def run(self) -> str:
        plan = self.plan()
        if plan.status in ("succeeded", "compensated"):
            return self.finish()  # a runner died before reporting; the report claim keeps it to one
        if plan.status == "running":
            for step in plan.steps:
                outcome = self.run_step(step.idx)
                if outcome in ("busy", "parked"):
                    # Another worker holds a live lease, or an outage parked the step (workers/parking.py): it, or
                    # the recovery pass once the lease has passed, continues. A parked step shows its wait.
                    if outcome == "parked":
                        update_card(self.ctx, self.plan())
                    return outcome
                if outcome == "outcome_unknown":
                    # A person settles it (the thread asks them); their decision runs the plan on from here.
                    ask_about_step(self.ctx, self.conn, self.plan(), step.idx)
                    update_card(self.ctx, self.plan())
                    return outcome
                if outcome == "failed":
                    if plans.move_plan(self.conn, self.plan_id, event="fail", frm="running", now=self.ctx.now()):
                        self._record(kind="plan.failed")
                    break
                update_card(self.ctx, self.plan())
            else:
                # Only the runner that moves the plan to its final state reports it (two runners can get here).
                if not plans.move_plan(self.conn, self.plan_id, event="finish", frm="running", now=self.ctx.now()):
                    return self.plan().status
                self._record(kind="plan.succeeded")
                return self.finish()
        if self.plan().status == "failed" and self.compensate() == "busy":
            return "busy"
        return self.finish()

    # -- one step ------------------------------------------------------------------------------
    def run_step(self, idx: int) -> str:
        plan = self.plan()
        step = plan.steps[idx]
        now = self.ctx.now()
        if step.status in ("succeeded", "skipped"):
            return step.status
        if step.status == "pending" and (not step.selected or self._blocked(plan, step)):
            plans.finish_step(self.conn, self.plan_id, idx, event="skip", frm="pending", now=now)
            self._record(
                kind="step.skipped",
                step=idx,
                reason="left out by the approver" if not step.selected else "a step it depends on did not run",
            )
            return "skipped"
        event = plans.claim_step(self.conn, self.plan_id, idx, now=now, lease_until=now + _lease())
        if event is None:
            return "busy" if self.plan().steps[idx].status == "running" else self.plan().steps[idx].status
        key = effects.step_key(self.plan_id, idx, step.rerun)
        self._record(
            kind="step.claimed" if event == "claim" else "step.resumed",
            step=idx,
            action=step.action,
            key=key,
            attempt=step.attempts + 1,
        )
        if self.ctx.settings.slack_plan_blocks:
            update_card(self.ctx, self.plan())  # its task turns in_progress (Slack's plan block) before the call
        effect = effects.claim(self.conn, key=key, plan_id=self.plan_id, step_idx=idx, action=step.action)
        if effect.status == "done":
            # The effect finished before (the worker died after it); record, don't repeat.
            return self._succeed(idx, effect.result or {}, recovered=True)
        if not effect.fresh and self._at_most_once(step.action):
            # An earlier attempt claimed the key and its worker stopped: the call may have been made.
            return self._unknown(idx, replies.INTERRUPTED_CALL.format(action=step.action))
        try:
            connector = self.registry.get(step.action)
            if step.pin is not None and connector.pin != step.pin:
                raise DefinitionChanged(step.action)
            args = _parse(connector, step.args)
            with LeaseKeeper(self.ctx, self.plan_id, idx):
                result = self._call_with_retries(connector, args, idx, key)
        except OutcomeUnknown as err:
            return self._unknown(idx, str(err))
        except DefinitionChanged:
            reason = replies.TOOL_CHANGED.format(action=step.action)
            outcome = self._fail(idx, reason)
            self._relist(step.action)
            offer_replan(self.ctx, self.plan(), idx, reason=reason)
            return outcome
        except (PermanentError, UnknownAction) as err:
            return self._fail(idx, str(err) if not isinstance(err, UnknownAction) else f"unknown action {err}")
        except RetryableError as err:
            # An at-most-once call is never tried again by itself: its step is not parked (it fails, or its outcome
            # is unknown), so a resumed run cannot find its key claimed and call it a second time.
            parkable = not self._at_most_once(step.action)
            if parkable and park_step(self.ctx, self.conn, self.plan(), idx, err) is not None:
                return "parked"
            return self._fail(idx, failure_reason(self.ctx, err))
        except Exception as err:  # a bug or an unexpected client error: stop safely, keep the trace in logs
            if is_outage(err):
                raise  # Postgres going away is not the step's failure: the job is tried again (workers/outage_retry.py)
            log.exception("step %s of plan %s raised", idx, self.plan_id)
            return self._fail(idx, f"internal error ({type(err).__name__})")
        effects.complete(self.conn, key=key, result=result)
        return self._succeed(idx, result, recovered=False)

    def _call_with_retries(self, connector: Connector, args: Any, idx: int, key: str) -> dict[str, Any]:
        plan = self.plan()
        for attempt in range(1, defaults.STEP_MAX_ATTEMPTS + 1):
            try:
                return _logged_execute(connector, args, plan, key=key, attempt=attempt)
            except RetryableError as err:
                if attempt == defaults.STEP_MAX_ATTEMPTS:
                    raise
                delay = (
                    err.retry_after if err.retry_after is not None else defaults.RETRY_BASE_SECONDS * 2 ** (attempt - 1)
                )
                delay = min(delay, defaults.RETRY_CAP_SECONDS)
                self._record(
                    kind="step.retry",
                    step=idx,
                    attempt=attempt,
                    error=str(err),
                    wait_seconds=delay,
                )
                plans.extend_lease(
                    self.conn, self.plan_id, idx, lease_until=self.ctx.now() + _lease() + timedelta(seconds=delay)
                )
                self.ctx.sleep(delay)
        raise AssertionError("unreachable")

    def _succeed(self, idx: int, result: dict[str, Any], *, recovered: bool) -> str:
        plans.finish_step(
            self.conn, self.plan_id, idx, event="succeed", frm="running", now=self.ctx.now(), result=result
        )
        self._record(
            kind="step.succeeded",
            step=idx,
            result=_summary(result),
            recovered=recovered,
        )
        return "succeeded"

    def _relist(self, action: str) -> None:
        """Store the changed tool's server listing anew, so the next plan (a Re-plan) offers the tool as it is."""
        server, config = action.partition(".")[0], self.ctx.settings.mcp_servers
        if server not in config.servers:
            return
        try:
            refresh_listings(self.conn, config, now=self.ctx.now(), only={server})
        except Exception:  # the refusal stands either way; the next worker start lists it again
            log.exception("could not list the MCP server %s again", server)

    def _at_most_once(self, action: str) -> bool:
        """True for at-most-once connectors, and for an action no connector offers now (its class is unknown)."""
        if action not in self.registry:
            return True
        return self.registry.get(action).idempotency == "at_most_once"

    def _unknown(self, idx: int, reason: str) -> str:
        plans.finish_step(self.conn, self.plan_id, idx, event="unknown", frm="running", now=self.ctx.now(),
                          error=reason)
        self._record(kind="step.outcome_unknown", step=idx, error=reason)
        return "outcome_unknown"

    def _fail(self, idx: int, reason: str) -> str:
        plans.finish_step(self.conn, self.plan_id, idx, event="fail", frm="running", now=self.ctx.now(), error=reason)
        self._record(kind="step.failed", step=idx, error=reason)
        return "failed"

    @staticmethod
    def _blocked(plan: PlanRecord, step: StepRecord) -> bool:
        return any(plan.steps[dep].status != "succeeded" for dep in step.depends_on if dep < len(plan.steps))

    # -- compensation ---------------------------------------------------------------------------
    def compensate(self) -> str:
        """Skip what never ran, then undo completed compensable steps in reverse order."""
        plan = self.plan()
        now = self.ctx.now()
        for step in plan.steps:
            if step.status == "pending":
                plans.finish_step(self.conn, self.plan_id, step.idx, event="skip", frm="pending", now=now)
        if any(step.status == "outcome_unknown" for step in plan.steps):
            return "done"  # a person settles what happened first; undoing around an unknown effect could be wrong
        undone_any = False
        for step in reversed(self.plan().steps):
            if not step.compensable or step.status not in ("succeeded", "compensating"):
                continue
            if step.status == "succeeded":
                if not plans.finish_step(self.conn, self.plan_id, step.idx, event="undo", frm="succeeded", now=now):
                    return "busy"
                plans.extend_lease(self.conn, self.plan_id, step.idx, lease_until=self.ctx.now() + _lease())
            key = effects.step_key(self.plan_id, step.idx, step.rerun)
            try:
                connector = self.registry.get(step.action)
                with LeaseKeeper(self.ctx, self.plan_id, step.idx):
                    outcome = connector.compensate(
                        _parse(connector, step.args), step.result or {}, origin=plan.origin, key=key
                    )
            except Exception as err:
                plans.finish_step(
                    self.conn,
                    self.plan_id,
                    step.idx,
                    event="undo_failed",
                    frm="compensating",
                    now=self.ctx.now(),
                    error=f"could not undo: {err}",
                )
                self._record(
                    kind="step.compensation_failed",
                    step=step.idx,
                    error=str(err),
                )
                continue
            effects.mark_compensated(self.conn, key=key, result=outcome)
            plans.finish_step(self.conn, self.plan_id, step.idx, event="undone", frm="compensating", now=self.ctx.now())
            self._record(
                kind="step.compensated",
                step=step.idx,
                result=_summary(outcome),
            )
            undone_any = True
        if undone_any and plans.move_plan(
            self.conn, self.plan_id, event="compensate", frm="failed", now=self.ctx.now()
        ):
            self._record(kind="plan.compensated")
        return "done"

    # -- report ---------------------------------------------------------------------------------
    def finish(self) -> str:
        plan = self.plan()
        update_card(self.ctx, plan)
        if not self._claim_report(plan):
            # Another runner reported (or is reporting) this plan, unless its report is parked and due again.
            if take_parked_report(self.ctx, self.conn, plan.id):
                post_report(self.ctx, self.conn, plan, _report_text(plan))
            return plan.status
        reports = not (plan.auto_approved and plan.status == "succeeded")
        if reports:
            hold_report(self.ctx, self.conn, plan.id)  # from here a runner that dies leaves the report due
        if plan.status == "succeeded":
            try:
                remember_outcome(self.ctx, self.conn, plan)
            except Exception:  # memory is a bonus; it must never cost the user their report
                log.exception("could not remember the outcome of plan %s", plan.id)
        if not reports:
            # A reply is its own result and the card says it ran; a memory write gets a short confirmation.
            results = [_tool_line(step) for step in plan.steps if _tool_line(step)]
            if results:
                reply_in_thread(self.ctx, team_id=plan.team_id, channel=plan.channel_id,
                                thread_ts=plan.thread_ts or plan.card_ts, key=f"results:plan-{plan.id}",
                                text="\n".join(results))
            for step in plan.steps:
                if step.action == "memory.remember" and step.result:
                    reply_in_thread(
                        self.ctx,
                        team_id=plan.team_id,
                        channel=plan.channel_id,
                        thread_ts=plan.thread_ts or plan.card_ts,
                        key=f"remembered:plan-{plan.id}:{step.idx}",
                        text=replies.remembered(
                            text=str(step.result.get("text", "")),
                            scope=str(step.result.get("scope")),
                            merged=bool(step.result.get("merged")),
                            superseded=step.result.get("superseded"),
                            redacted=list(step.result.get("redacted") or []),
                        ),
                    )
            return plan.status
        post_report(self.ctx, self.conn, plan, _report_text(plan))  # parked and retried until posted
        return plan.status

    def _claim_report(self, plan: PlanRecord) -> bool:
        """True for exactly one caller per finished plan: whoever inserts the report key posts the report."""
        if plan.status not in ("succeeded", "failed", "compensated"):
            return False
        return effects.claim_once(
            self.conn,
            key=f"baton-plan-{plan.id}-report",
            plan_id=plan.id,
            step_idx=-1,
            action="report",
            result={"status": plan.status},
        )


def _report_text(plan: PlanRecord) -> str:
    """The final report of a finished plan: what ran, failed (and why), was undone or skipped."""
    by_status: dict[str, list[str]] = {}
    for step in plan.steps:
        label = f"{step.idx + 1}. {step.description}"
        if step.status == "succeeded":
            label += _tool_result(step)
        if step.settled_as:
            label += f" — {step_question.settled_note(step)}"
        if step.status in ("failed", "outcome_unknown") and step.error:
            label += f" — {step.error}"
        by_status.setdefault(step.status, []).append(label)
    return replies.run_report(
        title=plan.title,
        done=by_status.get("succeeded", []),
        failed=by_status.get("failed", []) + by_status.get("compensation_failed", []),
        undone=by_status.get("compensated", []),
        skipped=by_status.get("skipped", []),
        unknown=by_status.get("outcome_unknown", []),
    )


def _logged_execute(connector: Connector, args: Any, plan: PlanRecord, *, key: str, attempt: int
                    ) -> dict[str, Any]:
    """``connector.execute`` between two log lines (action, key, attempt, outcome; never the arguments), so
    each connector call shows under the request's correlation id."""
    log.info("connector %s call: key %s, attempt %s", connector.action, key, attempt)
    try:
        result = connector.execute(args, origin=plan.origin, key=key)
    except Exception as err:
        outcome = "retryable error" if isinstance(err, RetryableError) else "error"
        log.info("connector %s %s: key %s, attempt %s: %s", connector.action, outcome, key, attempt, err)
        raise
    log.info("connector %s ok: key %s, attempt %s", connector.action, key, attempt)
    return result


def _parse(connector: Connector, raw: dict[str, Any]) -> Any:
    """Arguments re-validated at run time; invalid now (e.g. a reminder time that has passed) is permanent."""
    try:
        return connector.parse(raw)
    except ValidationError as err:
        problems = "; ".join(str(e.get("msg")) for e in err.errors()[:3])
        raise PermanentError(f"the arguments are no longer valid: {problems}") from None


def _tool_result(step: StepRecord) -> str:
    """An MCP tool's result text (already redacted and clipped by the connector) for the report."""
    result = step.result or {}
    if "tool" not in result:
        return ""
    return replies.tool_result(str(result.get("text") or result.get("structured") or ""))


def _tool_line(step: StepRecord) -> str:
    """The result line of a tool step that ran without approval (its result is the answer), or ''."""
    shown = _tool_result(step)
    return f"{step.description}{shown}" if shown and step.status == "succeeded" else ""


def _lease() -> timedelta:
    return timedelta(seconds=defaults.STEP_LEASE_SECONDS)


def _summary(result: dict[str, Any]) -> dict[str, Any]:
    """A short, audit-safe view of a connector result (no huge payloads). An MCP tool's result (its ``server`` and
    ``tool`` beside the text) is kept as the effects ledger keeps it, already redacted and bounded by its
    connector: the report shows it clipped, and the audit is where the whole of it is read."""
    is_tool_result = {"server", "tool"} <= result.keys()
    limit = defaults.MCP_RESULT_MAX_CHARS if is_tool_result else defaults.AUDIT_RESULT_VALUE_CHARS
    return {
        key: (value if not isinstance(value, str) or len(value) <= limit else value[: limit - 1] + "…")
        for key, value in list(result.items())[:10]
    }
