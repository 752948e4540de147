"""Input state of messages: what each person has picked in a message's selects, date pickers and checkboxes.

Slack keeps this state in the person's client and sends all of it, as ``state.values``, with every
``block_actions`` payload from that message (a plain button click included)::

    {block_id: {action_id: {"type": "users_select", "selected_user": "U0BOB"}}}

An element the person has not changed reports its initial value (``initial_user``, ``initial_date``,
``initial_option``, ``initial_options`` …), or ``null`` (``[]`` for the multi-value kinds) when it has none.
The state is per person and per message; it lasts across that person's later clicks on the message.

When the bot replaces a message's blocks (``chat.update``, ``replace_original``), a pick survives only where
the element is still there (same ``block_id``, ``action_id`` and type) with the same initial value; every
other element starts again from its new initial value. Slack itself keys client state by ``block_id`` and
``action_id`` (hence its advice to use a new ``block_id`` for each iteration of a message); resetting on a
changed initial value as well means a bot that re-draws a message with a new default sees that default.

Pure functions over plain dicts; :class:`~localslack.people.PeopleActions` stores the picks.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from localslack.errors import InvalidValue, UnknownObject
from localslack.state import Pick, Picks
from localslack.validation import INITIAL_CHOICE, all_options, valid_date, valid_time


@dataclass(frozen=True)
class Kind:
    """How one element type keeps its value: the ``state.values`` field, the initial field, single or many."""

    field: str
    initial: str
    many: bool = False


#: The stateful element types the local workspace tracks, with Slack's field names.
KINDS: dict[str, Kind] = {
    "users_select": Kind("selected_user", "initial_user"),
    "multi_users_select": Kind("selected_users", "initial_users", many=True),
    "conversations_select": Kind("selected_conversation", "initial_conversation"),
    "channels_select": Kind("selected_channel", "initial_channel"),
    "static_select": Kind("selected_option", "initial_option"),
    "multi_static_select": Kind("selected_options", "initial_options", many=True),
    "radio_buttons": Kind("selected_option", "initial_option"),
    "checkboxes": Kind("selected_options", "initial_options", many=True),
    "datepicker": Kind("selected_date", "initial_date"),
    "timepicker": Kind("selected_time", "initial_time"),
}
#: Element types whose choices come from ``options`` (or ``option_groups``).
OPTION_KINDS = frozenset(INITIAL_CHOICE)


def is_stateful(element: dict[str, Any]) -> bool:
    """True for an element whose value Slack keeps in ``state.values``."""
    return element.get("type") in KINDS


def _block_elements(block: dict[str, Any]) -> list[Any]:
    """Where a block keeps elements: an actions block's ``elements``, an ``accessory``, an input's ``element``."""
    found: list[Any] = []
    if block.get("type") == "actions":
        found += block.get("elements") or []
    for key in ("accessory", "element"):
        if isinstance(block.get(key), dict):
            found.append(block[key])
    return found


def stateful_elements(blocks: object) -> Iterator[tuple[str, dict[str, Any]]]:
    """(block_id, element) for each stateful element of ``blocks`` that has both ids, in order."""
    if not isinstance(blocks, list):
        return
    for block in blocks:
        if not isinstance(block, dict) or not isinstance(block.get("block_id"), str):
            continue
        for element in _block_elements(block):
            if isinstance(element, dict) and is_stateful(element) and isinstance(element.get("action_id"), str):
                yield block["block_id"], element


def _generated_id(seed: object, taken: set[str]) -> str:
    """A short id like the ones Slack makes up, derived from ``seed`` and unique among ``taken``."""
    digest = hashlib.sha1(json.dumps(seed, sort_keys=True, default=str).encode(), usedforsecurity=False).hexdigest()
    for size in range(5, len(digest) + 1):
        if digest[:size] not in taken:
            taken.add(digest[:size])
            return digest[:size]
    raise RuntimeError("no free id")  # pragma: no cover - 40 hex digits are never all taken


def fill_ids(blocks: object) -> None:
    """Give stateful elements and their blocks the ``action_id``/``block_id`` Slack generates when absent.

    Slack makes up ids for every block; here only blocks with input elements get one (they key
    ``state.values``), so stored messages otherwise stay exactly as the bot sent them.
    """
    if not isinstance(blocks, list):
        return
    block_ids = {b["block_id"] for b in blocks if isinstance(b, dict) and isinstance(b.get("block_id"), str)}
    for index, block in enumerate(blocks):
        if not isinstance(block, dict):
            continue
        elements = [e for e in _block_elements(block) if isinstance(e, dict) and is_stateful(e)]
        if not elements:
            continue
        if not isinstance(block.get("block_id"), str):
            block["block_id"] = _generated_id([index, block], block_ids)
        action_ids = {e["action_id"] for e in _block_elements(block)
                      if isinstance(e, dict) and isinstance(e.get("action_id"), str)}
        for position, element in enumerate(elements):
            if not isinstance(element.get("action_id"), str):
                element["action_id"] = _generated_id([block["block_id"], position, element], action_ids)


def initial_entry(element: dict[str, Any]) -> dict[str, Any]:
    """The ``state.values`` entry of an element nobody has changed yet."""
    kind = KINDS[element["type"]]
    value = element.get(kind.initial)
    if value is None:
        value = [] if kind.many else None
    return {"type": element["type"], kind.field: copy.deepcopy(value)}


def state_values(blocks: object, picks: Picks) -> dict[str, dict[str, dict[str, Any]]]:
    """``state.values`` of a message for one person: initial values overlaid with that person's picks."""
    values: dict[str, dict[str, dict[str, Any]]] = {}
    for block_id, element in stateful_elements(blocks):
        initial = initial_entry(element)
        pick = picks.get(block_id, {}).get(element["action_id"])
        entry = pick.current if pick is not None and pick.initial == initial else initial
        values.setdefault(block_id, {})[element["action_id"]] = copy.deepcopy(entry)
    return values


def reconcile(blocks: object, picks: Picks) -> Picks:
    """The picks that survive the message's blocks becoming ``blocks`` (see the module docstring)."""
    initials = {(block_id, element["action_id"]): initial_entry(element)
                for block_id, element in stateful_elements(blocks)}
    kept: Picks = {}
    for block_id, by_action in picks.items():
        for action_id, pick in by_action.items():
            if initials.get((block_id, action_id)) == pick.initial:
                kept.setdefault(block_id, {})[action_id] = pick
    return kept


def remember(picks: Picks, block_id: str, element: dict[str, Any], entry: dict[str, Any]) -> None:
    """Record that the person changed ``element`` to ``entry``."""
    picks.setdefault(block_id, {})[element["action_id"]] = Pick(initial_entry(element), copy.deepcopy(entry))


@dataclass(frozen=True)
class Directory:
    """What a value can name: the workspace's user ids and channel ids."""

    has_user: Callable[[str], bool]
    has_channel: Callable[[str], bool]


def picked_entry(element: dict[str, Any], value: str | list[str] | None, *, current: dict[str, Any],
                 directory: Directory) -> dict[str, Any]:
    """The element's ``state.values`` entry after a person picks ``value`` in it (``current`` before).

    ``value`` is a user id (``users_select``), a channel id (``conversations_select``/``channels_select``),
    an option ``value`` (``static_select``, ``radio_buttons``; ``None`` clears a ``static_select``), a date
    ``YYYY-MM-DD``, a time ``HH:mm``, or for the multi-value kinds (``checkboxes``, ``multi_static_select``,
    ``multi_users_select``) the whole new selection as a list, or one item as a string to tick or untick.
    Raises :class:`UnknownObject` for a user, channel or option that does not exist and
    :class:`InvalidValue` for a value of the wrong shape.
    """
    kind_name = element["type"]
    kind = KINDS[kind_name]
    where = f"{kind_name} {element.get('action_id')!r}"
    if kind.many:
        chosen = _many(kind_name, value, current.get(kind.field) or [], where)
        if kind_name == "multi_users_select":
            for user_id in chosen:
                _check_user(user_id, directory, where)
            picked: Any = chosen
        else:
            picked = _options(element, chosen, where)
        return {"type": kind_name, kind.field: picked}
    if value is None:
        if kind_name == "static_select":  # Slack sends null when a person deselects a static select
            return {"type": kind_name, kind.field: None}
        raise InvalidValue(f"pass the value picked in {where}")
    if not isinstance(value, str):
        raise InvalidValue(f"{where} takes one value, not {value!r}")
    if kind_name in OPTION_KINDS:
        [option] = _options(element, [value], where)
        return {"type": kind_name, kind.field: option}
    _check_single(kind_name, value, directory, where)
    return {"type": kind_name, kind.field: value}


def _check_single(kind_name: str, value: str, directory: Directory, where: str) -> None:
    """Raise unless ``value`` is something a person could pick in a single-value element of that type."""
    if kind_name == "users_select":
        _check_user(value, directory, where)
    elif kind_name in ("conversations_select", "channels_select") and not directory.has_channel(value):
        raise UnknownObject(f"no channel {value} in the local workspace ({where})")
    elif kind_name == "datepicker" and not valid_date(value):
        raise InvalidValue(f"{where} takes a date as YYYY-MM-DD, not {value!r}")
    elif kind_name == "timepicker" and not valid_time(value):
        raise InvalidValue(f"{where} takes a time as HH:mm, not {value!r}")


def _many(kind_name: str, value: str | list[str] | None, before: list[Any], where: str) -> list[str]:
    """The new selection of a multi-value element: a list as given, or ``before`` with one item toggled."""
    if isinstance(value, list):
        if not all(isinstance(item, str) for item in value):
            raise InvalidValue(f"{where} takes a list of strings, not {value!r}")
        return list(dict.fromkeys(value))
    if not isinstance(value, str):
        raise InvalidValue(f"pass the new selection of {where} (a list), or one item to toggle")
    selected = [item if isinstance(item, str) else item.get("value") for item in before]
    return [item for item in selected if item != value] if value in selected else [*selected, value]


def _check_user(user_id: str, directory: Directory, where: str) -> None:
    if not directory.has_user(user_id):
        raise UnknownObject(f"no user {user_id} in the local workspace ({where})")


def _options(element: dict[str, Any], values: list[str], where: str) -> list[dict[str, Any]]:
    """The option objects with these values, in the element's order (as Slack lists selections)."""
    options = all_options(element)
    known = {option.get("value") for option in options}
    missing = [value for value in values if value not in known]
    if missing:
        raise UnknownObject(f"{where} has no option with value {missing[0]!r}")
    chosen: dict[Any, dict[str, Any]] = {}
    for option in options:
        if option.get("value") in values:
            chosen.setdefault(option.get("value"), copy.deepcopy(option))
    return list(chosen.values())


def input_action(element: dict[str, Any], block_id: str, entry: dict[str, Any], *,
                 action_ts: str) -> dict[str, Any]:
    """The ``actions[]`` entry for a change of a stateful element: the new value, plus the element's
    initial value and placeholder when it has them (as bolt's ``UsersSelectAction`` etc. describe)."""
    kind = KINDS[element["type"]]
    action: dict[str, Any] = {"action_id": element["action_id"], "block_id": block_id,
                              kind.field: copy.deepcopy(entry[kind.field])}
    for key in (kind.initial, "placeholder"):
        if element.get(key) is not None:
            action[key] = copy.deepcopy(element[key])
    action.update(type=element["type"], action_ts=action_ts)
    return action
