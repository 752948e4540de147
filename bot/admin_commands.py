"""``/baton status``, ``/baton plans [all]`` and ``/baton policy [set …|reset]``: ephemeral answers for operators.

Reading (status, plans, the policy) is for everyone in the workspace. Changing the policy is for admins:
the user ids in ``BATON_ADMINS``, the workspace policy's ``admins``, or members of ``BATON_ADMIN_GROUP``
(asked of Slack with ``usergroups.users.list``, after the ack). A refusal is ephemeral and recorded as
``admin.refused``; a change is recorded as ``policy.changed`` with the row before and after.

Parsing is pure (``core.policy_command``) and a usage problem is answered in the ack; everything else runs
after the ack, in a thread for Postgres and Redis, and is answered through ``respond``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import AppDeps
from core.policy import effective_policy
from core.policy_command import POLICY_USAGE, PolicyCommand, PolicyCommandError, parse_policy_command
from memory import admin_sql, audit
from memory.policies import WORKSPACE, change_policy, load_overrides
from slackui import replies
from slackui.admin_views import PLANS_LIMIT, Linker, archive_linker, render_plans, render_policy, render_status
from workers.api import gather_status

log = logging.getLogger(__name__)

#: The ``/baton`` words this module answers.
ADMIN_WORDS = frozenset({"status", "plans", "policy"})


async def handle_admin(deps: AppDeps, *, word: str, rest: str, command: dict[str, Any], ack: AsyncAck,
                       respond: AsyncRespond, client: AsyncWebClient) -> bool:
    """Answer ``/baton status|plans|policy``; False (nothing done, not acked) for any other ``word``."""
    if word not in ADMIN_WORDS:
        return False
    team, user, channel = (str(command.get(k) or "") for k in ("team_id", "user_id", "channel_id"))
    if word == "status":
        if rest.strip():
            await ack(replies.STATUS_USAGE)
            return True
        await ack()
        text = await asyncio.to_thread(_status, deps, team=team, channel=channel)
    elif word == "plans":
        scope = rest.strip().lower()
        if scope not in ("", "all"):
            await ack(replies.PLANS_USAGE)
            return True
        await ack()
        link = await slack_linker(client)
        text = await asyncio.to_thread(_plans, deps, team=team, channel=None if scope == "all" else channel,
                                       link=link)
    else:
        try:
            parsed = parse_policy_command(rest)
        except PolicyCommandError as err:
            await ack(err.reason)
            return True
        if parsed.action == "help":
            await ack(POLICY_USAGE)
            return True
        if parsed.action != "show" and channel.startswith("D") and not parsed.workspace:
            await ack(replies.POLICY_IN_DM)
            return True
        await ack()
        text = await _policy(deps, client, parsed, team=team, user=user, channel=channel)
    await respond(response_type="ephemeral", text=text)
    return True


# -- reading ---------------------------------------------------------------------------------------------
def _status(deps: AppDeps, *, team: str, channel: str) -> str:
    settings = deps.settings
    redis_url = settings.redis_url if settings is not None else None
    model = settings.chat_model if settings is not None and settings.llm_configured else None
    with deps.sync_pool.connection() as conn:
        facts = gather_status(conn, team_id=team, channel_id=channel or None, now=deps.now(), redis_url=redis_url,
                              chat_model=model)
    return render_status(facts)


def _plans(deps: AppDeps, *, team: str, channel: str | None, link: Linker) -> str:
    now = deps.now()
    with deps.sync_pool.connection() as conn:
        plans, total = admin_sql.pending_plans(conn, team_id=team, now=now, channel_id=channel, limit=PLANS_LIMIT)
    return render_plans(plans, total, channel_id=channel, now=now, link=link)


async def slack_linker(client: AsyncWebClient) -> Linker:
    """Message links from the workspace URL (one ``auth.test``); without it, plans are listed unlinked."""
    try:
        response = await client.auth_test()
        url = str(response.get("url") or "") or None
    except SlackApiError as err:
        log.warning("auth.test failed, plans are listed without links: %s", err.response.get("error"))
        url = None
    return archive_linker(url)


def _show(deps: AppDeps, *, team: str, target: str) -> str:
    with deps.sync_pool.connection() as conn:
        workspace, channel = load_overrides(conn, team_id=team, channel_id=target)
    settings = deps.settings
    return render_policy(workspace, channel, channel_id=target,
                         settings_admins=settings.admins if settings else (),
                         admin_group=settings.admin_group if settings else None)


# -- changing -------------------------------------------------------------------------------------------
async def _policy(deps: AppDeps, client: AsyncWebClient, parsed: PolicyCommand, *, team: str, user: str,
                  channel: str) -> str:
    target = WORKSPACE if parsed.workspace else channel
    if parsed.action == "show":
        return await asyncio.to_thread(_show, deps, team=team, target=target)
    if not await is_admin(deps, client, team_id=team, user_id=user):
        await asyncio.to_thread(_refused, deps, parsed, team=team, user=user, channel=channel)
        return replies.ADMIN_ONLY
    return await asyncio.to_thread(_change, deps, parsed, team=team, user=user, target=target)


async def is_admin(deps: AppDeps, client: AsyncWebClient, *, team_id: str, user_id: str) -> bool:
    """Whether ``user_id`` may change policy: configured, named in the workspace policy, or in the admin group."""
    settings = deps.settings
    if settings is not None and user_id in settings.admins:
        return True
    if user_id in await asyncio.to_thread(_workspace_admins, deps, team_id):
        return True
    if settings is None or not settings.admin_group:
        return False
    try:
        response = await client.usergroups_users_list(usergroup=settings.admin_group)
    except SlackApiError as err:
        # Fail closed: a missing usergroups:read scope or an unknown group makes nobody an admin by group.
        log.warning("usergroups.users.list for %s failed: %s", settings.admin_group, err.response.get("error"))
        return False
    return user_id in (response.get("users") or [])


def _workspace_admins(deps: AppDeps, team_id: str) -> frozenset[str]:
    with deps.sync_pool.connection() as conn:
        workspace, _ = load_overrides(conn, team_id=team_id, channel_id=WORKSPACE)
    return effective_policy(workspace).admins


def _refused(deps: AppDeps, parsed: PolicyCommand, *, team: str, user: str, channel: str) -> None:
    what = " ".join(part for part in ("policy", parsed.action, parsed.key) if part)
    log.info("refused %r by %s in %s: not an admin", what, user, channel)
    with deps.sync_pool.connection() as conn:
        audit.append(conn, team_id=team, kind="admin.refused", actor=user, command=what, channel=channel,
                     reason="not an admin")


def _change(deps: AppDeps, parsed: PolicyCommand, *, team: str, user: str, target: str) -> str:
    with deps.sync_pool.connection() as conn:
        before, after = change_policy(conn, parsed, team_id=team, channel_id=target, actor=user)
    scope = "the workspace" if target == WORKSPACE else "this channel"
    first = replies.policy_changed(scope, parsed.key if parsed.action == "set" else None, changed=before != after)
    return f"{first}\n{_show(deps, team=team, target=target)}"
