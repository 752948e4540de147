"""Reading a signed Slack body: parse it, clean every string, check the shape of what bolt and Baton read.

The same for a Socket Mode envelope's payload (:func:`read_envelope`), which stands for the HTTP body of
its type. Runs after the signature check (or the websocket Baton opened itself) and before bolt, so no
listener sees a body that could crash bolt's own parsing (a ``KeyError`` on ``view.type``, a list where
an object belongs) or that Postgres would refuse.
The exceptions, and the status the endpoint answers with::

    Refused                  the body goes no further; ``reason`` names what is wrong, never what it holds
    ├── Malformed   -> 400   not UTF-8, not JSON, not an object, ``payload=`` not JSON, too deep, a
    │                        required field missing or of the wrong type
    └── Unknown     -> 200   well-formed but nothing Baton handles: an unknown ``type``, an
                             ``event_callback`` without a usable ``event``

The shapes are pydantic models at the edge that allow extra fields (Slack adds fields freely) and are
strict about the types of the fields that are read; the body handed on stays the plain cleaned dict.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qsl

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.slack_text import TooDeep, clean_tree

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"

#: What a body is: which bolt path it takes.
Kind = Literal["event", "url_verification", "rate_limited", "interaction", "command", "ssl_check"]


class Refused(Exception):
    """The body is not handed to bolt; ``reason`` is safe to log (field names, never values)."""

    status = 400

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Malformed(Refused):
    """Signed but not a Slack body Baton can read."""


class Unknown(Refused):
    """Signed and well-formed, but nothing Baton handles: acknowledged and dropped."""

    status = 200


@dataclass(frozen=True)
class Inbound:
    """A body that passed: its kind and the parsed body with every string storable."""

    kind: Kind
    body: dict[str, Any]


def read_body(raw: bytes, *, content_type: str) -> Inbound:
    """Parse, clean and check a signed body (JSON for the Events API, a form for commands and interactivity)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Malformed("the body is not UTF-8") from None
    if content_type == FORM_CONTENT_TYPE:
        # Percent-escapes that are not UTF-8 decode to U+FFFD; surrogates cannot come out of a form.
        form = dict(parse_qsl(text, keep_blank_values=True, errors="replace"))
        if "payload" in form:
            return _checked(_clean(_json_object(form["payload"], "payload")), transport="payload")
        if "command" in form:
            return _command(_clean(form))
        if "ssl_check" in form:
            return Inbound("ssl_check", _clean(form))
        raise Malformed("a form without payload or command")
    return _checked(_clean(_json_object(text, "the body")), transport="json")


def read_envelope(envelope_type: str, payload: object) -> Inbound:
    """Clean and check the payload of a Socket Mode envelope as the HTTP body it stands for.

    ``events_api`` carries the Events API JSON body, ``interactive`` the ``payload=`` of an interactivity
    form, ``slash_commands`` a slash command's form fields as a JSON object.
    """
    if not isinstance(payload, dict):
        raise Malformed("the envelope payload is not a JSON object")
    try:  # slack_sdk parsed the frame with Python's json, which lets NaN and Infinity through; jsonb has neither
        json.dumps(payload, allow_nan=False)
    except ValueError:
        raise Malformed("the envelope payload is not JSON Postgres can store") from None
    except RecursionError:
        raise Malformed("the body is nested too deeply") from None
    body = _clean(payload)
    if envelope_type == "events_api" and body.get("type") != "url_verification":  # an HTTP-only handshake
        return _checked(body, transport="json")
    if envelope_type == "interactive":
        return _checked(body, transport="payload")
    if envelope_type == "slash_commands":
        return _command(body)
    raise Unknown(f"envelope type {_safe(envelope_type)} with {_safe(str(body.get('type')))} is not one Baton handles")


# -- parsing -------------------------------------------------------------------------------------------
def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text, parse_constant=_no_constant, parse_float=_finite_float)
    except (ValueError, RecursionError):  # JSONDecodeError, NaN/Infinity, an integer of 4,300+ digits
        raise Malformed(f"{what} is not JSON") from None
    if not isinstance(value, dict):
        raise Malformed(f"{what} is not a JSON object")
    return value


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON Postgres can store")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):  # 1e999: jsonb has no infinity
        raise ValueError("a number out of range")
    return number


def _clean(body: dict[str, Any]) -> dict[str, Any]:
    try:
        cleaned: dict[str, Any] = clean_tree(body)
    except TooDeep:
        raise Malformed("the body is nested too deeply") from None
    return cleaned


# -- shapes --------------------------------------------------------------------------------------------
class _Shape(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)


class Ref(_Shape):
    """``team``, ``user``, ``channel``, ``enterprise`` given as an object."""

    id: str | None = None
    team_id: str | None = None
    enterprise_id: str | None = None


class Authorization(_Shape):
    team_id: str | None = None
    enterprise_id: str | None = None
    user_id: str | None = None
    is_enterprise_install: bool | None = None


class Place(_Shape):
    """An event's ``item`` or ``assistant_thread``: where bolt looks for a channel and thread."""

    channel: str | Ref | None = None
    channel_id: str | None = None
    thread_ts: str | None = None


class Message(_Shape):
    """A message inside a payload or event (``message_changed``'s ``message``, a shortcut's ``message``)."""

    type: str | None = None
    subtype: str | None = None
    text: str | None = None
    user: str | None = None
    bot_id: str | None = None
    ts: str | None = None
    thread_ts: str | None = None
    files: list[dict[str, Any]] | None = None


class Event(_Shape):
    """Any event: the fields bolt reads to build its context, typed as Slack sends them for every type."""

    type: str
    team: str | None = None
    user_team: str | None = None
    user: str | Ref | None = None  # an object in user_change and team_join
    channel: str | Ref | None = None  # an object in channel_created and channel_rename
    user_id: str | None = None
    channel_id: str | None = None
    ts: str | None = None
    event_ts: str | None = None
    thread_ts: str | None = None
    item: Place | None = None
    assistant_thread: Place | None = None
    message: Message | None = None
    previous_message: Message | None = None
    function_execution_id: str | None = None
    bot_access_token: str | None = None
    inputs: dict[str, Any] | None = None


class MessageEvent(Event):
    """``message`` and ``app_mention``: what is stored as a message copy and a request."""

    user: str | None = None
    channel: str | None = None
    text: str | None = None
    subtype: str | None = None
    channel_type: str | None = None
    bot_id: str | None = None
    deleted_ts: str | None = None
    files: list[dict[str, Any]] | None = None


class EventCallback(_Shape):
    type: Literal["event_callback"]
    team_id: str | None = None
    enterprise_id: str | None = None
    context_team_id: str | None = None
    context_enterprise_id: str | None = None
    event_id: str | None = None
    is_ext_shared_channel: bool | None = None
    authorizations: list[Authorization] | None = None
    event: dict[str, Any]


class UrlVerification(_Shape):
    challenge: str


class Container(_Shape):
    channel_id: str | None = None
    message_ts: str | None = None


class ResponseUrl(_Shape):
    response_url: str | None = None


class State(_Shape):
    values: dict[str, dict[str, dict[str, Any]]] | None = None


class View(_Shape):
    type: str
    callback_id: str
    id: str | None = None
    team_id: str | None = None
    app_installed_team_id: str | None = None
    private_metadata: str | None = None
    state: State | None = None


class Action(_Shape):
    action_id: str
    block_id: str | None = None
    type: str | None = None
    value: str | None = None


class Interaction(_Shape):
    """What every interactivity payload may carry, and bolt or ``bot.payload`` reads."""

    type: str
    user: Ref
    team: Ref | None = None
    channel: Ref | None = None
    enterprise: Ref | None = None
    container: Container | None = None
    authorizations: list[Authorization] | None = None
    is_enterprise_install: bool | str | None = None
    trigger_id: str | None = None
    response_url: str | None = None
    response_urls: list[ResponseUrl] | None = None
    message: Message | None = None
    state: State | None = None
    view: View | None = None
    function_data: dict[str, Any] | None = None


class BlockActions(Interaction):
    actions: list[Action] = Field(min_length=1)


class ViewPayload(Interaction):
    view: View


class ShortcutPayload(Interaction):
    callback_id: str


class Command(_Shape):
    """A slash command's fields: strings, as a form gives them (Socket Mode sends them as a JSON object)."""

    command: str
    text: str | None = None
    team_id: str | None = None
    enterprise_id: str | None = None
    channel_id: str | None = None
    user_id: str | None = None
    trigger_id: str | None = None
    response_url: str | None = None
    api_app_id: str | None = None


def _command(body: dict[str, Any]) -> Inbound:
    _validate(Command, body, "command")
    return Inbound("command", body)


#: Interactivity payload types Baton has listeners for (the rest are acknowledged and dropped).
_INTERACTIONS: dict[str, type[Interaction]] = {
    "block_actions": BlockActions,
    "view_submission": ViewPayload,
    "view_closed": ViewPayload,
    "shortcut": ShortcutPayload,
    "message_action": ShortcutPayload,
}


def _checked(body: dict[str, Any], *, transport: Literal["json", "payload"]) -> Inbound:
    kind = body.get("type")
    if not isinstance(kind, str):
        raise Malformed("no type")
    if transport == "json" and kind == "event_callback":
        if "event" not in body:
            raise Unknown("an event_callback without an event")
        _validate(EventCallback, body, kind)
        event = body["event"]
        if not isinstance(event.get("type"), str):
            raise Unknown("an event_callback without an event type")
        _validate(MessageEvent if event["type"] in ("message", "app_mention") else Event, event, "event")
        return Inbound("event", body)
    if transport == "json" and kind == "url_verification":
        _validate(UrlVerification, body, kind)
        return Inbound("url_verification", body)
    if transport == "json" and kind == "app_rate_limited":
        return Inbound("rate_limited", body)
    if transport == "payload" and kind in _INTERACTIONS:
        _validate(_INTERACTIONS[kind], body, kind)
        return Inbound("interaction", body)
    raise Unknown(f"type {_safe(kind)} is not one Baton handles")


def _validate(model: type[_Shape], value: dict[str, Any], what: str) -> None:
    try:
        model.model_validate(value)
    except ValidationError as err:
        first = err.errors(include_url=False, include_input=False, include_context=False)[0]
        where = ".".join(_safe(str(part)) for part in first["loc"][:4]) or "the object"
        raise Malformed(f"{what}: {where} {first['type']}") from None


def _safe(text: str, limit: int = 40) -> str:
    """A short, printable rendering of a name taken from the body (a type, a field path) for a log line."""
    shown = ascii(text)[1:-1]
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"
