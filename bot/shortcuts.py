"""The "Ask Baton" message shortcut: the message becomes the request and its context."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.card_updates import tell
from bot.deps import AppDeps
from core.mentions import without_mention_of
from memory import intake
from slackui import replies

ASK_BATON = "ask_baton"


def register_shortcuts(app: AsyncApp, deps: AppDeps) -> None:
    @app.message_shortcut(ASK_BATON)
    async def on_ask_baton(
        ack: AsyncAck, shortcut: dict[str, Any], client: AsyncWebClient, context: dict[str, Any]
    ) -> None:
        message = shortcut.get("message") or {}
        channel = (shortcut.get("channel") or {}).get("id", "")
        team_id = (shortcut.get("team") or {}).get("id", "")
        user_id = (shortcut.get("user") or {}).get("id", "")
        async with deps.pool.connection() as conn:  # one statement: the request and its audit entry
            request_id = await intake.create_request(
                conn,
                team_id=team_id,
                dedupe_key=f"shortcut:{shortcut.get('trigger_id')}",
                source="shortcut",
                channel_id=channel,
                channel_type="im" if channel.startswith("D") else "channel",
                user_id=user_id,
                text=without_mention_of(message.get("text") or "", context.get("bot_user_id")),
                message_ts=message.get("ts"),
                thread_ts=message.get("thread_ts") or message.get("ts"),
                context={
                    "message": {
                        "user": message.get("user"),
                        "ts": message.get("ts"),
                        "text": message.get("text", ""),
                        "files": message.get("files", []),
                    }
                },
            )
        context["baton_request_id"] = request_id  # recorded: an error from here on still answers 200
        await ack()
        if request_id is not None:
            await deps.enqueue("plan_request", request_id)
            await tell(client, channel=channel, user=user_id, text=replies.SHORTCUT_ACK)
