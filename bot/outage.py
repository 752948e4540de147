"""The Slack edge while Postgres is unavailable: nobody's click, form or command is lost in silence.

A listener that fails because the database could not do the work now (``memory.db.is_outage``: refused or lost
connections, a server shutting down, no pooled connection in time) has recorded nothing: the decision it
carried was not made, so the card is left as it was. Bolt's error handler (``bot.app``) hands such failures
here, and the person is told to try again in a moment: through the interaction's ``response_url`` (clicks,
commands, shortcuts), else an ephemeral in the channel the payload names, else (a modal submission names no
channel) a message in their DM with Baton. The log gets one WARNING line without a traceback.

Events (mentions, DMs) are not handled here: ``bot.spool`` keeps them until Postgres is back.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.card_updates import tell
from bot.payload import channel_id, user_id
from slackui import replies

log = logging.getLogger(__name__)


async def answer_database_unavailable(
    client: AsyncWebClient, body: dict[str, Any], respond: AsyncRespond | None, *, acked: bool
) -> BoltResponse | None:
    """Tell the person behind ``body``; for a request not ``acked`` yet, the 200 to answer it with (a slash
    command's ack carries the words itself)."""
    if not acked and body.get("command"):
        log.warning(
            "a Slack command from %s found the database unavailable; told to try again", body.get("user_id") or "nobody"
        )
        answer = {"response_type": "ephemeral", "text": replies.DATABASE_UNAVAILABLE}
        return BoltResponse(status=200, body=json.dumps(answer), headers={"content-type": "application/json"})
    await tell_database_unavailable(client, body, respond)
    return None if acked else BoltResponse(status=200, body="")


async def tell_database_unavailable(client: AsyncWebClient, body: dict[str, Any], respond: AsyncRespond | None) -> None:
    """Tell the person behind ``body`` that nothing was recorded and to try again (best effort, never raises)."""
    user = user_id(body) or str(body.get("user_id") or "")  # interactions carry user.id, commands user_id
    log.warning(
        "a Slack %s from %s found the database unavailable; told to try again",
        body.get("type") or ("command" if body.get("command") else "request"),
        user or "nobody",
    )
    if not user:
        return
    text = replies.DATABASE_UNAVAILABLE
    if respond is not None and body.get("response_url"):
        try:
            await respond(text=text, response_type="ephemeral", replace_original=False)
            return
        except Exception as err:  # an expired or unreachable response_url: try the Web API instead
            log.info("could not answer through the response_url: %s", err)
    channel = channel_id(body) or body.get("channel_id")
    if channel:
        await tell(client, channel=str(channel), user=user, text=text)
        return
    try:
        await client.chat_postMessage(channel=user, text=text)  # Baton's DM with the person
    except Exception as err:
        log.warning("could not tell %s that the database is unavailable: %s", user, err)
