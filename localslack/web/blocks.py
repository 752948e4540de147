"""Block Kit as HTML for the browser workspace: what a person sees of the blocks Baton sent. Pure.

Messages, modals and App Home share one renderer. In a message or App Home, interactive elements carry
``data-*`` attributes the page's script turns into clicks (``block_actions``); in a modal, input blocks
become form fields named ``block_id/action_id`` that the page submits (``view_submission``).
A person's current picks in a message's inputs (``state.values``) decide what is shown selected.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from localslack.inputs import KINDS
from localslack.validation import all_options
from localslack.web.mrkdwn import plain_to_html, to_html

Values = Mapping[str, Mapping[str, Mapping[str, Any]]]


@dataclass(frozen=True)
class BlockRenderer:
    """Renders blocks for one viewer: names to resolve mentions with, and their input state."""

    users: Mapping[str, str]
    channels: Mapping[str, str]
    values: Values = field(default_factory=dict)
    #: Who a users_select offers (people, not bots) and what a channel select offers (channels, not DMs).
    people: Mapping[str, str] = field(default_factory=dict)
    rooms: Mapping[str, str] = field(default_factory=dict)
    #: ``(channel, thread_ts) -> page address`` for permalinks into this workspace (see ``mrkdwn.to_html``).
    local_link: Callable[[str, str], str] | None = None

    def blocks(self, blocks: object) -> Markup:
        """All of ``blocks`` (a list of block objects) as HTML."""
        if not isinstance(blocks, list):
            return Markup()
        return Markup("").join(self.block(b) for b in blocks if isinstance(b, dict))

    def text(self, obj: object) -> Markup:
        """A text object (``mrkdwn`` or ``plain_text``) as HTML."""
        if not isinstance(obj, dict):
            return Markup()
        raw = str(obj.get("text", ""))
        if obj.get("type") == "mrkdwn":
            return to_html(raw, users=self.users, channels=self.channels, local_link=self.local_link)
        return plain_to_html(raw, emoji_codes=bool(obj.get("emoji", True)))

    def block(self, block: dict[str, Any]) -> Markup:
        """One block; a type this renderer does not know is shown as such, not dropped silently."""
        kind = block.get("type")
        block_id = str(block.get("block_id", ""))
        inner: Markup
        if kind == "section":
            inner = self._section(block, block_id)
        elif kind == "header":
            inner = Markup("<h3>{}</h3>").format(self.text(block.get("text")))
        elif kind == "divider":
            inner = Markup("<hr>")
        elif kind == "context":
            parts = [self._context_part(e) for e in block.get("elements") or [] if isinstance(e, dict)]
            inner = Markup('<div class="context">{}</div>').format(Markup(" ").join(parts))
        elif kind == "actions":
            parts = [self.element(e, block_id) for e in block.get("elements") or [] if isinstance(e, dict)]
            inner = Markup('<div class="actions">{}</div>').format(Markup("").join(parts))
        elif kind == "image":
            inner = self._image(block)
        elif kind == "input":
            inner = self._input(block, block_id)
        elif kind == "rich_text":
            inner = self._rich_text(block)
        else:
            inner = Markup('<div class="unknown">(a {} block)</div>').format(kind)
        return Markup('<div class="block block-{}" data-block-id="{}">{}</div>').format(kind, block_id, inner)

    # -- blocks ------------------------------------------------------------------------------------

    def _section(self, block: dict[str, Any], block_id: str) -> Markup:
        parts = [Markup('<div class="text">{}</div>').format(self.text(block.get("text")))]
        fields = [Markup('<div class="field">{}</div>').format(self.text(f)) for f in block.get("fields") or []]
        if fields:
            parts.append(Markup('<div class="fields">{}</div>').format(Markup("").join(fields)))
        accessory = block.get("accessory")
        body = Markup('<div class="section-body">{}</div>').format(Markup("").join(parts))
        if isinstance(accessory, dict):
            return body + Markup('<div class="accessory">{}</div>').format(self.element(accessory, block_id))
        return body

    def _context_part(self, element: dict[str, Any]) -> Markup:
        if element.get("type") == "image":
            return Markup('<img class="context-image" src="{}" alt="{}">').format(
                element.get("image_url", ""), element.get("alt_text", "")
            )
        return Markup("<span>{}</span>").format(self.text(element))

    def _image(self, block: dict[str, Any]) -> Markup:
        title = self.text(block.get("title")) if block.get("title") else Markup()
        return Markup('<figure><img src="{}" alt="{}"><figcaption>{}</figcaption></figure>').format(
            block.get("image_url", ""), block.get("alt_text", ""), title
        )

    def _input(self, block: dict[str, Any], block_id: str) -> Markup:
        element = block.get("element") if isinstance(block.get("element"), dict) else {}
        assert isinstance(element, dict)
        hint = Markup('<div class="hint">{}</div>').format(self.text(block.get("hint"))) if block.get("hint") else ""
        optional = Markup(' <span class="optional">(optional)</span>') if block.get("optional") else ""
        return Markup(
            '<label class="input-label">{}{}</label>{}{}<div class="error" data-error-for="{}"></div>'
        ).format(self.text(block.get("label")), optional, self.element(element, block_id), hint, block_id)

    def _rich_text(self, block: dict[str, Any]) -> Markup:
        parts: list[Markup] = []
        for section in block.get("elements") or []:
            for item in section.get("elements") or [] if isinstance(section, dict) else []:
                parts.append(self._rich_item(item) if isinstance(item, dict) else Markup())
        return Markup('<div class="text">{}</div>').format(Markup("").join(parts))

    def _rich_item(self, item: dict[str, Any]) -> Markup:
        kind = item.get("type")
        if kind == "user":
            return Markup('<span class="mention">@{}</span>').format(self.users.get(item.get("user_id", ""), ""))
        if kind == "channel":
            return Markup('<span class="mention">#{}</span>').format(self.channels.get(item.get("channel_id", ""), ""))
        if kind == "link":
            return Markup('<a href="{}">{}</a>').format(item.get("url", ""), item.get("text") or item.get("url", ""))
        if kind == "emoji":
            return plain_to_html(f":{item.get('name', '')}:")
        text = Markup("{}").format(item.get("text", "")).replace("\n", Markup("<br>"))
        style = item.get("style") or {}
        return Markup("<b>{}</b>").format(text) if style.get("bold") else text

    # -- elements ----------------------------------------------------------------------------------

    def element(self, element: dict[str, Any], block_id: str) -> Markup:
        """One interactive element (button, selects, date picker, check boxes, overflow, text input, image)."""
        kind = str(element.get("type", ""))
        action_id = str(element.get("action_id", ""))
        attrs = Markup('data-action-id="{}" data-block-id="{}" data-type="{}" name="{}/{}"').format(
            action_id, block_id, kind, block_id, action_id
        )
        current = self.values.get(block_id, {}).get(action_id, {})
        if kind == "button":
            return self._button(element, attrs)
        if kind == "image":
            return Markup('<img class="accessory-image" src="{}" alt="{}">').format(
                element.get("image_url", ""), element.get("alt_text", "")
            )
        if kind in ("static_select", "radio_buttons", "overflow"):
            return self._select(element, attrs, current)
        if kind == "checkboxes":
            return self._checkboxes(element, attrs, current)
        if kind in ("users_select", "conversations_select", "channels_select"):
            return self._directory_select(element, attrs, current, kind)
        if kind == "datepicker":
            value = current.get("selected_date") if current else element.get("initial_date")
            return Markup('<input type="date" {} value="{}">').format(attrs, value or "")
        if kind == "timepicker":
            value = current.get("selected_time") if current else element.get("initial_time")
            return Markup('<input type="time" {} value="{}">').format(attrs, value or "")
        if kind == "plain_text_input":
            placeholder = str((element.get("placeholder") or {}).get("text", ""))
            if element.get("multiline"):
                return Markup('<textarea {} placeholder="{}">{}</textarea>').format(
                    attrs, placeholder, element.get("initial_value", "")
                )
            return Markup('<input type="text" {} placeholder="{}" value="{}">').format(
                attrs, placeholder, element.get("initial_value", "")
            )
        return Markup('<span class="unknown">(a {} element)</span>').format(kind)

    def _button(self, element: dict[str, Any], attrs: Markup) -> Markup:
        style = element.get("style", "")
        confirm = element.get("confirm")
        confirm_attr = Markup()
        if isinstance(confirm, dict):
            question = {key: _plain(confirm.get(key)) for key in ("title", "text", "confirm", "deny")}
            confirm_attr = Markup(" data-confirm='{}'").format(json.dumps(question))
        if element.get("url"):
            return Markup('<a class="button {}" href="{}" target="_blank" rel="noopener">{}</a>').format(
                style, element["url"], self.text(element.get("text"))
            )
        return Markup('<button type="button" class="button {}" {} data-value="{}"{}>{}</button>').format(
            style, attrs, element.get("value", ""), confirm_attr, self.text(element.get("text"))
        )

    def _select(self, element: dict[str, Any], attrs: Markup, current: Mapping[str, Any]) -> Markup:
        chosen = (current.get("selected_option") if current else element.get("initial_option")) or {}
        items = [
            Markup('<option value="">{}</option>').format(
                _plain(element.get("placeholder")) or ("…" if element.get("type") == "overflow" else "Select")
            )
        ]
        for option in all_options(element):
            selected = Markup(" selected") if option.get("value") == chosen.get("value") else Markup()
            items.append(
                Markup('<option value="{}"{}>{}</option>').format(
                    option.get("value", ""), selected, self.text(option.get("text"))
                )
            )
        return Markup("<select {}>{}</select>").format(attrs, Markup("").join(items))

    def _checkboxes(self, element: dict[str, Any], attrs: Markup, current: Mapping[str, Any]) -> Markup:
        chosen = current.get("selected_options") if current else element.get("initial_options")
        ticked = {o.get("value") for o in chosen or [] if isinstance(o, dict)}
        items = []
        for option in all_options(element):
            checked = Markup(" checked") if option.get("value") in ticked else Markup()
            description = (
                Markup('<div class="hint">{}</div>').format(self.text(option["description"]))
                if option.get("description")
                else Markup()
            )
            items.append(
                Markup('<label class="checkbox"><input type="checkbox" {} value="{}"{}> {}{}</label>').format(
                    attrs, option.get("value", ""), checked, self.text(option.get("text")), description
                )
            )
        return Markup('<div class="checkboxes">{}</div>').format(Markup("").join(items))

    def _directory_select(
        self, element: dict[str, Any], attrs: Markup, current: Mapping[str, Any], kind: str
    ) -> Markup:
        spec = KINDS[kind]
        names, sign = (self.people, "@") if kind == "users_select" else (self.rooms, "#")
        chosen = current.get(spec.field) if current else element.get(spec.initial)
        items = [Markup('<option value="">{}</option>').format(_plain(element.get("placeholder")) or "Select")]
        for ident, name in names.items():
            selected = Markup(" selected") if ident == chosen else Markup()
            items.append(Markup('<option value="{}"{}>{}{}</option>').format(ident, selected, sign, name))
        return Markup("<select {}>{}</select>").format(attrs, Markup("").join(items))


def _plain(obj: object) -> str:
    return str(obj.get("text", "")) if isinstance(obj, dict) else ""
