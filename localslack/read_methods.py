"""Read-only Web API handlers: ``auth.test``, ``conversations.*``, ``users.*``, ``usergroups.users.list``,
``files.info``.

``conversations.open`` is here too: every person already has a DM with the bot, so opening one only
looks it up.
"""

from __future__ import annotations

import copy
from typing import Any

from localslack.context import ApiError, Handler, MethodContext, flag, page, required
from localslack.objects import channel_object, file_info_object, user_object


def auth_test(ctx: MethodContext, params: dict[str, Any]) -> dict[str, Any]:
    """``auth.test``: who the bot token belongs to (bolt calls this at start-up)."""
    identity = ctx.identity
    return {"ok": True, "url": f"https://{identity.team_domain}.slack.com/", "team": identity.team_name,
            "user": identity.bot_name, "team_id": identity.team_id, "user_id": identity.bot_user_id,
            "bot_id": identity.bot_id, "is_enterprise_install": identity.org_install,
            **({"enterprise_id": identity.enterprise_id} if identity.enterprise_id else {})}


def conversations_info(ctx: MethodContext, params: dict[str, Any]) -> dict[str, Any]:
    """``conversations.info``: one channel or DM."""
    channel = ctx.channel(params)
    members = None
    if flag(params, "include_num_members"):
        humans = sum(1 for u in ctx.state.users.values() if not u.is_bot)
        members = 2 if channel.is_im else humans + int(channel.is_member)
    return {"ok": True, "channel": channel_object(ctx.identity, channel, members=members)}


def _bound(params: dict[str, Any], key: str) -> float | None:
    if not params.get(key):
        return None
    try:
        return float(params[key])
    except ValueError:
        raise ApiError(f"invalid_ts_{key}") from None


def _in_window(ts: str, params: dict[str, Any]) -> bool:
    inclusive = flag(params, "inclusive")
    value, oldest, latest = float(ts), _bound(params, "oldest"), _bound(params, "latest")
    if oldest is not None and (value < oldest or (value == oldest and not inclusive)):
        return False
    return latest is None or value < latest or (value == latest and inclusive)


def _listed(message: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """A stored message as history and replies list it: ``metadata`` only with ``include_all_metadata``."""
    listed = copy.deepcopy(message)
    if not flag(params, "include_all_metadata"):
        listed.pop("metadata", None)
    return listed


def conversations_history(ctx: MethodContext, params: dict[str, Any]) -> dict[str, Any]:
    """``conversations.history``: top-level messages (and broadcasts), newest first."""
    channel = ctx.readable_channel(params)
    stored = ctx.state.messages.get(channel.id, [])
    top = [m for m in stored
           if m.get("thread_ts") in (None, m["ts"]) or m.get("subtype") == "thread_broadcast"]
    newest_first = [_listed(m, params) for m in reversed(top) if _in_window(m["ts"], params)]
    chunk, cursor = page(newest_first, params)
    return {"ok": True, "messages": chunk, "has_more": bool(cursor), "pin_count": 0,
            "channel_actions_ts": None, "channel_actions_count": 0,
            "response_metadata": {"next_cursor": cursor}}


def conversations_replies(ctx: MethodContext, params: dict[str, Any]) -> dict[str, Any]:
    """``conversations.replies``: a thread's parent and replies, oldest first."""
    channel = ctx.readable_channel(params)
    ts = required(params, "ts", "thread_not_found")
    message = ctx.state.find_message(channel.id, ts)
    if message is None:
        raise ApiError("thread_not_found")
    root = message.get("thread_ts") or ts
    thread = [_listed(m, params) for m in ctx.state.thread(channel.id, root) if _in_window(m["ts"], params)]
    chunk, cursor = page(thread, params, default_limit=1000)
    return {"ok": True, "messages": chunk, "has_more": bool(cursor),
            "response_metadata": {"next_cursor": cursor}}


def conversations_open(ctx: MethodContext, params: dict[str, Any]) -> dict[str, Any]:
    """``conversations.open``: the DM with one person (``users=U…``) or an existing DM (``channel=D…``).

    Multi-person DMs are not part of the local workspace (``method_not_supported_for_channel_type``).
    """
    users = [u.strip() for u in str(params.get("users") or "").split(",") if u.strip()]
    if users:
        if len(users) > 1:
            raise ApiError("method_not_supported_for_channel_type")
        user = ctx.state.users.get(users[0])
        if user is None:
            raise ApiError("user_not_found")
        if user.is_bot:
            raise ApiError("cannot_dm_bot")
        channel = ctx.state.resolve_channel(user.id)
        if channel is None:  # a person always has one (see WorkspaceState.add_user)
            raise ApiError("channel_not_found")
    elif params.get("channel"):
        channel = ctx.channel(params)
        if not channel.is_im:
            raise ApiError("method_not_supported_for_channel_type")
    else:
        raise ApiError("users_list_not_supplied")
    body: dict[str, Any] = {"ok": True, "no_op": True, "already_open": True}
    if flag(params, "return_im"):
        body["channel"] = channel_object(ctx.identity, channel)
    else:
        body["channel"] = {"id": channel.id}
    return body


def users_info(ctx: MethodContext, params: dict[str, Any]) -> dict[str, Any]:
    """``users.info``: one user with time zone and profile."""
    user = ctx.state.users.get(str(params.get("user") or ""))
    if user is None:
        raise ApiError("user_not_found")
    return {"ok": True, "user": user_object(ctx.identity, user, now=ctx.clock.now())}


def users_list(ctx: MethodContext, params: dict[str, Any]) -> dict[str, Any]:
    """``users.list``: every member, paginated."""
    now = ctx.clock.now()
    members = [user_object(ctx.identity, u, now=now) for u in ctx.state.users.values()]
    chunk, cursor = page(members, params, default_limit=200)
    return {"ok": True, "members": chunk, "cache_ts": int(now), "response_metadata": {"next_cursor": cursor}}


def usergroups_users_list(ctx: MethodContext, params: dict[str, Any]) -> dict[str, Any]:
    """``usergroups.users.list``: the member ids of one user group (``no_such_subteam`` for an unknown id)."""
    group = ctx.state.usergroups.get(required(params, "usergroup"))
    if group is None:
        raise ApiError("no_such_subteam")
    return {"ok": True, "users": list(group.users)}


def files_info(ctx: MethodContext, params: dict[str, Any]) -> dict[str, Any]:
    """``files.info``: a stored file, with ``url_private``/``url_private_download`` served locally."""
    file = ctx.state.files.get(str(params.get("file") or ""))
    if file is None:
        raise ApiError("file_not_found")
    obj = file_info_object(ctx.identity, file, ctx.state, base_url=ctx.base_url)
    return {"ok": True, "file": obj, "comments": [], "response_metadata": {"next_cursor": ""}}


HANDLERS: dict[str, Handler] = {
    "auth.test": auth_test,
    "conversations.info": conversations_info,
    "conversations.history": conversations_history,
    "conversations.replies": conversations_replies,
    "conversations.open": conversations_open,
    "users.info": users_info,
    "users.list": users_list,
    "usergroups.users.list": usergroups_users_list,
    "files.info": files_info,
}
