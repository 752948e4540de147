"""``/baton``: a request, ``help``, ``run <action> key=value …``, or ``audit <plan-id>``."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.admin_commands import handle_admin
from bot.budget_command import handle_budget
from bot.deps import AppDeps
from bot.digest_commands import handle_digest
from bot.memory_actions import memory_listing
from bot.run_command import handle_help, handle_run
from bot.tools_command import handle_tools
from memory import intake
from memory.audit import timeline
from slackui import replies
from slackui.audit_views import render_timeline

log = logging.getLogger(__name__)


def register_commands(app: AsyncApp, deps: AppDeps) -> None:
    @app.command("/baton")
    async def on_baton(
        ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient, context: dict[str, Any]
    ) -> None:
        text = (command.get("text") or "").strip()
        word, rest = [*text.split(None, 1), ""][:2] if text else ("", "")
        if not text:
            await ack(replies.COMMAND_HELP)
            return
        if word.lower() == "help":
            await handle_help(deps, command=command, ack=ack)
            return
        if word.lower() == "run":
            await handle_run(deps, command=command, rest=rest, ack=ack, context=context)
            return
        if word.lower() == "memory":
            await ack()
            listing = await memory_listing(deps, team_id=command.get("team_id", ""),
                                           channel_id=command.get("channel_id", ""), user_id=command.get("user_id", ""))
            await respond(response_type="ephemeral", **listing)
            return
        if await handle_admin(deps, word=word.lower(), rest=rest, command=command, ack=ack, respond=respond,
                              client=client):
            return
        if word.lower() == "tools":
            await handle_tools(deps, ack=ack, respond=respond)
            return
        if word.lower() == "budget":
            await handle_budget(deps, command=command, ack=ack, respond=respond)
            return
        if word.lower() == "digest":
            await handle_digest(deps, command=command, args=rest, ack=ack, respond=respond, client=client)
            return
        if word.lower() == "audit":
            await ack()
            await respond(
                text=await _audit(deps, team_id=command.get("team_id", ""), arg=rest.strip()), response_type="ephemeral"
            )
            return
        summarize = word.lower() in ("summarize", "summarise")
        if summarize and not rest.strip():
            await ack(replies.SUMMARIZE_USAGE)
            return
        async with deps.pool.connection() as conn:  # one statement: the request and its audit entry
            request_id = await intake.create_request(
                conn,
                team_id=command.get("team_id", ""),
                dedupe_key=f"cmd:{command.get('trigger_id')}",
                source="command",
                channel_id=command.get("channel_id", ""),
                channel_type="im" if str(command.get("channel_id", "")).startswith("D") else "channel",
                user_id=command.get("user_id", ""),
                text=rest.strip() if summarize else text,
                context={"summarize": True} if summarize else None,
            )
        context["baton_request_id"] = request_id  # recorded: an error from here on still answers 200
        await ack(replies.SUMMARIZE_ACK if summarize else replies.COMMAND_ACK)
        if request_id is not None:
            await deps.enqueue("plan_request", request_id)


async def _audit(deps: AppDeps, *, team_id: str, arg: str) -> str:
    plan_id = arg.lstrip("#")
    if not plan_id.isdigit():
        return replies.AUDIT_USAGE

    def load() -> str:
        with deps.sync_pool.connection() as conn:
            entries = timeline(conn, team_id=team_id, plan_id=int(plan_id))
        return render_timeline(int(plan_id), entries)

    return await asyncio.to_thread(load)
