"""Memory buttons and ``/baton memory``: forget after confirmation, delete from the list.

Deletion is real (rows and embeddings). The audit log records that memories were deleted, which
ids and by whom, never their text. Only a memory's author or an admin (policy ``admins``) may
delete it; anyone else gets an ephemeral explanation and nothing changes.
"""

from __future__ import annotations

import asyncio
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.card_updates import tell
from bot.deps import AppDeps
from bot.payload import channel_id, team_id, user_id
from core.policy import may_edit_memory
from memory import audit
from memory.db import Conn
from memory.policies import load_policy
from memory.store import delete_memories, list_for_channel, load_memories
from slackui import replies

FORGET, KEEP, DELETE = "memory_forget", "memory_keep", "memory_delete"
LIST_LIMIT = 20


def forget_allowed(conn: Conn, *, team_id: str, channel_id: str, user_id: str, ids: list[int]) -> tuple[list[int], str]:
    """Delete the memories ``user_id`` may delete; return (deleted ids, reason for any refused)."""
    policy = load_policy(conn, team_id=team_id, channel_id=channel_id)
    allowed, refused = [], ""
    for memory in load_memories(conn, team_id=team_id, ids=ids):
        verdict = may_edit_memory(policy, user_id=user_id, author_id=memory.author_id)
        if verdict.allowed:
            allowed.append(memory.id)
        else:
            refused = verdict.reason
    deleted = delete_memories(conn, team_id=team_id, ids=allowed) if allowed else []
    if deleted:
        audit.append(conn, team_id=team_id, kind="memory.deleted", actor=user_id, ids=deleted, count=len(deleted))
    if refused:
        audit.append(conn, team_id=team_id, kind="memory.delete_refused", actor=user_id, ids=ids)
    return deleted, refused


def register_memory(app: AsyncApp, deps: AppDeps) -> None:
    async def run(func: Any, **kwargs: Any) -> Any:
        def work() -> Any:
            with deps.sync_pool.connection() as conn:
                return func(conn, **kwargs)

        return await asyncio.to_thread(work)

    @app.action(FORGET)
    async def on_forget(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        ids = [int(part) for part in str(action.get("value", "")).split(",") if part.isdigit()]
        user, channel = user_id(body), channel_id(body) or ""
        deleted, refused = await run(forget_allowed, team_id=team_id(body), channel_id=channel, user_id=user, ids=ids)
        if refused:
            await tell(client, channel=channel, user=user, text=f"I can't forget some of these: {refused}.")
        if deleted:
            await _replace(client, body, replies.forgot(len(deleted), user))

    @app.action(KEEP)
    async def on_keep(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await _replace(client, body, replies.kept(user_id(body)))

    @app.action(DELETE)
    async def on_delete(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        value = str(action.get("value", ""))
        ids = [int(value)] if value.isdigit() else []
        deleted, refused = await run(
            forget_allowed, team_id=team_id(body), channel_id=channel_id(body) or "", user_id=user_id(body), ids=ids
        )
        text = (
            replies.forgot(len(deleted), user_id(body))
            if deleted
            else f"Nothing was deleted: {refused or 'not found'}."
        )
        await respond(text=text, response_type="ephemeral", replace_original=False)


async def memory_listing(deps: AppDeps, *, team_id: str, channel_id: str, user_id: str) -> dict[str, Any]:
    """The ephemeral ``/baton memory`` message: what this channel sees, each with a Delete button."""

    def load() -> list[Any]:
        with deps.sync_pool.connection() as conn:
            return list_for_channel(conn, team_id=team_id, channel_id=channel_id, user_id=user_id, limit=LIST_LIMIT)

    memories = await asyncio.to_thread(load)
    if not memories:
        return {"text": replies.MEMORY_EMPTY}
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": "What I remember here"}}]
    for memory in memories:
        scope = replies.MEMORY_SCOPE.get(memory.scope, memory.scope)
        text = f"*#{memory.id}* {memory.text[:2500]}\n_{memory.kind} · {scope} · {memory.created_at:%Y-%m-%d}_"
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": text},
                "accessory": {
                    "type": "button",
                    "action_id": DELETE,
                    "value": str(memory.id),
                    "style": "danger",
                    "text": {"type": "plain_text", "text": "Delete"},
                },
            }
        )
    return {"text": f"I remember {len(memories)} things here.", "blocks": blocks[:50]}


async def _replace(client: AsyncWebClient, body: dict[str, Any], text: str) -> None:
    container = body.get("container") or {}
    channel, ts = container.get("channel_id"), container.get("message_ts")
    if channel and ts:
        await client.chat_update(channel=channel, ts=ts, text=text, blocks=[])
