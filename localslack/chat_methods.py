"""``chat.*`` and ``reactions.add`` handlers, plus the ``response_url`` hook the bot can POST to.

Message metadata (``metadata={"event_type": …, "event_payload": {…}}``) is stored on the message as sent;
``conversations.history``/``replies`` return it only with ``include_all_metadata``, as Slack does.
Replacing a message's blocks keeps or resets what people picked in its inputs (see ``inputs``).
"""

from __future__ import annotations

import copy
from typing import Any

from localslack import inputs, payloads
from localslack.context import ApiError, Handler, MethodContext, flag, int_arg, page, required
from localslack.state import Channel
from localslack.validation import TEXT_LIMIT, blocks_problems

#: Slack only schedules messages up to 120 days ahead.
SCHEDULE_HORIZON_SECONDS = 120 * 24 * 3600
#: Largest ``metadata`` (compact JSON) the local workspace accepts: its own cap, as Slack documents
#: ``metadata_too_large`` but not the size behind it.
METADATA_LIMIT = 8_000
TRUNCATED_WARNING = (
    "Your message was truncated but still posted. The `text` field accepts up to 40,000 characters."
)


def _content(params: dict[str, Any]) -> tuple[str, list[Any] | None]:
    """(text, blocks) after the checks every posting method shares: block schema and ``no_text``."""
    text = params.get("text")
    text = "" if text is None else str(text)
    blocks = params.get("blocks")
    if blocks is not None:
        if isinstance(blocks, str):  # a form field that was not valid JSON
            raise ApiError("invalid_blocks_format")
        problems = blocks_problems(blocks)
        if problems:
            raise ApiError("invalid_blocks", problems)
    if not text and not blocks and not params.get("attachments"):
        raise ApiError("no_text")
    return text, blocks


def check_metadata(params: dict[str, Any]) -> None:
    """Slack's checks on ``metadata``: an object with a string ``event_type`` and an object ``event_payload``."""
    metadata = params.get("metadata")
    if metadata is None or metadata == "":
        return
    if not isinstance(metadata, dict):  # a form field that was not valid JSON, or not an object
        raise ApiError("invalid_metadata_format")
    event_type, payload = metadata.get("event_type"), metadata.get("event_payload")
    if not isinstance(event_type, str) or not event_type or not isinstance(payload, dict):
        raise ApiError("invalid_metadata_schema")
    if len(payloads.to_json(metadata)) > METADATA_LIMIT:
        raise ApiError("metadata_too_large")


def _own_message(ctx: MethodContext, channel: Channel, ts: str, error: str) -> dict[str, Any]:
    message = ctx.state.find_message(channel.id, ts)
    if message is None:
        raise ApiError("message_not_found")
    if message.get("bot_id") != ctx.identity.bot_id:
        raise ApiError(error)
    return message


def _public(message: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(message)


def _set_blocks(ctx: MethodContext, channel: Channel, message: dict[str, Any], blocks: Any, *,
                drop_empty: bool) -> None:
    """Replace a message's blocks (an empty value removes them with ``drop_empty``, else stores ``[]``);
    people's picks in the message's inputs follow the new blocks."""
    if blocks or not drop_empty:
        message["blocks"] = copy.deepcopy(blocks or [])
        inputs.fill_ids(message["blocks"])
    else:
        message.pop("blocks", None)
    people = ctx.state.inputs.get((channel.id, message["ts"]), {})
    for user_id, picks in people.items():
        people[user_id] = inputs.reconcile(message.get("blocks"), picks)


def post_message(ctx: MethodContext, params: dict[str, Any]) -> dict[str, Any]:
    """``chat.postMessage``: store the bot's message, echo it back as a ``message`` event."""
    return _post(ctx, ctx.writable_channel(params), params, method="chat.postMessage")


def _post(ctx: MethodContext, channel: Channel, params: dict[str, Any], *, method: str) -> dict[str, Any]:
    text, _ = _content(params)
    check_metadata(params)
    truncated = len(text) > TEXT_LIMIT
    text = text[:TEXT_LIMIT]
    root, parent_user = ctx.state.thread_root(channel.id, str(params.get("thread_ts") or "") or None)
    ts = ctx.clock.next_ts()
    message = payloads.bot_message(ctx.identity, ts, params, text=text, updated=int(ctx.clock.now()),
                                   thread_ts=root, parent_user_id=parent_user)
    ctx.state.store_message(channel.id, message)
    ctx.echo(payloads.message_event(message, channel))
    ctx.notice(method, channel=channel.id, ts=ts, message=_public(message))
    body: dict[str, Any] = {"ok": True, "channel": channel.id, "ts": ts, "message": _public(message)}
    if truncated:
        body["warning"] = "message_truncated"
        body["response_metadata"] = {"messages": [f"[WARN] {TRUNCATED_WARNING}"],
                                     "warnings": ["message_truncated"]}
    return body


def update(ctx: MethodContext, params: dict[str, Any]) -> dict[str, Any]:
    """``chat.update``: replace text and/or blocks of one of the bot's messages."""
    channel = ctx.channel(params)
    ts = required(params, "ts", "message_not_found")
    message = _own_message(ctx, channel, ts, "cant_update_message")
    if len(str(params.get("text") or "")) > TEXT_LIMIT:
        raise ApiError("msg_too_long")
    text, _ = _content(params)
    if "text" in params:
        message["text"] = text
    if "blocks" in params:
        _set_blocks(ctx, channel, message, params["blocks"], drop_empty=True)
    if "attachments" in params:
        if params["attachments"]:
            message["attachments"] = copy.deepcopy(params["attachments"])
        else:
            message.pop("attachments", None)
    message["edited"] = {"user": ctx.identity.bot_user_id, "ts": ctx.clock.next_ts()}
    ctx.notice("chat.update", channel=channel.id, ts=ts, message=_public(message))
    return {"ok": True, "channel": channel.id, "ts": ts, "text": message["text"], "message": _public(message)}


def delete(ctx: MethodContext, params: dict[str, Any]) -> dict[str, Any]:
    """``chat.delete``: remove one of the bot's messages."""
    channel = ctx.channel(params)
    ts = required(params, "ts", "message_not_found")
    _own_message(ctx, channel, ts, "cant_delete_message")
    ctx.state.remove_message(channel.id, ts)
    return {"ok": True, "channel": channel.id, "ts": ts}


def post_ephemeral(ctx: MethodContext, params: dict[str, Any]) -> dict[str, Any]:
    """``chat.postEphemeral``: a message only ``user`` sees; kept apart from the channel's messages."""
    channel = ctx.writable_channel(params)
    user = required(params, "user", "user_not_found")
    if user not in ctx.state.users:
        raise ApiError("user_not_found")
    if channel.is_im and channel.user != user:
        raise ApiError("user_not_in_channel")
    ts = _post_ephemeral(ctx, channel, user, params, method="chat.postEphemeral")
    return {"ok": True, "message_ts": ts}


def _post_ephemeral(ctx: MethodContext, channel: Channel, user: str, params: dict[str, Any], *,
                    method: str) -> str:
    text, _ = _content(params)
    ts = ctx.clock.next_ts()
    message = payloads.bot_message(ctx.identity, ts, params, text=text[:TEXT_LIMIT],
                                   updated=int(ctx.clock.now()), thread_ts=params.get("thread_ts") or None)
    message.update(subtype="ephemeral", recipient=user)
    ctx.state.ephemerals.setdefault(channel.id, []).append(message)
    ctx.notice(method, channel=channel.id, user=user, ts=ts, message=_public(message))
    return ts


def get_permalink(ctx: MethodContext, params: dict[str, Any]) -> dict[str, Any]:
    """``chat.getPermalink``: a Slack-style archive link to a stored message."""
    channel = ctx.channel(params)
    ts = required(params, "message_ts", "message_not_found")
    message = ctx.state.find_message(channel.id, ts)
    if message is None:
        raise ApiError("message_not_found")
    link = f"{ctx.base_url}archives/{channel.id}/p{ts.replace('.', '')}"
    if message.get("thread_ts") and message["thread_ts"] != ts:
        link += f"?thread_ts={message['thread_ts']}&cid={channel.id}"
    return {"ok": True, "channel": channel.id, "permalink": link}


def schedule_message(ctx: MethodContext, params: dict[str, Any]) -> dict[str, Any]:
    """``chat.scheduleMessage``: remember the message; the local workspace never sends it by itself."""
    channel = ctx.writable_channel(params)
    post_at = int_arg(params, "post_at", 0)
    now = ctx.clock.now()
    if not post_at:
        raise ApiError("invalid_time")
    if post_at < now:
        raise ApiError("time_in_past")
    if post_at > now + SCHEDULE_HORIZON_SECONDS:
        raise ApiError("time_too_far")
    text, blocks = _content(params)
    check_metadata(params)
    scheduled_id = ctx.new_id("Q")
    message: dict[str, Any] = {"text": text[:TEXT_LIMIT], "bot_id": ctx.identity.bot_id,
                               "type": "delayed_message", "subtype": "bot_message"}
    if blocks:
        message["blocks"] = copy.deepcopy(blocks)
    if params.get("metadata"):
        message["metadata"] = copy.deepcopy(params["metadata"])
    ctx.state.scheduled.append({"id": scheduled_id, "channel_id": channel.id, "post_at": post_at,
                                "date_created": int(now), "text": message["text"], "message": message,
                                "thread_ts": params.get("thread_ts")})
    return {"ok": True, "channel": channel.id, "scheduled_message_id": scheduled_id, "post_at": post_at,
            "message": copy.deepcopy(message)}


#: The fields ``chat.scheduledMessages.list`` shows of each scheduled message.
SCHEDULED_LIST_FIELDS = ("id", "channel_id", "post_at", "date_created", "text")


def scheduled_messages_list(ctx: MethodContext, params: dict[str, Any]) -> dict[str, Any]:
    """``chat.scheduledMessages.list``: pending scheduled messages (of one channel, if given), soonest first.

    ``oldest``/``latest`` bound ``post_at``; each entry has only id, channel, times and text, as on Slack.
    """
    channel = ctx.channel(params) if params.get("channel") else None
    oldest, latest = int_arg(params, "oldest", 0), int_arg(params, "latest", 0)
    entries = [{key: item[key] for key in SCHEDULED_LIST_FIELDS}
               for item in sorted(ctx.state.scheduled, key=lambda item: item["post_at"])
               if (channel is None or item["channel_id"] == channel.id)
               and (not oldest or item["post_at"] >= oldest) and (not latest or item["post_at"] <= latest)]
    chunk, cursor = page(entries, params)
    return {"ok": True, "scheduled_messages": chunk, "response_metadata": {"next_cursor": cursor}}


def delete_scheduled_message(ctx: MethodContext, params: dict[str, Any]) -> dict[str, Any]:
    """``chat.deleteScheduledMessage``: forget a pending scheduled message of that channel."""
    channel = ctx.channel(params)
    scheduled_id = required(params, "scheduled_message_id", "invalid_scheduled_message_id")
    item = next((m for m in ctx.state.scheduled
                 if m["id"] == scheduled_id and m["channel_id"] == channel.id), None)
    if item is None:
        raise ApiError("invalid_scheduled_message_id")
    ctx.state.scheduled.remove(item)
    return {"ok": True}


def reactions_add(ctx: MethodContext, params: dict[str, Any]) -> dict[str, Any]:
    """``reactions.add``: the bot reacts to a message; the same reaction twice is ``already_reacted``."""
    channel = ctx.channel(params)
    ts = required(params, "timestamp", "no_item_specified")
    name = required(params, "name", "invalid_name").strip(":")
    message = ctx.state.find_message(channel.id, ts)
    if message is None:
        raise ApiError("message_not_found")
    reactions = message.setdefault("reactions", [])
    reaction = next((r for r in reactions if r["name"] == name), None)
    if reaction is None:
        reaction = {"name": name, "users": [], "count": 0}
        reactions.append(reaction)
    if ctx.identity.bot_user_id in reaction["users"]:
        raise ApiError("already_reacted")
    reaction["users"].append(ctx.identity.bot_user_id)
    reaction["count"] += 1
    return {"ok": True}


def response_url(ctx: MethodContext, params: dict[str, Any]) -> dict[str, Any]:
    """A POST to a ``response_url`` from a click or slash command (what bolt's ``respond()`` does)."""
    hook = ctx.state.hooks.get(str(params.get("hook_id")))
    if hook is None:
        raise ApiError("no_active_hooks")
    channel = ctx.state.channels[hook["channel"]]
    original = hook.get("message_ts")
    if flag(params, "delete_original") and original:
        ctx.state.remove_message(channel.id, original)
        return {"ok": True}
    text, _ = _content(params)
    if flag(params, "replace_original") and original:
        target = ctx.state.find_message(channel.id, original)
        target = target or ctx.state.find_ephemeral(channel.id, original)
        if target is None:
            raise ApiError("message_not_found")
        target["text"] = text
        if "blocks" in params:
            _set_blocks(ctx, channel, target, params["blocks"], drop_empty=False)
        ctx.notice("response_url", channel=channel.id, ts=original, message=_public(target))
        return {"ok": True}
    if params.get("response_type") == "in_channel":
        _post(ctx, channel, params, method="response_url")
    else:
        _post_ephemeral(ctx, channel, hook["user"], params, method="response_url")
    return {"ok": True}


HANDLERS: dict[str, Handler] = {
    "chat.postMessage": post_message,
    "chat.update": update,
    "chat.delete": delete,
    "chat.postEphemeral": post_ephemeral,
    "chat.getPermalink": get_permalink,
    "chat.scheduleMessage": schedule_message,
    "chat.scheduledMessages.list": scheduled_messages_list,
    "chat.deleteScheduledMessage": delete_scheduled_message,
    "reactions.add": reactions_add,
}
