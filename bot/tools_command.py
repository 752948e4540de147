"""``/baton tools``: every action, its source, risk, idempotency class and policy, only to the person asking.

Acked at once; the list is read after the ack from Postgres (the MCP tools as last stored: no server is started
here) and answered through ``respond``.
"""

from __future__ import annotations

import asyncio
import logging

from slack_bolt.async_app import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond

from bot.deps import AppDeps
from slackui.tools_view import TOOLS_UNAVAILABLE, tools_text
from workers.api import stored_tool_listing

log = logging.getLogger(__name__)


async def handle_tools(deps: AppDeps, *, ack: AsyncAck, respond: AsyncRespond) -> None:
    """Answer ``/baton tools`` ephemerally."""
    await ack()
    settings = deps.settings
    if settings is None:
        await respond(response_type="ephemeral", text=TOOLS_UNAVAILABLE)
        return

    def work() -> str:
        with deps.sync_pool.connection() as conn:
            return tools_text(stored_tool_listing(conn, settings))

    await respond(response_type="ephemeral", text=await asyncio.to_thread(work))
