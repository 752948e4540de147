"""``views.open``, ``views.update`` and ``views.publish`` handlers.

A ``trigger_id`` is what a click or slash command hands the bot; Slack accepts it once and only within
three seconds, which is why a modal must be opened before (not after) enqueueing slow work.
"""

from __future__ import annotations

import copy
import secrets
from typing import Any

from localslack.context import ApiError, Handler, MethodContext, required
from localslack.validation import view_problems

#: Slack's lifetime of a trigger_id.
TRIGGER_TTL_SECONDS = 3.0


def _view_arg(params: dict[str, Any], expected_type: str) -> dict[str, Any]:
    view = params.get("view")
    if isinstance(view, str):  # a form field that was not valid JSON
        raise ApiError("invalid_arguments", ["invalid json [json-pointer:/view]"])
    problems = view_problems(view, expected_type=expected_type)
    if problems or not isinstance(view, dict):
        raise ApiError("invalid_arguments", problems)
    return view


def _exchange_trigger(ctx: MethodContext, trigger_id: str) -> None:
    if trigger_id in ctx.state.exchanged_triggers:
        raise ApiError("exchanged_trigger_id")
    issued = ctx.state.triggers.get(trigger_id)
    if issued is None:
        raise ApiError("invalid_trigger_id")
    if ctx.clock.now() - issued > TRIGGER_TTL_SECONDS:
        raise ApiError("expired_trigger_id")
    ctx.state.exchanged_triggers.add(trigger_id)


def _view_object(ctx: MethodContext, view: dict[str, Any], *, view_id: str, root_view_id: str,
                 previous_view_id: str | None = None) -> dict[str, Any]:
    identity = ctx.identity
    obj: dict[str, Any] = {
        "id": view_id, "team_id": identity.team_id, "type": view["type"],
        "blocks": copy.deepcopy(view.get("blocks", [])),
        "private_metadata": view.get("private_metadata", ""), "callback_id": view.get("callback_id", ""),
        "state": {"values": {}}, "hash": f"{int(ctx.clock.now())}.{secrets.token_hex(4)}",
        "clear_on_close": bool(view.get("clear_on_close", False)),
        "notify_on_close": bool(view.get("notify_on_close", False)),
    }
    for key in ("title", "close", "submit"):
        obj[key] = copy.deepcopy(view.get(key))
    obj.update(previous_view_id=previous_view_id, root_view_id=root_view_id, app_id=identity.app_id,
               external_id=view.get("external_id", ""), app_installed_team_id=identity.team_id,
               bot_id=identity.bot_id)
    return obj


def views_open(ctx: MethodContext, params: dict[str, Any]) -> dict[str, Any]:
    """``views.open``: open a modal for the person whose click or command produced ``trigger_id``."""
    trigger_id = required(params, "trigger_id")
    view = _view_arg(params, "modal")
    _exchange_trigger(ctx, trigger_id)
    view_id = ctx.new_id("V")
    obj = _view_object(ctx, view, view_id=view_id, root_view_id=view_id)
    ctx.state.views[view_id] = obj
    ctx.notice("views.open", trigger_id=trigger_id, view=copy.deepcopy(obj))
    return {"ok": True, "view": copy.deepcopy(obj)}


def views_update(ctx: MethodContext, params: dict[str, Any]) -> dict[str, Any]:
    """``views.update``: replace a view (by ``view_id`` or ``external_id``); a stale ``hash`` conflicts."""
    view = _view_arg(params, "modal")
    current = ctx.state.views.get(str(params.get("view_id") or ""))
    if current is None and params.get("external_id"):
        wanted = params["external_id"]
        current = next((v for v in ctx.state.views.values() if v["external_id"] == wanted), None)
    if current is None:
        raise ApiError("not_found")
    if params.get("hash") and params["hash"] != current["hash"]:
        raise ApiError("hash_conflict")
    obj = _view_object(ctx, view, view_id=current["id"], root_view_id=current["root_view_id"],
                       previous_view_id=current["previous_view_id"])
    ctx.state.views[current["id"]] = obj
    return {"ok": True, "view": copy.deepcopy(obj)}


def views_publish(ctx: MethodContext, params: dict[str, Any]) -> dict[str, Any]:
    """``views.publish``: set a person's App Home tab."""
    user_id = required(params, "user_id")
    if user_id not in ctx.state.users:
        raise ApiError("user_not_found")
    view = _view_arg(params, "home")
    view_id = ctx.state.homes.get(user_id) or ctx.new_id("V")
    obj = _view_object(ctx, view, view_id=view_id, root_view_id=view_id)
    ctx.state.homes[user_id] = view_id
    ctx.state.views[view_id] = obj
    return {"ok": True, "view": copy.deepcopy(obj)}


HANDLERS: dict[str, Handler] = {
    "views.open": views_open,
    "views.update": views_update,
    "views.publish": views_publish,
}
