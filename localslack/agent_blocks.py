"""Validation of the blocks and streaming chunks Slack made for AI apps: ``plan``, ``task_card`` and the chunks of
``chat.startStream`` / ``appendStream`` / ``stopStream`` (``markdown_text``, ``task_update``, ``plan_update``,
``blocks``).

Shapes as Slack documents them (docs.slack.dev, "Plan block", "Task card block", "chat.startStream"): a plan has a
plain-text ``title`` and optional ``tasks``, each a ``task_card`` with ``task_id``, ``title`` and a ``status`` of
pending / in_progress / complete / error; ``details`` and ``output`` are one ``rich_text`` block. Slack documents no
number for a plan's tasks or a title's length; the local caps below are the local workspace's own, so a runaway
payload is still caught.
"""

from __future__ import annotations

from typing import Any

TASK_STATUSES = frozenset({"pending", "in_progress", "complete", "error"})
#: ``markdown_text`` of a streaming call (Slack: "Limit this field to 12,000 characters").
MARKDOWN_TEXT_LIMIT = 12_000
#: The local workspace's own caps (Slack documents none): tasks in one plan, characters of a title.
MAX_TASKS = 50
TITLE_LIMIT = 255
ID_LIMIT = 255
CHUNK_TYPES = frozenset({"markdown_text", "task_update", "plan_update", "blocks"})


def _at(pointer: str) -> str:
    return f"[json-pointer:{pointer}]"


def _text(value: object, pointer: str, *, limit: int) -> list[str]:
    if not isinstance(value, str) or not value:
        return [f"must be a non-empty string {_at(pointer)}"]
    if len(value) > limit:
        return [f"must be less than {limit + 1} characters {_at(pointer)}"]
    return []


def _rich_text(value: object, pointer: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, dict) or value.get("type") != "rich_text" or not isinstance(value.get("elements"), list):
        return [f"must be a rich_text object {_at(pointer)}"]
    return []


def task_card_problems(task: object, at: str) -> list[str]:
    """Problems of one ``task_card`` (a block, or one of a plan's ``tasks``)."""
    if not isinstance(task, dict):
        return [f"must be an object {_at(at)}"]
    problems: list[str] = []
    if task.get("type") != "task_card":
        problems.append(f"must be one of: task_card {_at(at + '/type')}")
    problems += _text(task.get("task_id"), at + "/task_id", limit=ID_LIMIT)
    problems += _text(task.get("title"), at + "/title", limit=TITLE_LIMIT)
    if task.get("status") not in TASK_STATUSES:
        problems.append(f"must be one of: {', '.join(sorted(TASK_STATUSES))} {_at(at + '/status')}")
    problems += _rich_text(task.get("details"), at + "/details")
    problems += _rich_text(task.get("output"), at + "/output")
    sources = task.get("sources")
    if sources is not None and not (isinstance(sources, list) and all(isinstance(s, dict) for s in sources)):
        problems.append(f"must be an array of objects {_at(at + '/sources')}")
    return problems


def plan_problems(block: dict[str, Any], at: str) -> list[str]:
    """Problems of a ``plan`` block: its title and each task (task ids unique within the plan)."""
    problems = _text(block.get("title"), at + "/title", limit=TITLE_LIMIT)
    tasks = block.get("tasks", [])
    if not isinstance(tasks, list):
        return [*problems, f"must be an array {_at(at + '/tasks')}"]
    if len(tasks) > MAX_TASKS:
        problems.append(f"no more than {MAX_TASKS} items allowed {_at(at + '/tasks')}")
    seen: set[str] = set()
    for i, task in enumerate(tasks):
        problems += task_card_problems(task, f"{at}/tasks/{i}")
        task_id = task.get("task_id") if isinstance(task, dict) else None
        if isinstance(task_id, str):
            if task_id in seen:
                problems.append(f"duplicate task_id: {task_id} {_at(f'{at}/tasks/{i}/task_id')}")
            seen.add(task_id)
    return problems


def chunks_problems(chunks: object, *, blocks_problems: Any) -> list[str]:
    """Problems of a streaming call's ``chunks`` (``blocks_problems`` checks a ``blocks`` chunk's blocks)."""
    if not isinstance(chunks, list):
        return [f"must be an array {_at('/chunks')}"]
    problems: list[str] = []
    for i, chunk in enumerate(chunks):
        at = f"/chunks/{i}"
        if not isinstance(chunk, dict) or chunk.get("type") not in CHUNK_TYPES:
            problems.append(f"must be one of: {', '.join(sorted(CHUNK_TYPES))} {_at(at + '/type')}")
            continue
        kind = chunk["type"]
        if kind == "markdown_text":
            problems += _text(chunk.get("text"), at + "/text", limit=MARKDOWN_TEXT_LIMIT)
        elif kind == "plan_update":
            problems += _text(chunk.get("title"), at + "/title", limit=TITLE_LIMIT)
        elif kind == "task_update":
            problems += _text(chunk.get("id"), at + "/id", limit=ID_LIMIT)
            problems += _text(chunk.get("title"), at + "/title", limit=TITLE_LIMIT)
            if chunk.get("status") not in TASK_STATUSES:
                problems.append(f"must be one of: {', '.join(sorted(TASK_STATUSES))} {_at(at + '/status')}")
        else:
            problems += blocks_problems(chunk.get("blocks"), pointer=at + "/blocks")
    return problems
