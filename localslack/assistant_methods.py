"""Slack's Web API methods for AI apps: ``assistant.threads.*`` and the streaming ``chat.*`` methods.

- ``assistant.threads.setStatus`` / ``setSuggestedPrompts`` / ``setTitle`` on a thread of a DM with the bot (the
  thread need not have been opened with :meth:`~localslack.assistant_people.AssistantActions.open_assistant_thread`,
  as Slack takes them for any DM thread); what was set is kept in ``state.assistant_threads``.
- ``chat.startStream`` posts a message that ``chat.appendStream`` grows and ``chat.stopStream`` ends; appending to a
  message that is not streaming is ``message_not_in_streaming_state``. ``recipient_user_id`` and
  ``recipient_team_id`` are required outside a DM, as Slack documents.

Shapes and limits follow Slack's documentation (prompts: up to four, each with ``title`` and ``message``; markdown
text up to 12,000 characters; chunks as in ``localslack.agent_blocks``). Where Slack documents no number (the
length of a status, a prompt or a title; how many loading messages), the caps are the local workspace's own.
"""

from __future__ import annotations

from typing import Any

from localslack import agent_blocks, payloads
from localslack.chat_methods import check_metadata
from localslack.context import ApiError, Handler, MethodContext, required
from localslack.state import Channel
from localslack.validation import TEXT_LIMIT, blocks_problems

MAX_PROMPTS = 4
#: Local caps (Slack documents none): characters of a status, a prompt's title or message, a thread title; and
#: how many loading messages one status may rotate through.
STATUS_LIMIT = 250
PROMPT_TEXT_LIMIT = 2000
TITLE_LIMIT = 255
MAX_LOADING_MESSAGES = 10


def _thread(ctx: MethodContext, params: dict[str, Any], *, need_ts: bool = True) -> tuple[Channel, str]:
    """The DM and thread an ``assistant.threads.*`` call names."""
    channel = ctx.channel(params, "channel_id")
    if not channel.is_im:
        raise ApiError("channel_not_found")
    thread_ts = str(params.get("thread_ts") or "")
    if need_ts and not thread_ts:
        raise ApiError("invalid_arguments", ["missing required field: thread_ts"])
    if thread_ts and ctx.state.find_message(channel.id, thread_ts) is None:
        raise ApiError("invalid_thread_ts")
    return channel, thread_ts


def _too_long(value: object, limit: int, pointer: str) -> list[str]:
    if isinstance(value, str) and len(value) > limit:
        return [f"must be less than {limit + 1} characters [json-pointer:{pointer}]"]
    return []


def set_status(ctx: MethodContext, params: dict[str, Any]) -> dict[str, Any]:
    """``assistant.threads.setStatus``: the line under the app's name in the thread; ``""`` clears it."""
    if "status" not in params or not isinstance(params["status"], str):
        raise ApiError("invalid_arguments", ["missing required field: status"])
    channel, thread_ts = _thread(ctx, params)
    problems = _too_long(params["status"], STATUS_LIMIT, "/status")
    loading = params.get("loading_messages")
    if loading is not None:
        if not isinstance(loading, list) or not all(isinstance(m, str) and m for m in loading):
            problems.append("must be an array of non-empty strings [json-pointer:/loading_messages]")
        elif len(loading) > MAX_LOADING_MESSAGES:
            problems.append(f"no more than {MAX_LOADING_MESSAGES} items allowed [json-pointer:/loading_messages]")
    if problems:
        raise ApiError("invalid_arguments", problems)
    thread = ctx.state.assistant_threads.setdefault((channel.id, thread_ts), {})
    thread["status"] = params["status"]
    thread["loading_messages"] = list(loading or [])
    thread.setdefault("statuses", []).append(params["status"])
    return {"ok": True}


def set_suggested_prompts(ctx: MethodContext, params: dict[str, Any]) -> dict[str, Any]:
    """``assistant.threads.setSuggestedPrompts``: up to four prompts, each a ``title`` and a ``message``."""
    channel, thread_ts = _thread(ctx, params, need_ts=False)
    prompts = params.get("prompts")
    if not isinstance(prompts, list) or not prompts:
        raise ApiError("invalid_arguments", ["missing required field: prompts"])
    problems: list[str] = []
    if len(prompts) > MAX_PROMPTS:
        problems.append(f"no more than {MAX_PROMPTS} items allowed [json-pointer:/prompts]")
    for i, prompt in enumerate(prompts):
        if not isinstance(prompt, dict) or set(prompt) - {"title", "message"}:
            problems.append(f"must be an object with title and message [json-pointer:/prompts/{i}]")
            continue
        for key in ("title", "message"):
            value = prompt.get(key)
            if not isinstance(value, str) or not value.strip():
                problems.append(f"must be a non-empty string [json-pointer:/prompts/{i}/{key}]")
            problems += _too_long(value, PROMPT_TEXT_LIMIT, f"/prompts/{i}/{key}")
    problems += _too_long(params.get("title"), TITLE_LIMIT, "/title")
    if problems:
        raise ApiError("invalid_arguments", problems)
    thread = ctx.state.assistant_threads.setdefault((channel.id, thread_ts), {})
    thread["prompts"] = [dict(p) for p in prompts]
    thread["prompts_title"] = params.get("title")
    return {"ok": True}


def set_title(ctx: MethodContext, params: dict[str, Any]) -> dict[str, Any]:
    """``assistant.threads.setTitle``: the thread's title in the app's history."""
    channel, thread_ts = _thread(ctx, params)
    title = required(params, "title")
    if len(title) > TITLE_LIMIT:
        raise ApiError("invalid_arguments", _too_long(title, TITLE_LIMIT, "/title"))
    ctx.state.assistant_threads.setdefault((channel.id, thread_ts), {})["title"] = title
    return {"ok": True}


def _markdown(params: dict[str, Any]) -> str:
    text = params.get("markdown_text")
    if text is None:
        return ""
    if not isinstance(text, str):
        raise ApiError("invalid_arguments", ["must be a string [json-pointer:/markdown_text]"])
    if len(text) > agent_blocks.MARKDOWN_TEXT_LIMIT:
        raise ApiError("msg_too_long")
    return text


def _chunks_text(params: dict[str, Any]) -> str:
    """The markdown of the call's ``chunks`` (validated); other chunks are checked and kept on the message."""
    chunks = params.get("chunks")
    if chunks is None:
        return ""
    problems = agent_blocks.chunks_problems(chunks, blocks_problems=blocks_problems)
    if problems:
        raise ApiError("invalid_chunks", problems)
    return "".join(c["text"] for c in chunks if c["type"] == "markdown_text")


def _streaming(ctx: MethodContext, params: dict[str, Any]) -> tuple[Channel, dict[str, Any]]:
    channel = ctx.channel(params)
    ts = required(params, "ts", "message_not_found")
    message = ctx.state.find_message(channel.id, ts)
    if message is None:
        raise ApiError("message_not_found")
    if message.get("bot_id") != ctx.identity.bot_id or (channel.id, ts) not in ctx.state.streaming:
        raise ApiError("message_not_in_streaming_state")
    return channel, message


def _grow(ctx: MethodContext, message: dict[str, Any], params: dict[str, Any]) -> None:
    text = message["text"] + _markdown(params) + _chunks_text(params)
    if len(text) > TEXT_LIMIT:
        raise ApiError("msg_too_long")
    message["text"] = text
    chunks = params.get("chunks")
    if chunks:
        message.setdefault("chunks", []).extend(c for c in chunks if c["type"] != "markdown_text")


def start_stream(ctx: MethodContext, params: dict[str, Any]) -> dict[str, Any]:
    """``chat.startStream``: a new message in the thread that later calls grow."""
    channel = ctx.writable_channel(params)
    if not channel.is_im and not (params.get("recipient_user_id") and params.get("recipient_team_id")):
        raise ApiError("invalid_arguments", ["recipient_user_id and recipient_team_id are required in channels"])
    mode = params.get("task_display_mode")
    if mode is not None and mode not in ("timeline", "plan"):
        raise ApiError("invalid_arguments", ["must be one of: timeline, plan [json-pointer:/task_display_mode]"])
    root, parent_user = ctx.state.thread_root(channel.id, str(params.get("thread_ts") or "") or None)
    ts = ctx.clock.next_ts()
    message = payloads.bot_message(
        ctx.identity, ts, {}, text="", updated=int(ctx.clock.now()), thread_ts=root, parent_user_id=parent_user
    )
    _grow(ctx, message, params)
    ctx.state.store_message(channel.id, message)
    ctx.state.streaming.add((channel.id, ts))
    ctx.notice("chat.startStream", channel=channel.id, ts=ts, message=dict(message))
    return {"ok": True, "channel": channel.id, "ts": ts}


def append_stream(ctx: MethodContext, params: dict[str, Any]) -> dict[str, Any]:
    """``chat.appendStream``: more markdown (or chunks) on a streaming message."""
    channel, message = _streaming(ctx, params)
    if params.get("markdown_text") is None and params.get("chunks") is None:
        raise ApiError("invalid_arguments", ["missing required field: markdown_text"])
    _grow(ctx, message, params)
    return {"ok": True, "channel": channel.id, "ts": message["ts"]}


def stop_stream(ctx: MethodContext, params: dict[str, Any]) -> dict[str, Any]:
    """``chat.stopStream``: the last text, blocks and metadata; the message is final and echoed as posted."""
    channel, message = _streaming(ctx, params)
    blocks = params.get("blocks")
    if blocks is not None:
        problems = blocks_problems(blocks)
        if problems:
            raise ApiError("invalid_blocks", problems)
    check_metadata(params)
    _grow(ctx, message, params)
    if blocks:
        message["blocks"] = list(blocks)
    if params.get("metadata"):
        message["metadata"] = params["metadata"]
    ctx.state.streaming.discard((channel.id, message["ts"]))
    ctx.echo(payloads.message_event(message, channel))
    ctx.notice("chat.stopStream", channel=channel.id, ts=message["ts"], message=dict(message))
    return {"ok": True, "channel": channel.id, "ts": message["ts"], "message": dict(message)}


HANDLERS: dict[str, Handler] = {
    "assistant.threads.setStatus": set_status,
    "assistant.threads.setSuggestedPrompts": set_suggested_prompts,
    "assistant.threads.setTitle": set_title,
    "chat.startStream": start_stream,
    "chat.appendStream": append_stream,
    "chat.stopStream": stop_stream,
}
