"""Names for the ids a terminal answer shows, and links to messages, from Slack when it can say.

The store keeps user and channel ids only (Slack is the directory), so with a bot token configured and
``auth.test`` answering, ``baton status``, ``plans`` and ``audit`` ask Slack (``users.info``,
``conversations.info``, once per id); without a token, or when Slack does not answer, they print ids.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from core.settings import Settings
from slackui.admin_views import PLAIN, Linker, Style, archive_linker


@dataclass(frozen=True)
class SlackView:
    """What Slack adds to a terminal answer: links to messages, names for ids, the workspace's name."""

    link: Linker
    style: Style
    team_name: str | None


def slack_view(settings: Settings) -> SlackView:
    """Links and names from Slack when a bot token is configured and ``auth.test`` answers; else ids, no links."""
    if not settings.slack_bot_token:
        return SlackView(archive_linker(None), PLAIN, None)
    from slack_sdk.errors import SlackApiError  # deferred: start-up cost (slack_sdk) only when a token is set

    from connectors.slack_clients import plain_client  # deferred: start-up cost (slack_sdk, aiohttp)
    from workers.slack_lookups import SlackLookups  # deferred: start-up cost (slack_sdk)

    client = plain_client(settings)
    try:
        auth = client.auth_test()
    except (SlackApiError, OSError):
        return SlackView(archive_linker(None), PLAIN, None)
    lookups = SlackLookups(client)

    def names(kind: str, ident: str) -> str | None:
        name = lookups.name(ident) if kind == "user" else lookups.channel_name(ident).lstrip("#")
        return None if name == ident else name

    url = str(auth.get("url") or "") or None
    return SlackView(archive_linker(url), replace(PLAIN, names=names), str(auth.get("team") or "") or None)
