"""Requests planned without the model: an operator's alias, ``/baton run``, and the alias listing of ``/baton help``.

A stage of :func:`workers.planning.request.plan_request`. A request an alias matches (or a ``/baton run`` line)
becomes a one-step draft (:mod:`core.planning.alias_plans`) that is reviewed like any plan
(:func:`workers.planning.make.review_draft`: the connector parses the arguments, the MCP tool's JSON schema
included, and rates the risk), then proposed through the same policy, approval and execution. Only actions the
registry offers can be used: a ``deny`` tool or a server that is down is not available to an alias either.
A request no alias matches is handed on to the planner.
"""

from __future__ import annotations

import logging
import re

from connectors.mcp_tool import McpTool
from connectors.registry import ConnectorRegistry
from connectors.slack_errors import describe_error
from core.aliases import RunSyntaxError, parse_run
from core.planning.alias_plans import alias_draft, find_alias, run_draft
from core.types import PlanDraft
from memory import audit, requests
from memory.db import Conn
from slackui import alias_replies
from workers.connector_wiring import registry_for
from workers.job_context import WorkerContext
from workers.planning.make import PlanOutcome, review_draft

log = logging.getLogger(__name__)

#: "steps[0].args.branch_name: Field required (git.git_create_branch)" -> "`branch_name`: Field required".
_STEP_PROBLEM = re.compile(r"^steps\[0\](?:\.args)?(?:\.(?P<where>[^:]+))?: (?P<what>.*?)(?: \([\w.\-]+\))?$")


def plan_directly(
    ctx: WorkerContext, conn: Conn, record: requests.RequestRecord, text: str
) -> PlanOutcome | str | None:
    """A reviewed plan (or refusal) when an alias or ``/baton run`` plans ``text``; a final status when the request
    is settled here (the help listing, a ``/baton run`` error told to its requester alone); None to hand it on."""
    context = record.context or {}
    if context.get("run"):
        return _plan_run(ctx, conn, record, text)
    aliases = ctx.settings.mcp_servers.aliases
    found = find_alias(aliases, text) if aliases else None
    if found is None:
        return None
    registry = registry_for(ctx)
    drafted = alias_draft(found, schemas=_schemas(registry))
    reviewed = drafted if isinstance(drafted, list) else _review(drafted, registry, record)
    if isinstance(reviewed, list):
        return PlanOutcome(refusal=alias_replies.alias_failed(found.alias.pattern, reviewed))
    return reviewed


def _plan_run(ctx: WorkerContext, conn: Conn, record: requests.RequestRecord, text: str) -> PlanOutcome | str:
    registry = registry_for(ctx)
    try:
        drafted: PlanDraft | list[str] = run_draft(parse_run(text), schemas=_schemas(registry))
    except RunSyntaxError as err:  # checked at the edge already; read again here from the stored text
        drafted = [str(err)]
    reviewed = drafted if isinstance(drafted, list) else _review(drafted, registry, record)
    if isinstance(reviewed, PlanOutcome):
        return reviewed
    message = alias_replies.run_failed(reviewed)
    _tell_requester(ctx, record, message)
    audit.append(conn, team_id=record.team_id, request_id=record.id, kind="request.refused", reason=message[:500])
    requests.finish_request(conn, record.id, "refused", error=message[:500])
    return "refused"


def _review(draft: PlanDraft, registry: ConnectorRegistry, record: requests.RequestRecord) -> PlanOutcome | list[str]:
    reviewed = review_draft(draft, registry=registry, origin=record.origin)
    if isinstance(reviewed, list):
        return [_for_people(problem) for problem in reviewed]
    return PlanOutcome(plan=reviewed)


def answer_help(ctx: WorkerContext, conn: Conn, record: requests.RequestRecord, *, channel_allowed: bool) -> str | None:
    """For the request ``/baton help`` records: the aliases whose action is available here, with their risk, to the
    asker alone (nothing in a channel Baton does not act in, or when there are no aliases). None for any other
    request."""
    if not (record.context or {}).get("help"):
        return None
    aliases = ctx.settings.mcp_servers.aliases
    if aliases and channel_allowed:
        registry = registry_for(ctx)
        available = set(registry.actions)
        lines = [
            alias_replies.AliasLine(alias.pattern, alias.action, _fixed_risk(registry, alias.action))
            for alias in aliases
            if alias.action in available
        ]
        _tell_requester(ctx, record, alias_replies.alias_listing(lines))
    requests.finish_request(conn, record.id, "answered")
    return "answered"


def _fixed_risk(registry: ConnectorRegistry, action: str) -> str | None:
    """An MCP tool's risk is its own (annotations, then the operator's word); a built-in rates each request."""
    connector = registry.get(action)
    return connector.terms.risk.value if isinstance(connector, McpTool) else None


def _schemas(registry: ConnectorRegistry) -> dict[str, dict[str, object]]:
    return {action: registry.get(action).args_schema() for action in registry.actions}


def _tell_requester(ctx: WorkerContext, record: requests.RequestRecord, text: str) -> None:
    try:
        ctx.slack.chat_postEphemeral(channel=record.channel_id, user=record.user_id, text=text)
    except Exception as err:  # the outcome is in Postgres; a lost ephemeral answer is logged, not retried
        log.warning("could not answer %s in %s: %s", record.user_id, record.channel_id, describe_error(err))


def _for_people(problem: str) -> str:
    """A review problem said without the plan's JSON paths (the person wrote no JSON)."""
    found = _STEP_PROBLEM.match(problem)
    if found is None:
        return problem
    where, what = found.group("where"), found.group("what")
    return f"`{where}`: {what}" if where else what
