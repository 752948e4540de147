"""The local workspace's AI-app surfaces, driven by the real slack_sdk client: assistant threads, streaming, and
the ``plan`` / ``task_card`` blocks, each refused as Slack documents when its payload is wrong."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import PlanBlock, TaskCardBlock

from core.plan_records import PlanRecord, StepRecord
from localslack import LocalSlack
from localslack.validation import blocks_problems
from slackui import plan_card
from slackui.plan_progress import plan_block

if TYPE_CHECKING:
    from tests.fakes.slack_api import EventReceiver

pytest_plugins = ["tests.fakes.slack_api"]


def api_error(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as caught:
        call()
    return caught.value


def task(**changes: Any) -> dict[str, Any]:
    return {"type": "task_card", "task_id": "t1", "title": "Post the notes", "status": "pending", **changes}


def step(idx: int, status: str, *, selected: bool = True, error: str | None = None) -> StepRecord:
    return StepRecord(
        plan_id=7,
        idx=idx,
        action="slack.post_message",
        args={},
        description=f"Step {idx + 1}",
        depends_on=[],
        preview="Post 'Release 1.2 is out' to #ops",
        risk="high",
        read_only=False,
        compensable=False,
        selected=selected,
        status=status,
        attempts=0,
        lease_until=None,
        result=None,
        error=error,
    )


def plan(status: str, steps: list[StepRecord]) -> PlanRecord:
    now = datetime(2026, 1, 5, tzinfo=UTC)
    return PlanRecord(
        id=7,
        request_id=1,
        team_id="T0LOCAL",
        channel_id="C0GENERAL",
        channel_type="channel",
        thread_ts="1.0",
        requester_id="U0ALICE",
        title="Announce the release",
        rationale="Asked.",
        planner="rules",
        risk="high",
        status=status,
        card_channel=None,
        card_ts=None,
        expires_at=now,
        decided_by="U0BOB",
        decided_at=now,
        decision_reason=None,
        auto_approved=False,
        tokens_in=0,
        tokens_out=0,
        cost_usd=Decimal(0),
        created_at=now,
        steps=tuple(steps),
    )


# -- the plan block ------------------------------------------------------------------------------------------
def test_a_running_plan_is_a_plan_block_whose_tasks_follow_the_steps(slack_client: WebClient) -> None:
    running = plan(
        "running",
        [
            step(0, "succeeded"),
            step(1, "running"),
            step(2, "pending"),
            step(3, "failed", error="channel_not_found"),
            step(4, "pending", selected=False),
        ],
    )
    block = plan_block(running)
    assert block["title"] == "Running: Announce the release"
    assert [t["status"] for t in block["tasks"]] == ["complete", "in_progress", "pending", "error", "pending"]
    assert "left out at review" in str(block["tasks"][4]["details"])
    assert "channel_not_found" in str(block["tasks"][3]["output"])
    # slack_sdk's own models accept it, and so does the local workspace (as Slack would, per its documentation).
    PlanBlock(**{k: v for k, v in block.items() if k != "type"}).validate_json()
    for card in block["tasks"]:
        TaskCardBlock(**{k: v for k, v in card.items() if k != "type"}).validate_json()
    blocks = plan_card.plan_card(running, plan_blocks=True)
    assert blocks_problems(blocks) == []
    slack_client.chat_postMessage(channel="C0OPS", text="card", blocks=blocks)


def test_the_plan_block_needs_the_setting_and_an_approved_plan() -> None:
    steps = [step(0, "pending")]
    for status, shown in (("pending", False), ("rejected", False), ("expired", False), ("running", True)):
        kinds = [b["type"] for b in plan_card.plan_card(plan(status, steps), plan_blocks=True)]
        assert ("plan" in kinds) is shown, status
    assert "plan" not in [b["type"] for b in plan_card.plan_card(plan("running", steps))]  # setting off


@pytest.mark.parametrize(
    ("block", "problem"),
    [
        ({"type": "plan", "tasks": [task()]}, "must be a non-empty string [json-pointer:/blocks/0/title]"),
        (
            {"type": "plan", "title": "p", "tasks": [task(status="done")]},
            "must be one of: complete, error, in_progress, pending [json-pointer:/blocks/0/tasks/0/status]",
        ),
        (
            {"type": "plan", "title": "p", "tasks": [task(), task()]},
            "duplicate task_id: t1 [json-pointer:/blocks/0/tasks/1/task_id]",
        ),
        (
            {"type": "plan", "title": "p", "tasks": [task(title="")]},
            "must be a non-empty string [json-pointer:/blocks/0/tasks/0/title]",
        ),
        (
            {"type": "plan", "title": "p", "tasks": [task(details="plain words")]},
            "must be a rich_text object [json-pointer:/blocks/0/tasks/0/details]",
        ),
        (
            {"type": "plan", "title": "p", "tasks": [{**task(), "type": "section"}]},
            "must be one of: task_card [json-pointer:/blocks/0/tasks/0/type]",
        ),
        ({"type": "plan", "title": "p", "tasks": "t1"}, "must be an array [json-pointer:/blocks/0/tasks]"),
        (
            {"type": "task_card", "title": "t", "status": "pending"},
            "must be a non-empty string [json-pointer:/blocks/0/task_id]",
        ),
    ],
)
def test_an_invalid_plan_block_is_refused_like_any_invalid_block(
    local_slack: LocalSlack, slack_client: WebClient, block: dict[str, Any], problem: str
) -> None:
    failure = api_error(lambda: slack_client.chat_postMessage(channel="C0OPS", text="x", blocks=[block]))
    assert failure.response["error"] == "invalid_blocks"
    assert problem in failure.response["errors"]
    assert local_slack.messages("C0OPS") == []


# -- assistant threads ---------------------------------------------------------------------------------------
def test_assistant_thread_methods_keep_what_was_set(
    local_slack: LocalSlack, slack_client: WebClient, event_receiver: EventReceiver
) -> None:
    dm, ts = _thread(local_slack)
    slack_client.assistant_threads_setStatus(
        channel_id=dm, thread_ts=ts, status="is planning…", loading_messages=["Reading…"]
    )
    slack_client.assistant_threads_setSuggestedPrompts(
        channel_id=dm, thread_ts=ts, title="Try", prompts=[{"title": "A", "message": "a"}]
    )
    slack_client.assistant_threads_setTitle(channel_id=dm, thread_ts=ts, title="Release")
    slack_client.assistant_threads_setStatus(channel_id=dm, thread_ts=ts, status="")
    thread = local_slack.assistant_thread(dm, ts)
    assert thread["statuses"] == ["is planning…", ""] and thread["title"] == "Release"
    assert thread["prompts"] == [{"title": "A", "message": "a"}] and thread["prompts_title"] == "Try"


@pytest.mark.parametrize(
    ("method", "args", "error"),
    [
        (
            "assistant.threads.setStatus",
            {"channel_id": "C0OPS", "thread_ts": "{ts}", "status": "x"},
            "channel_not_found",
        ),
        ("assistant.threads.setStatus", {"channel_id": "{dm}", "thread_ts": "9.9", "status": "x"}, "invalid_thread_ts"),
        ("assistant.threads.setStatus", {"channel_id": "{dm}", "thread_ts": "{ts}"}, "invalid_arguments"),
        (
            "assistant.threads.setStatus",
            {"channel_id": "{dm}", "thread_ts": "{ts}", "status": "x", "loading_messages": ["m"] * 11},
            "invalid_arguments",
        ),
        (
            "assistant.threads.setSuggestedPrompts",
            {"channel_id": "{dm}", "thread_ts": "{ts}", "prompts": [{"title": "t", "message": "m"}] * 5},
            "invalid_arguments",
        ),
        (
            "assistant.threads.setSuggestedPrompts",
            {"channel_id": "{dm}", "thread_ts": "{ts}", "prompts": [{"title": "t"}]},
            "invalid_arguments",
        ),
        (
            "assistant.threads.setSuggestedPrompts",
            {"channel_id": "{dm}", "thread_ts": "{ts}", "prompts": []},
            "invalid_arguments",
        ),
    ],
)
def test_assistant_thread_methods_refuse_bad_calls(
    local_slack: LocalSlack,
    slack_client: WebClient,
    event_receiver: EventReceiver,
    method: str,
    args: dict[str, Any],
    error: str,
) -> None:
    dm, ts = _thread(local_slack)
    filled = {k: (v.format(dm=dm, ts=ts) if isinstance(v, str) else v) for k, v in args.items()}
    assert api_error(lambda: slack_client.api_call(method, json=filled)).response["error"] == error


def _thread(local_slack: LocalSlack) -> tuple[str, str]:
    dm, ts, delivered = local_slack.open_assistant_thread("U0ALICE", looking_at="C0OPS")
    assert delivered is not None and delivered.status == 200
    return dm, ts


def test_opening_a_thread_and_looking_elsewhere_deliver_slacks_events(
    local_slack: LocalSlack, event_receiver: EventReceiver
) -> None:
    dm, ts = _thread(local_slack)
    local_slack.change_assistant_context("U0ALICE", ts, looking_at="C0GENERAL")
    started, changed = (body["event"] for body in event_receiver.events())
    assert started["type"] == "assistant_thread_started"
    assert started["assistant_thread"] == {
        "user_id": "U0ALICE",
        "channel_id": dm,
        "thread_ts": ts,
        "context": {"channel_id": "C0OPS", "team_id": "T0LOCAL", "enterprise_id": ""},
    }
    assert changed["type"] == "assistant_thread_context_changed"
    assert changed["assistant_thread"]["context"]["channel_id"] == "C0GENERAL"
    root = local_slack.messages(dm)[0]
    assert root["ts"] == ts and root["subtype"] == "assistant_app_thread"


# -- streaming -----------------------------------------------------------------------------------------------
def test_a_stream_grows_one_message_and_ends_it(local_slack: LocalSlack, slack_client: WebClient) -> None:
    root = slack_client.chat_postMessage(channel="D0ALICE", text="question")["ts"]
    stream = slack_client.chat_stream(channel="D0ALICE", thread_ts=root, buffer_size=5)
    stream.append(markdown_text="Hello, ")
    stream.append(markdown_text="world")
    stream.stop(markdown_text="!", blocks=[{"type": "context", "elements": [{"type": "mrkdwn", "text": "src"}]}])
    replies = [m for m in local_slack.messages("D0ALICE") if m.get("thread_ts") == root and m["ts"] != root]
    assert len(replies) == 1 and replies[0]["text"] == "Hello, world!"
    assert [c.method for c in local_slack.calls if c.method.startswith("chat.")][-3:] == [
        "chat.startStream",
        "chat.appendStream",
        "chat.stopStream",
    ]
    error = api_error(lambda: slack_client.chat_appendStream(channel="D0ALICE", ts=replies[0]["ts"], markdown_text="x"))
    assert error.response["error"] == "message_not_in_streaming_state"


@pytest.mark.parametrize(
    ("call", "error"),
    [
        ({"method": "chat.startStream", "json": {"channel": "C0OPS", "thread_ts": "{root}"}}, "invalid_arguments"),
        (
            {
                "method": "chat.startStream",
                "json": {"channel": "D0ALICE", "thread_ts": "{root}", "markdown_text": "x" * 12_001},
            },
            "msg_too_long",
        ),
        (
            {
                "method": "chat.startStream",
                "json": {
                    "channel": "D0ALICE",
                    "thread_ts": "{root}",
                    "chunks": [{"type": "task_update", "id": "1", "title": "t", "status": "done"}],
                },
            },
            "invalid_chunks",
        ),
        (
            {
                "method": "chat.startStream",
                "json": {"channel": "D0ALICE", "thread_ts": "{root}", "chunks": [{"type": "confetti"}]},
            },
            "invalid_chunks",
        ),
        (
            {"method": "chat.stopStream", "json": {"channel": "D0ALICE", "ts": "{root}"}},
            "message_not_in_streaming_state",
        ),
    ],
)
def test_streaming_calls_are_checked(
    local_slack: LocalSlack, slack_client: WebClient, call: dict[str, Any], error: str
) -> None:
    root = slack_client.chat_postMessage(channel="D0ALICE", text="question")["ts"]
    body = {k: (v.format(root=root) if isinstance(v, str) else v) for k, v in call["json"].items()}
    assert api_error(lambda: slack_client.api_call(call["method"], json=body)).response["error"] == error
