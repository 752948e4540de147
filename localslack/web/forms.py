"""A modal's form as the browser sends it -> ``view.state.values`` as Slack sends them in ``view_submission``.

The page sends ``{"block_id/action_id": value}``: text for text inputs, selects and pickers, a list of
option values for check boxes. Each input block's element says how its value is shaped; an element the
form left empty gets Slack's empty value (``null``, or ``[]`` for the multi-value kinds). Pure.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from localslack.inputs import KINDS
from localslack.validation import all_options


def _entry(element: dict[str, Any], raw: object) -> dict[str, Any]:
    kind = str(element.get("type", ""))
    if kind == "plain_text_input":
        return {"type": kind, "value": raw if isinstance(raw, str) and raw else None}
    spec = KINDS.get(kind)
    if spec is None:
        return {"type": kind}
    options = {str(o.get("value")): o for o in all_options(element)} if "option" in spec.field else {}
    if spec.many:
        chosen = raw if isinstance(raw, list) else ([raw] if isinstance(raw, str) and raw else [])
        picked: Any = (
            [copy.deepcopy(options[v]) for v in chosen if v in options]
            if options
            else [v for v in chosen if isinstance(v, str)]
        )
    elif options:
        picked = copy.deepcopy(options.get(str(raw))) if raw else None
    else:
        picked = raw if isinstance(raw, str) and raw else None
    return {"type": kind, spec.field: picked}


def submitted_values(view: dict[str, Any], form: Mapping[str, object]) -> dict[str, dict[str, dict[str, Any]]]:
    """``{block_id: {action_id: entry}}`` for every input block of ``view``, from the posted ``form``."""
    values: dict[str, dict[str, dict[str, Any]]] = {}
    for block in view.get("blocks") or []:
        element = block.get("element") if isinstance(block, dict) and block.get("type") == "input" else None
        if not isinstance(element, dict):
            continue
        block_id, action_id = str(block.get("block_id", "")), str(element.get("action_id", ""))
        values.setdefault(block_id, {})[action_id] = _entry(element, form.get(f"{block_id}/{action_id}"))
    return values
