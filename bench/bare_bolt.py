"""The baseline of ``bench.load``: a bare slack-bolt ``AsyncApp`` that only acks, on aiohttp like Baton.

    python -m bench.bare_bolt PORT        (reads SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN and SLACK_API_URL)

The same listeners Baton has (mentions, messages, the ``/baton`` command, block actions), each doing nothing
but ``ack()``: what a Slack app costs before it does any work of its own. A module of its own, run as its own
process, like ``baton serve``.
"""

from __future__ import annotations

import logging
import os
import re
import sys

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient


def build_app(signing_secret: str, *, token: str, api_url: str) -> AsyncApp:
    """An app that acks everything Baton listens to; its Web API (bolt's one ``auth.test``) is ``api_url``."""
    client = AsyncWebClient(token=token, base_url=api_url)
    app = AsyncApp(client=client, signing_secret=signing_secret, logger=logging.getLogger("bare_bolt"))

    async def just_ack(ack: AsyncAck) -> None:
        await ack()

    app.event("app_mention")(just_ack)
    app.event("message")(just_ack)
    app.command("/baton")(just_ack)
    app.action(re.compile(".*"))(just_ack)
    return app


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.WARNING)
    app = build_app(os.environ["SLACK_SIGNING_SECRET"], token=os.environ["SLACK_BOT_TOKEN"],
                    api_url=os.environ["SLACK_API_URL"])
    app.start(port=int(argv[0]), path="/slack/events")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
