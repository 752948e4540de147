"""Builders for the JSON objects Slack produces: messages, events and their envelope, interactivity payloads.

Pure functions. Shapes follow the captured payloads in ``shared/fixtures/slack/`` (a bot's own message as
``message_thread_reply_by_bot``, a person's as ``message_im``, the envelope with ``authorizations`` and
``event_context``, ``block_actions`` and slash-command bodies as bolt-python's samples).
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from typing import Any

from localslack.inputs import fill_ids
from localslack.state import Channel, Identity, User


def to_json(payload: dict[str, Any]) -> str:
    """Compact JSON, as Slack sends it."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


_MENTION = re.compile(r"<@([UWB][A-Z0-9]+)(?:\|[^>]*)?>")


def rich_text_blocks(text: str, *, block_id: str) -> list[dict[str, Any]]:
    """The ``rich_text`` block clients attach to a typed message; mentions become ``user`` elements."""
    elements: list[dict[str, Any]] = []
    position = 0
    for match in _MENTION.finditer(text):
        if match.start() > position:
            elements.append({"type": "text", "text": text[position:match.start()]})
        elements.append({"type": "user", "user_id": match.group(1)})
        position = match.end()
    if position < len(text):
        elements.append({"type": "text", "text": text[position:]})
    return [{"type": "rich_text", "block_id": block_id,
             "elements": [{"type": "rich_text_section", "elements": elements}]}]


def bot_profile(identity: Identity, *, updated: int) -> dict[str, Any]:
    """The ``bot_profile`` object on the bot's messages."""
    icons = {f"image_{n}": f"https://a.slack-edge.com/80588/img/plugins/app/bot_{n}.png"
             for n in (36, 48, 72)}
    return {"id": identity.bot_id, "deleted": False, "name": identity.bot_name, "updated": updated,
            "app_id": identity.app_id, "icons": icons, "team_id": identity.team_id}


def user_message(identity: Identity, user_id: str, text: str, ts: str, *, thread_ts: str | None = None,
                 parent_user_id: str | None = None) -> dict[str, Any]:
    """A message typed by a person, as stored and as carried by a ``message`` event."""
    message: dict[str, Any] = {
        "client_msg_id": str(uuid.uuid4()), "type": "message", "text": text, "user": user_id, "ts": ts,
        "team": identity.team_id,
    }
    if text:
        message["blocks"] = rich_text_blocks(text, block_id=ts[-4:])
    if thread_ts and thread_ts != ts:
        message.update(thread_ts=thread_ts, parent_user_id=parent_user_id)
    return message


def bot_message(identity: Identity, ts: str, params: dict[str, Any], *, text: str, updated: int,
                thread_ts: str | None = None, parent_user_id: str | None = None) -> dict[str, Any]:
    """A message the bot posted with ``chat.postMessage`` (modern app shape: ``user`` + ``bot_id``)."""
    message: dict[str, Any] = {
        "bot_id": identity.bot_id, "type": "message", "text": text, "user": identity.bot_user_id, "ts": ts,
        "app_id": identity.app_id, "team": identity.team_id,
        "bot_profile": bot_profile(identity, updated=updated),
    }
    for key in ("blocks", "attachments", "metadata"):
        if params.get(key):
            message[key] = copy.deepcopy(params[key])
    fill_ids(message.get("blocks"))
    if thread_ts and thread_ts != ts:
        message.update(thread_ts=thread_ts, parent_user_id=parent_user_id)
        if str(params.get("reply_broadcast", "")).lower() in ("true", "1"):
            message["subtype"] = "thread_broadcast"
    return message


def message_event(message: dict[str, Any], channel: Channel) -> dict[str, Any]:
    """The inner ``message`` event for a stored message."""
    event = copy.deepcopy(message)
    for key in ("reply_count", "reply_users", "reply_users_count", "latest_reply", "reactions"):
        event.pop(key, None)
    event.update(channel=channel.id, event_ts=message["ts"], channel_type=channel.channel_type)
    return event


def app_mention_event(message: dict[str, Any], channel: Channel) -> dict[str, Any]:
    """The inner ``app_mention`` event Slack sends next to the ``message`` event when the bot is mentioned.

    A file shared with a comment that mentions the bot carries the ``files`` too.
    """
    event: dict[str, Any] = {"client_msg_id": message.get("client_msg_id"), "type": "app_mention",
                             "text": message["text"], "user": message["user"], "ts": message["ts"],
                             "team": message.get("team"), "blocks": copy.deepcopy(message.get("blocks", []))}
    if message.get("files"):
        event.update(files=copy.deepcopy(message["files"]), upload=message.get("upload", False),
                     display_as_bot=message.get("display_as_bot", False))
    if message.get("thread_ts"):
        event["thread_ts"] = message["thread_ts"]
    event.update(channel=channel.id, event_ts=message["ts"])
    return event


def event_envelope(identity: Identity, event: dict[str, Any], *, event_id: str,
                   event_time: int) -> dict[str, Any]:
    """Wrap an inner event in the ``event_callback`` envelope Slack POSTs to the Events API URL."""
    envelope = {
        "token": identity.verification_token, "team_id": identity.team_id, "api_app_id": identity.app_id,
        "event": event, "type": "event_callback", "event_id": event_id, "event_time": event_time,
        # An org-wide install is authorized by the org alone: team_id null, as Slack documents it.
        "authorizations": [{"enterprise_id": identity.enterprise_id,
                            "team_id": None if identity.org_install else identity.team_id,
                            "user_id": identity.bot_user_id, "is_bot": True,
                            "is_enterprise_install": identity.org_install}],
        "is_ext_shared_channel": False,
        "event_context": f"4-local-{identity.team_id}-{event_id}",
    }
    if identity.enterprise_id:
        envelope["enterprise_id"] = identity.enterprise_id
    return envelope


def _user_ref(identity: Identity, user: User) -> dict[str, Any]:
    return {"id": user.id, "username": user.name, "name": user.name, "team_id": identity.team_id}


def _channel_ref(channel: Channel) -> dict[str, str]:
    return {"id": channel.id, "name": "directmessage" if channel.is_im else channel.name}


def _team_ref(identity: Identity) -> dict[str, Any]:
    ref: dict[str, Any] = {"id": identity.team_id, "domain": identity.team_domain}
    if identity.enterprise_id:
        ref["enterprise_id"] = identity.enterprise_id
    return ref


def _enterprise_ref(identity: Identity) -> dict[str, Any] | None:
    return {"id": identity.enterprise_id, "name": identity.enterprise_id} if identity.enterprise_id else None


def find_element(blocks: list[dict[str, Any]], action_id: str,
                 block_id: str | None = None) -> tuple[dict[str, Any], str] | None:
    """The interactive element with ``action_id`` (in block ``block_id`` if given) and its block's id.

    An input block's ``element`` counts only with ``dispatch_action``: otherwise Slack sends no
    ``block_actions`` for it.
    """
    for block in blocks:
        if block_id is not None and block.get("block_id") != block_id:
            continue
        candidates = [*block.get("elements", []), block.get("accessory") or {}]
        if block.get("type") == "input" and block.get("dispatch_action"):
            candidates.append(block.get("element") or {})
        for element in candidates:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return element, block.get("block_id", "")
    return None


def action_object(element: dict[str, Any], block_id: str, value: str | None, *,
                  action_ts: str) -> dict[str, Any]:
    """One entry of ``actions[]``: what the person clicked or picked."""
    action: dict[str, Any] = {"action_id": element["action_id"], "block_id": block_id}
    kind = element.get("type", "button")
    if kind == "button":
        action.update(text=element.get("text"), value=element.get("value") if value is None else value)
        if "style" in element:
            action["style"] = element["style"]
    elif "options" in element:
        chosen = next((o for o in element["options"] if o.get("value") == value), None)
        action["selected_option"] = chosen or {"value": value}
    elif value is not None:
        action["value"] = value
    action.update(type=kind, action_ts=action_ts)
    return action


def block_actions_payload(identity: Identity, user: User, channel: Channel, *, message: dict[str, Any],
                          is_ephemeral: bool, action: dict[str, Any], trigger_id: str,
                          response_url: str, state_values: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``block_actions`` payload for a click on a message's element.

    ``state_values`` is the clicking person's input state of the message (see :mod:`localslack.inputs`).
    """
    payload: dict[str, Any] = {
        "type": "block_actions", "user": _user_ref(identity, user), "api_app_id": identity.app_id,
        "token": identity.verification_token,
        "container": {"type": "message", "message_ts": message["ts"], "channel_id": channel.id,
                      "is_ephemeral": is_ephemeral},
        "trigger_id": trigger_id, "team": _team_ref(identity), "enterprise": _enterprise_ref(identity),
        "is_enterprise_install": identity.org_install, "channel": _channel_ref(channel),
    }
    if not is_ephemeral:  # Slack leaves the message out for ephemeral containers
        payload["message"] = copy.deepcopy(message)
    payload.update(state={"values": copy.deepcopy(state_values or {})}, response_url=response_url,
                   actions=[action])
    return payload


def view_submission_payload(identity: Identity, user: User, view: dict[str, Any], *, values: dict[str, Any],
                            trigger_id: str) -> dict[str, Any]:
    """The ``view_submission`` payload for submitting an open modal with ``values``."""
    submitted = copy.deepcopy(view)
    submitted["state"] = {"values": copy.deepcopy(values)}
    return {"type": "view_submission", "team": _team_ref(identity), "user": _user_ref(identity, user),
            "api_app_id": identity.app_id, "token": identity.verification_token, "trigger_id": trigger_id,
            "view": submitted, "response_urls": [], "is_enterprise_install": identity.org_install,
            "enterprise": _enterprise_ref(identity)}


def slash_command_fields(identity: Identity, user: User, channel: Channel, *, command: str, text: str,
                         response_url: str, trigger_id: str) -> dict[str, str]:
    """The fields Slack sends for a slash command (a form over HTTP, an object over Socket Mode), in its order."""
    return {
        "token": identity.verification_token, "team_id": identity.team_id,
        "team_domain": identity.team_domain, "channel_id": channel.id,
        "channel_name": _channel_ref(channel)["name"], "user_id": user.id, "user_name": user.name,
        "command": command, "text": text, "api_app_id": identity.app_id,
        "is_enterprise_install": "true" if identity.org_install else "false", "response_url": response_url,
        "trigger_id": trigger_id, **({"enterprise_id": identity.enterprise_id} if identity.enterprise_id else {}),
    }
