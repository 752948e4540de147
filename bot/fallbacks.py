"""Listeners for interactions no other listener handles: acknowledged, and the person told it is stale.

A button from an old message, a modal from an old version, or a forged ``action_id``: Slack gets its 200
(bolt would answer 404 and log a suggestion quoting the payload) and whoever clicked, submitted or typed
learns that nothing was done. Registered last, since bolt runs the first listener that matches.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.card_updates import tell
from bot.payload import channel_id, user_id
from slackui import replies
from slackui.notice_views import notice_modal

log = logging.getLogger(__name__)

_ANY = re.compile(r".*", re.DOTALL)


def register_fallbacks(app: AsyncApp) -> None:
    @app.action(_ANY)
    async def on_unknown_action(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await _tell_stale(client, body, what="a click on an action", text=replies.STALE_BUTTON)

    @app.view(_ANY)
    async def on_unknown_view(ack: AsyncAck, body: dict[str, Any]) -> None:
        log.info("a submitted modal no listener handles, from %s", user_id(body) or "nobody")
        await ack(response_action="update", view=notice_modal(replies.STALE_FORM))

    @app.view_closed(_ANY)
    async def on_unknown_view_closed(ack: AsyncAck) -> None:
        await ack()

    @app.shortcut(_ANY)
    async def on_unknown_shortcut(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await _tell_stale(client, body, what="a shortcut", text=replies.STALE_SHORTCUT)

    @app.command(_ANY)
    async def on_unknown_command(ack: AsyncAck) -> None:
        await ack(replies.UNKNOWN_COMMAND)


async def _tell_stale(client: AsyncWebClient, body: dict[str, Any], *, what: str, text: str) -> None:
    """Log the stray interaction (who, not what) and tell the person, where the payload names a channel."""
    log.info("%s no listener handles, from %s", what, user_id(body) or "nobody")
    if user_id(body):
        await tell(client, channel=channel_id(body), user=user_id(body), text=text)
