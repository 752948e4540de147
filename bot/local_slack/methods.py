"""The Web API methods the local workspace implements, by name."""

from __future__ import annotations

from bot.local_slack import chat_methods, read_methods, view_methods
from bot.local_slack.context import Handler

METHODS: dict[str, Handler] = {**read_methods.HANDLERS, **chat_methods.HANDLERS, **view_methods.HANDLERS}
