"""Making text that arrived from Slack storable in Postgres.

Postgres ``text`` refuses NUL, ``jsonb`` refuses ``\\u0000``, and neither can hold a lone UTF-16 surrogate
(JSON may carry one as an escape such as ``"\\ud800"``; psycopg cannot even encode it as UTF-8). Each
becomes U+FFFD, so a hostile or corrupt message is recorded and answered instead of failing on every
delivery. The web process cleans every inbound body once, before any listener sees it.
"""

from __future__ import annotations

import re
from typing import Any

from core import defaults

#: What an unstorable character becomes.
REPLACEMENT = "\ufffd"

#: NUL and every surrogate code point: a str that still holds one after decoding has no UTF-8 form.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class TooDeep(ValueError):
    """The value nests deeper than ``max_depth`` (``core.defaults.SLACK_BODY_MAX_DEPTH``)."""


def clean_text(text: str) -> str:
    """``text`` with NUL and lone surrogates replaced by U+FFFD."""
    return _UNSTORABLE.sub(REPLACEMENT, text)


def clean_tree(value: Any, *, max_depth: int = defaults.SLACK_BODY_MAX_DEPTH) -> Any:
    """``value`` (parsed JSON or form data) with every string, dictionary keys included, cleaned.

    Raises :class:`TooDeep` past ``max_depth`` levels of lists and dictionaries.
    """
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict | list) and max_depth <= 0:
        raise TooDeep("nested too deeply")
    if isinstance(value, dict):
        return {clean_text(str(key)): clean_tree(item, max_depth=max_depth - 1) for key, item in value.items()}
    if isinstance(value, list):
        return [clean_tree(item, max_depth=max_depth - 1) for item in value]
    return value
