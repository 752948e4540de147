"""Records of a multi-workspace install (OAuth v2): which installation a row is, and which fields are secret.

Pure: the store (``memory.installations``) maps bolt's ``Installation`` / ``Bot`` objects to these keys, and
encrypts exactly :data:`TOKEN_FIELDS`.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Fields of bolt's Installation that are credentials: stored only encrypted, never in ``details``.
TOKEN_FIELDS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")
#: The token fields of the bot (shared by every installation of one workspace or org).
BOT_TOKEN_FIELDS = ("bot_token", "bot_refresh_token")
#: Non-secret fields of the bot installation, overlaid on a user's installation when it is read.
BOT_DETAIL_FIELDS = ("bot_id", "bot_user_id", "bot_scopes", "bot_token_expires_at")


@dataclass(frozen=True)
class InstallationKey:
    """Which row an installation is: the org (``''`` outside Enterprise Grid), the workspace (``''`` for an
    org-wide install) and the installer (``''`` for the workspace's bot installation)."""

    enterprise_id: str
    team_id: str
    user_id: str = ""

    @classmethod
    def of(
        cls,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> InstallationKey:
        """The key bolt's ids name; an org-wide install is found by its enterprise alone."""
        return cls(enterprise_id or "", "" if is_enterprise_install else team_id or "", user_id or "")

    @property
    def bot(self) -> InstallationKey:
        """The key of the workspace's (or org's) bot installation."""
        return InstallationKey(self.enterprise_id, self.team_id)


@dataclass(frozen=True)
class TeamRef:
    """The workspace (and org) a job works for: whose installed token its Slack calls use."""

    team_id: str
    enterprise_id: str | None = None


def authorize_url(api_url: str) -> str:
    """Slack's install page beside a Web API base URL: ``https://slack.com/api/`` gives
    ``https://slack.com/oauth/v2/authorize``, and a local workspace's API gives its own install page."""
    base = api_url.rstrip("/")
    base = base[: -len("/api")] if base.endswith("/api") else base
    return base + "/oauth/v2/authorize"
