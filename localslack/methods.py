"""The Web API methods the local workspace implements, by name."""

from __future__ import annotations

from localslack import assistant_methods, chat_methods, read_methods, view_methods
from localslack.context import Handler

METHODS: dict[str, Handler] = {**read_methods.HANDLERS, **chat_methods.HANDLERS, **view_methods.HANDLERS,
                               **assistant_methods.HANDLERS}
