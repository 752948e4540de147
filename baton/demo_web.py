"""``baton demo --web``: the demo's local workspace in a browser, until Ctrl-C.

The page is served by the local workspace's own server (``localslack.web``), so it shows exactly what
Baton sent through the Web API; this module only says where it is and keeps the demo running.
"""

from __future__ import annotations

import threading
from typing import TextIO
from urllib.parse import urlencode

from bot.shortcuts import ASK_BATON
from localslack import LocalSlack

#: The message shortcuts of Baton's app manifest (callback_id -> name), offered on each message of the page.
MESSAGE_SHORTCUTS = {ASK_BATON: "Ask Baton"}


def page_url(slack: LocalSlack, *, me: str, where: str) -> str:
    """The browser workspace's address, opened as ``me`` in channel ``where``."""
    return f"{slack.base_url}ui/?{urlencode({'as': me, 'c': where})}"


def serve_until_stopped(out: TextIO, url: str, *, stop: threading.Event | None = None) -> None:
    """Print where the page is, then wait until ``stop`` is set or the person presses Ctrl-C."""
    print(
        f"Open {url} in your browser (switch who you are at the top left). Ctrl-C stops the demo.", file=out, flush=True
    )
    try:
        (stop or threading.Event()).wait()
    except KeyboardInterrupt:
        print("", file=out)
