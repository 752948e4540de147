"""Multi-workspace mode: the bot token a job's Slack calls carry, refreshed first when it is about to expire.

The job's row names its workspace (``memory.job_teams``); the installation store has its token. With token
rotation on, a token within :data:`~core.defaults.TOKEN_REFRESH_MINUTES` of expiry is refreshed with
``oauth.v2.access`` (``grant_type=refresh_token``) under a row lock, so two workers never both refresh it, and
the new token is stored (encrypted) for every process. The worker's clock (``ctx.now``) decides when a token is
due and dates the new one: slack_sdk's ``TokenRotator`` does the same call but reads the wall clock for both, so
under an injected clock it would refuse a due refresh and date the new token wrongly.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store.models.bot import Bot

from connectors.slack_clients import oauth_client, team_token
from core import defaults
from core.installations import TeamRef
from memory.installations import find_bot, save_bot
from memory.job_teams import JOB_TABLES, team_of_job
from memory.token_cipher import TokenCipher
from workers.job_context import WorkerContext

log = logging.getLogger(__name__)


def job_token(ctx: WorkerContext, function: str, ident: int) -> str | None:
    """The installed (and, if due, refreshed) bot token of the workspace job ``function`` on row ``ident``
    works for; None for a job without a workspace or a workspace Baton is not installed in."""
    if function not in JOB_TABLES:
        return None
    with ctx.db() as conn:
        team = team_of_job(conn, function, ident)
    return None if team is None else installed_token(ctx, team)


def installed_token(ctx: WorkerContext, team: TeamRef) -> str | None:
    """``team``'s bot token, refreshed first when it expires within the refresh window."""
    cipher = TokenCipher(ctx.settings.encryption_keys)
    with ctx.db() as conn:
        bot = find_bot(conn, cipher, team)
        if bot is None or not _due(ctx, bot):
            return None if bot is None else bot.bot_token
        with conn.transaction():
            bot = find_bot(conn, cipher, team, lock=True)  # another worker may have refreshed it meanwhile
            if bot is None:
                return None
            if not _due(ctx, bot):
                return bot.bot_token  # refreshed by another process while this one waited for the row
            refreshed = _refreshed(ctx, bot)
            if refreshed is None:  # the current token may still work until it expires
                return bot.bot_token
            save_bot(conn, cipher, refreshed)
            log.info("refreshed the bot token of team %s", team.team_id)
            return refreshed.bot_token


def _due(ctx: WorkerContext, bot: Bot) -> bool:
    """The bot's token expires within the refresh window (by the worker's clock)."""
    expires_at = bot.bot_token_expires_at
    return expires_at is not None and expires_at <= ctx.now().timestamp() + defaults.TOKEN_REFRESH_MINUTES * 60


def _refreshed(ctx: WorkerContext, bot: Bot) -> Bot | None:
    """``bot`` with a fresh token from ``oauth.v2.access`` (``grant_type=refresh_token``), dated by the worker's
    clock; None when Slack refuses (logged)."""
    try:
        reply = oauth_client(ctx.settings).oauth_v2_access(
            client_id=ctx.settings.slack_client_id or "",
            client_secret=ctx.settings.slack_client_secret or "",
            grant_type="refresh_token",
            refresh_token=bot.bot_refresh_token,
        )
    except SlackApiError as err:
        log.warning("could not refresh the bot token of team %s: %s", bot.team_id, err.response.get("error"))
        return None
    if reply.get("token_type") != "bot":
        return None
    refreshed = Bot(**bot.to_dict_for_copying())
    refreshed.bot_token = reply["access_token"]
    refreshed.bot_refresh_token = reply.get("refresh_token") or bot.bot_refresh_token
    refreshed.bot_token_expires_at = int(ctx.now().timestamp()) + int(reply["expires_in"])
    return refreshed


@contextmanager
def acting_for(ctx: WorkerContext, team_id: str) -> Iterator[None]:
    """Inside the block the job clients carry ``team_id``'s installed token (multi-workspace mode; a no-op
    otherwise): for work that is not one job of one workspace, like the recovery pass expiring cards."""
    if not ctx.settings.oauth_enabled:
        yield
        return
    with team_token(installed_token(ctx, TeamRef(team_id))):
        yield
