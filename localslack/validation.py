"""Block Kit and view checks, applied the way Slack applies them to ``chat.*`` and ``views.*``.

Each check returns problems in Slack's wording, ``"<what> [json-pointer:/blocks/0/text/text]"``; the
method handlers turn them into ``invalid_blocks`` (messages) or ``invalid_arguments`` (views) with
``response_metadata.messages`` entries prefixed ``[ERROR]``, as in the recorded Slack responses.
Limits are Slack's documented ones.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from localslack import agent_blocks

#: Slack truncates ``chat.postMessage`` text past this and rejects ``chat.update`` text past it.
TEXT_LIMIT = 40_000
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
SECTION_TEXT_LIMIT = 3000
SECTION_FIELDS_MAX = 10
SECTION_FIELD_LIMIT = 2000
HEADER_TEXT_LIMIT = 150
ACTIONS_ELEMENTS_MAX = 25
CONTEXT_ELEMENTS_MAX = 10
BUTTON_TEXT_LIMIT = 75
BUTTON_VALUE_LIMIT = 2000
URL_LIMIT = 3000
ID_LIMIT = 255
OPTION_TEXT_LIMIT = 75
OPTION_VALUE_LIMIT = 150
OPTIONS_MAX = 100
#: ``checkboxes`` and ``radio_buttons`` hold at most 10 options.
CHOICE_OPTIONS_MAX = 10
PLACEHOLDER_LIMIT = 150
VIEW_TITLE_LIMIT = 24
PRIVATE_METADATA_LIMIT = 3000

BLOCK_TYPES = frozenset({"section", "divider", "image", "actions", "context", "header", "input",
                         "rich_text", "file", "video", "markdown", "call", "table", "plan", "task_card"})
SELECT_TYPES = frozenset({"static_select", "multi_static_select", "external_select", "users_select",
                          "multi_users_select", "conversations_select", "multi_conversations_select",
                          "channels_select", "multi_channels_select"})
OTHER_ELEMENTS = frozenset({"overflow", "datepicker", "timepicker", "datetimepicker", "checkboxes",
                            "radio_buttons", "plain_text_input", "email_text_input", "url_text_input",
                            "number_input", "rich_text_input", "file_input", "image", "workflow_button"})


#: Elements whose options are a list the person chooses from, and the field naming the initial choice(s).
INITIAL_CHOICE = {"static_select": "initial_option", "radio_buttons": "initial_option",
                  "multi_static_select": "initial_options", "checkboxes": "initial_options"}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


def valid_date(text: object) -> bool:
    """True for a real calendar date written ``YYYY-MM-DD`` (a ``datepicker``'s value)."""
    if not isinstance(text, str) or not _DATE.fullmatch(text):
        return False
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def valid_time(text: object) -> bool:
    """True for a 24-hour time written ``HH:mm`` (a ``timepicker``'s value)."""
    return isinstance(text, str) and _TIME.fullmatch(text) is not None


def all_options(element: dict[str, Any]) -> list[dict[str, Any]]:
    """The options of an element, those inside ``option_groups`` included."""
    options = [o for o in element.get("options") or [] if isinstance(o, dict)]
    for group in element.get("option_groups") or []:
        if isinstance(group, dict):
            options += [o for o in group.get("options") or [] if isinstance(o, dict)]
    return options


def _at(pointer: str) -> str:
    return f"[json-pointer:{pointer}]"


def _too_long(value: object, limit: int, pointer: str) -> list[str]:
    if isinstance(value, str) and len(value) > limit:
        return [f"must be less than {limit + 1} characters {_at(pointer)}"]
    return []


def text_problems(obj: object, pointer: str, *, limit: int, plain_only: bool = False) -> list[str]:
    """Problems of a text object (``{"type": "plain_text"|"mrkdwn", "text": …}``) at ``pointer``."""
    allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
    if not isinstance(obj, dict):
        return [f"must be an object {_at(pointer)}"]
    problems: list[str] = []
    if obj.get("type") not in allowed:
        problems.append(f"must be one of: {', '.join(allowed)} {_at(pointer + '/type')}")
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        problems.append(f"must be more than 0 characters {_at(pointer + '/text')}")
    problems += _too_long(text, limit, pointer + "/text")
    if problems and not plain_only:
        # A field accepting either text type is a union schema; Slack reports the union first.
        problems.insert(0, f"failed to match all allowed schemas {_at(pointer)}")
    return problems


def element_problems(element: object, pointer: str) -> list[str]:
    """Problems of an interactive element (button, select, overflow, …) at ``pointer``."""
    if not isinstance(element, dict):
        return [f"must be an object {_at(pointer)}"]
    kind = element.get("type")
    problems = _too_long(element.get("action_id"), ID_LIMIT, pointer + "/action_id")
    if kind == "button":
        problems += text_problems(element.get("text"), pointer + "/text", limit=BUTTON_TEXT_LIMIT,
                                  plain_only=True)
        problems += _too_long(element.get("value"), BUTTON_VALUE_LIMIT, pointer + "/value")
        problems += _too_long(element.get("url"), URL_LIMIT, pointer + "/url")
        if element.get("style") not in (None, "primary", "danger"):
            problems.append(f"must be one of: primary, danger {_at(pointer + '/style')}")
    elif kind in SELECT_TYPES or kind in ("overflow", "checkboxes", "radio_buttons"):
        problems += _options_problems(element, pointer)
        problems += _initial_choice_problems(element, pointer)
    elif kind not in OTHER_ELEMENTS:
        problems.append(f"failed to match all allowed schemas {_at(pointer)}")
    if kind == "datepicker" and "initial_date" in element and not valid_date(element["initial_date"]):
        problems.append(f"must be a valid date in the format YYYY-MM-DD {_at(pointer + '/initial_date')}")
    if kind == "timepicker" and "initial_time" in element and not valid_time(element["initial_time"]):
        problems.append(f"must be a valid time in the format HH:mm {_at(pointer + '/initial_time')}")
    if kind == "users_select" and "initial_user" in element and not isinstance(element["initial_user"], str):
        problems.append(f"must be a string {_at(pointer + '/initial_user')}")
    if "placeholder" in element and (kind in SELECT_TYPES or kind in ("datepicker", "timepicker")):
        problems += text_problems(element["placeholder"], pointer + "/placeholder", limit=PLACEHOLDER_LIMIT,
                                  plain_only=True)
    return problems


def _options_problems(element: dict[str, Any], pointer: str) -> list[str]:
    """Problems of ``options``: count (10 for checkboxes and radio buttons), text and value of each."""
    kind = element.get("type")
    options = element.get("options")
    needs_options = kind in ("checkboxes", "radio_buttons", "overflow") or (
        kind in INITIAL_CHOICE and "option_groups" not in element)
    if options is None:
        return [f"must provide at least 1 item {_at(pointer + '/options')}"] if needs_options else []
    if not isinstance(options, list):
        return [f"must be an array {_at(pointer + '/options')}"]
    problems: list[str] = []
    maximum = CHOICE_OPTIONS_MAX if kind in ("checkboxes", "radio_buttons") else OPTIONS_MAX
    if len(options) > maximum:
        problems.append(f"no more than {maximum} items allowed {_at(pointer + '/options')}")
    elif not options and needs_options:
        problems.append(f"must provide at least 1 item {_at(pointer + '/options')}")
    for i, option in enumerate(options):
        at = f"{pointer}/options/{i}"
        if not isinstance(option, dict):
            problems.append(f"must be an object {_at(at)}")
            continue
        problems += text_problems(option.get("text"), at + "/text", limit=OPTION_TEXT_LIMIT)
        problems += _too_long(option.get("value"), OPTION_VALUE_LIMIT, at + "/value")
    return problems


def _initial_choice_problems(element: dict[str, Any], pointer: str) -> list[str]:
    """``initial_option``/``initial_options`` must each be one of the element's options (text and value)."""
    field = INITIAL_CHOICE.get(str(element.get("type")))
    if field is None or field not in element:
        return []
    initial = element[field]
    many = field == "initial_options"
    if many and not isinstance(initial, list):
        return [f"must be an array {_at(f'{pointer}/{field}')}"]
    chosen = initial if many else [initial]
    known = [(o.get("value"), o.get("text")) for o in all_options(element)]
    problems: list[str] = []
    for i, option in enumerate(chosen):
        at = f"{pointer}/{field}/{i}" if many else f"{pointer}/{field}"
        if not isinstance(option, dict) or (option.get("value"), option.get("text")) not in known:
            problems.append(f"must match one of the options {_at(at)}")
    return problems


def _section(block: dict[str, Any], at: str) -> list[str]:
    problems: list[str] = []
    if "text" not in block and "fields" not in block:
        problems.append(f"must provide either text or fields {_at(at)}")
    if "text" in block:
        problems += text_problems(block["text"], at + "/text", limit=SECTION_TEXT_LIMIT)
    fields = block.get("fields", [])
    if isinstance(fields, list):
        if len(fields) > SECTION_FIELDS_MAX:
            problems.append(f"no more than {SECTION_FIELDS_MAX} items allowed {_at(at + '/fields')}")
        for i, item in enumerate(fields):
            problems += text_problems(item, f"{at}/fields/{i}", limit=SECTION_FIELD_LIMIT)
    if "accessory" in block:
        problems += element_problems(block["accessory"], at + "/accessory")
    return problems


def _elements(block: dict[str, Any], at: str, maximum: int) -> list[str]:
    elements = block.get("elements")
    if not isinstance(elements, list) or not elements:
        return [f"must provide at least 1 item {_at(at + '/elements')}"]
    problems: list[str] = []
    if len(elements) > maximum:
        problems.append(f"no more than {maximum} items allowed {_at(at + '/elements')}")
    seen: set[str] = set()
    for i, element in enumerate(elements):
        here = f"{at}/elements/{i}"
        if block["type"] == "context":
            if isinstance(element, dict) and element.get("type") in ("plain_text", "mrkdwn"):
                problems += text_problems(element, here, limit=SECTION_TEXT_LIMIT)
            elif not (isinstance(element, dict) and element.get("type") == "image"):
                problems.append(f"failed to match all allowed schemas {_at(here)}")
            continue
        problems += element_problems(element, here)
        action_id = element.get("action_id") if isinstance(element, dict) else None
        if isinstance(action_id, str):
            if action_id in seen:
                problems.append(f"duplicate action_id: {action_id} {_at(here + '/action_id')}")
            seen.add(action_id)
    return problems


def block_problems(block: object, at: str) -> list[str]:
    """Problems of one block at ``at`` (e.g. ``/blocks/0``)."""
    if not isinstance(block, dict):
        return [f"must be an object {_at(at)}"]
    kind = block.get("type")
    if kind not in BLOCK_TYPES:
        return [f"failed to match all allowed schemas {_at(at)}",
                f"unsupported type: {kind} {_at(at + '/type')}"]
    problems = _too_long(block.get("block_id"), ID_LIMIT, at + "/block_id")
    if kind == "section":
        problems += _section(block, at)
    elif kind == "header":
        problems += text_problems(block.get("text"), at + "/text", limit=HEADER_TEXT_LIMIT, plain_only=True)
    elif kind == "actions":
        problems += _elements(block, at, ACTIONS_ELEMENTS_MAX)
    elif kind == "context":
        problems += _elements(block, at, CONTEXT_ELEMENTS_MAX)
    elif kind == "image":
        if not block.get("image_url") and not block.get("slack_file"):
            problems.append(f"missing required field: image_url {_at(at)}")
        if not block.get("alt_text"):
            problems.append(f"missing required field: alt_text {_at(at)}")
        problems += _too_long(block.get("image_url"), URL_LIMIT, at + "/image_url")
    elif kind == "plan":
        problems += agent_blocks.plan_problems(block, at)
    elif kind == "task_card":
        problems += agent_blocks.task_card_problems(block, at)
    elif kind == "input":
        problems += text_problems(block.get("label"), at + "/label", limit=2000, plain_only=True)
        if "element" not in block:
            problems.append(f"missing required field: element {_at(at)}")
        else:
            problems += element_problems(block["element"], at + "/element")
    return problems


def blocks_problems(blocks: object, *, pointer: str = "/blocks",
                    maximum: int = MAX_MESSAGE_BLOCKS) -> list[str]:
    """Problems of a whole ``blocks`` array; an empty list means Slack would accept it."""
    if not isinstance(blocks, list):
        return [f"must be an array {_at(pointer)}"]
    problems: list[str] = []
    if len(blocks) > maximum:
        problems.append(f"no more than {maximum} items allowed {_at(pointer)}")
    block_ids: set[str] = set()
    for i, block in enumerate(blocks):
        problems += block_problems(block, f"{pointer}/{i}")
        block_id = block.get("block_id") if isinstance(block, dict) else None
        if isinstance(block_id, str):
            if block_id in block_ids:
                problems.append(f"duplicate block_id: {block_id} {_at(f'{pointer}/{i}/block_id')}")
            block_ids.add(block_id)
    return problems


def view_problems(view: object, *, expected_type: str) -> list[str]:
    """Problems of a ``view``: ``modal`` for ``views.open``/``update``, ``home`` for ``views.publish``."""
    if not isinstance(view, dict):
        return ["missing required field: view"]
    problems: list[str] = []
    if view.get("type") != expected_type:
        problems.append(f"must be one of: {expected_type} {_at('/view/type')}")
    if expected_type == "modal":
        problems += text_problems(view.get("title"), "/view/title", limit=VIEW_TITLE_LIMIT, plain_only=True)
        for key in ("submit", "close"):
            if key in view:
                problems += text_problems(view[key], f"/view/{key}", limit=VIEW_TITLE_LIMIT, plain_only=True)
    problems += _too_long(view.get("callback_id"), ID_LIMIT, "/view/callback_id")
    problems += _too_long(view.get("private_metadata"), PRIVATE_METADATA_LIMIT, "/view/private_metadata")
    problems += blocks_problems(view.get("blocks"), pointer="/view/blocks", maximum=MAX_VIEW_BLOCKS)
    return problems
