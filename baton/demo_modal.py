"""A modal's fields in the terminal: listed by name, filled from ``name=value`` words, submitted as Slack's
client would (``view.state.values``); and the value a person picks in an input on a message. Pure.

A field is named by its input block's ``block_id``. Values: text as typed (``reason=not this week``), a
person by name (``owner=bob``), a date ``YYYY-MM-DD``, options by their number in the list (``steps=1,3``,
or ``none``). A field not given keeps its initial value; a required field left empty is refused, as
Slack's client refuses to send the form.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from localslack.inputs import KINDS, initial_entry

_FIELD = re.compile(r"(?:^|\s)([A-Za-z0-9_.-]+)=")


class ModalError(ValueError):
    """The typed values do not fit the form; the message says what to type instead."""


def _inputs(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for b in view.get("blocks") or [] if b.get("type") == "input" and isinstance(b.get("element"), dict)]


def _options(element: dict[str, Any]) -> list[dict[str, Any]]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options += group.get("options") or []
    return options


def _label(option: dict[str, Any]) -> str:
    return str((option.get("text") or {}).get("text", option.get("value", "")))


def render_fields(view: dict[str, Any], *, users: Mapping[str, str]) -> list[str]:
    """The open form: its title, and each field with its name, kind and current value."""
    title = (view.get("title") or {}).get("text", "form")
    submit = (view.get("submit") or {}).get("text", "Submit")
    lines = [f"(form {title!r}: /modal <field>=<value> … sends it with [{submit}])"]
    for block in _inputs(view):
        element = block["element"]
        label = (block.get("label") or {}).get("text", "")
        need = "optional" if block.get("optional") else "required"
        kind = element.get("type", "")
        lines.append(f"  {block.get('block_id')}: {label} ({kind}, {need})")
        if kind in ("checkboxes", "static_select", "radio_buttons", "multi_static_select"):
            ticked = {o.get("value") for o in element.get("initial_options") or []}
            if element.get("initial_option"):
                ticked.add(element["initial_option"].get("value"))
            for number, option in enumerate(_options(element), 1):
                mark = "[x]" if option.get("value") in ticked else "[ ]"
                lines.append(f"      {number}. {mark} {_label(option)}")
        elif kind == "users_select" and element.get("initial_user"):
            lines.append(f"      now: {users.get(element['initial_user'], element['initial_user'])}")
        elif kind == "datepicker" and element.get("initial_date"):
            lines.append(f"      now: {element['initial_date']}")
    return lines


def modal_values(view: dict[str, Any], typed: str, *, users: Mapping[str, str]) -> dict[str, Any]:
    """``view.state.values`` for the form with the ``name=value`` words of ``typed`` filled in."""
    parts = _FIELD.split(typed.strip())
    if parts[0].strip():
        raise ModalError(f"write the form's fields as name=value (not {parts[0].strip()!r}); /modal lists them")
    given = {parts[i]: parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}
    blocks = {str(b.get("block_id")): b for b in _inputs(view)}
    unknown = sorted(set(given) - set(blocks))
    if unknown:
        raise ModalError(f"the form has no field {unknown[0]!r}; its fields: {', '.join(blocks) or 'none'}")
    values: dict[str, Any] = {}
    for block_id, block in blocks.items():
        element = block["element"]
        entry = _entry(element, given[block_id], users) if block_id in given else _initial(element)
        if not block.get("optional") and _empty(entry):
            raise ModalError(f"the field {block_id!r} is required")
        values[block_id] = {element.get("action_id", block_id): entry}
    return values


def _initial(element: dict[str, Any]) -> dict[str, Any]:
    kind = element.get("type", "")
    if kind in KINDS:
        return initial_entry(element)
    return {"type": kind, "value": element.get("initial_value")}


def _empty(entry: dict[str, Any]) -> bool:
    return all(value in (None, "", []) for key, value in entry.items() if key != "type")


def _entry(element: dict[str, Any], text: str, users: Mapping[str, str]) -> dict[str, Any]:
    kind = element.get("type", "")
    if kind not in KINDS:  # plain_text_input, number_input, email/url inputs: the text as typed
        return {"type": kind, "value": text or None}
    field = KINDS[kind].field
    if kind in ("users_select", "multi_users_select"):
        ids = [_user_id(name, users) for name in re.split(r"[,\s]+", text) if name]
        return {"type": kind, field: ids if KINDS[kind].many else (ids[0] if ids else None)}
    if kind in ("checkboxes", "multi_static_select", "static_select", "radio_buttons"):
        chosen = _pick_options(element, text)
        return {"type": kind, field: chosen if KINDS[kind].many else (chosen[0] if chosen else None)}
    if kind == "datepicker" and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise ModalError(f"a date is written YYYY-MM-DD, not {text!r}")
    return {"type": kind, field: text or None}


def _user_id(name: str, users: Mapping[str, str]) -> str:
    wanted = name.lstrip("@").lower()
    for user_id, user_name in users.items():
        if wanted in (user_name.lower(), user_id.lower()):
            return user_id
    raise ModalError(f"no member named {name!r}; people: {', '.join(users.values())}")


def _pick_options(element: dict[str, Any], text: str) -> list[dict[str, Any]]:
    options = _options(element)
    if text.strip().lower() in ("", "none"):
        return []
    chosen: list[dict[str, Any]] = []
    for word in re.split(r"[,\s]+", text.strip()):
        if not word.isdigit() or not 1 <= int(word) <= len(options):
            raise ModalError(f"pick options by their number, 1 to {len(options)} (or none), not {word!r}")
        option = options[int(word) - 1]
        if option not in chosen:
            chosen.append(option)
    return chosen


_ON = ("on", "yes", "x", "tick", "ticked")
_OFF = ("off", "no", "none", "untick", "unticked")


def pick_value(element: dict[str, Any], text: str, *, users: Mapping[str, str]) -> tuple[str | list[str], str]:
    """What picking ``text`` in a message's input ``element`` sends (for ``LocalSlack.click``), and how to say it.

    A person by name, a date ``YYYY-MM-DD``, ``on``/``off`` for tick boxes (or option numbers), an option's
    number for a select.
    """
    kind = element.get("type", "")
    text = text.strip()
    if not text:
        raise ModalError("say what to pick, e.g. /pick 3 bob, /pick 4 2026-01-31 or /pick 1 off")
    if kind in ("users_select", "multi_users_select"):
        ids = [_user_id(name, users) for name in re.split(r"[,\s]+", text) if name]
        shown = ", ".join("@" + users.get(i, i) for i in ids)
        return (ids if kind == "multi_users_select" else ids[0]), shown
    if kind == "datepicker":
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ModalError(f"a date is written YYYY-MM-DD, not {text!r}")
        return text, text
    if kind in ("checkboxes", "multi_static_select"):
        options = _options(element)
        if text.lower() in _ON:
            return [str(o.get("value")) for o in options], "ticked"
        if text.lower() in _OFF:
            return [], "unticked"
        chosen = _pick_options(element, text)
        return [str(o.get("value")) for o in chosen], ", ".join(_label(o) for o in chosen) + " ticked"
    if kind in ("static_select", "radio_buttons"):
        chosen = _pick_options(element, text.split()[0])
        if not chosen:
            raise ModalError(f"pick one of the {len(_options(element))} options by its number")
        return str(chosen[0].get("value")), _label(chosen[0])
    return text, text
