"""``/baton run <action> key=value ...`` and the alias listing of ``/baton help``.

Both are recorded as requests (``context.run`` / ``context.help``) and planned or answered by the worker
(``workers/planning/direct.py``), which knows the actions this deployment offers; here only the line's syntax is
checked, so a typo is answered at once without a job.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck

from bot.deps import AppDeps
from core.aliases import RunSyntaxError, parse_run
from memory import intake
from slackui import alias_replies, replies

log = logging.getLogger(__name__)


async def handle_run(
    deps: AppDeps, *, command: dict[str, Any], rest: str, ack: AsyncAck, context: dict[str, Any]
) -> None:
    """Check the line's syntax (an error is answered at once), record it, ack, enqueue its planning."""
    try:
        line = parse_run(rest)
    except RunSyntaxError as err:
        await ack(alias_replies.run_error(str(err)))
        return
    request_id = await _record(deps, command, text=rest.strip(), context={"run": True})
    context["baton_request_id"] = request_id  # recorded: an error from here on still answers 200
    await ack(alias_replies.RUN_ACK.format(action=line.action))
    if request_id is not None:
        await deps.enqueue("plan_request", request_id)


async def handle_help(deps: AppDeps, *, command: dict[str, Any], ack: AsyncAck) -> None:
    """The static help at once; the aliases this person may run here follow from the worker (which knows the
    available actions and their risk, and reads the same ``mcp.json``), ephemerally; none configured: nothing
    follows."""
    await ack(replies.COMMAND_HELP)
    try:
        request_id = await _record(deps, command, text="help", context={"help": True})
        if request_id is not None:
            await deps.enqueue("plan_request", request_id)
    except Exception as err:  # the help itself was answered; the alias listing is a courtesy
        log.warning("could not ask for the alias listing: %s", err)


async def _record(deps: AppDeps, command: dict[str, Any], *, text: str, context: dict[str, Any]) -> int | None:
    channel_id = str(command.get("channel_id", ""))
    async with deps.pool.connection() as conn, conn.transaction():
        return await intake.create_request(
            conn,
            team_id=command.get("team_id", ""),
            dedupe_key=f"cmd:{command.get('trigger_id')}",
            source="command",
            channel_id=channel_id,
            channel_type="im" if channel_id.startswith("D") else "channel",
            user_id=command.get("user_id", ""),
            text=text,
            context=context,
        )
