"""Cards and messages say which model failed and why, never "no language model" when one is configured."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from core.meetings.stored import MeetingRecord
from slackui import replies
from slackui.meeting_views import DEGRADED_LABEL, WITHOUT_MODEL_LABEL, meeting_card

FAILING = "the language model (gemma-3-270m) is not responding: the model API did not answer within 30s"


def meeting(*, degraded_reason: str | None) -> MeetingRecord:
    now = datetime(2026, 12, 5, tzinfo=UTC)
    return MeetingRecord(
        id=1,
        team_id="T1",
        request_id=1,
        channel_id="C1",
        thread_ts=None,
        uploader_id="U1",
        file_id=None,
        file_name="launch.vtt",
        status="summarized",
        meeting_date=date(2026, 12, 5),
        tz="UTC",
        transcript_format="vtt",
        turns=4,
        words=40,
        speakers=["Alice"],
        notes={"summary": ["s"], "decisions": [], "open_questions": [], "action_items": []},
        mode="extractive",
        degraded_reason=degraded_reason,
        chunks=1,
        llm_calls=1,
        input_tokens=0,
        output_tokens=0,
        cost_usd=Decimal(0),
        card_channel=None,
        card_ts=None,
        plan_id=None,
        all_done_at=None,
        created_at=now,
        updated_at=now,
    )


@pytest.mark.parametrize(
    ("reason", "label"),
    [(FAILING, WITHOUT_MODEL_LABEL), (replies.NO_MODEL_CONFIGURED, DEGRADED_LABEL), (None, DEGRADED_LABEL)],
)
def test_meeting_notes_made_without_the_model_say_why(reason, label):
    text = json.dumps(meeting_card(meeting(degraded_reason=reason), [], None, now=datetime.now(UTC)))
    assert f"*{label}*" in text
    if reason == FAILING:
        assert FAILING in text and "no language model" not in text


def test_the_still_working_message_names_the_model_and_the_deadline():
    text = replies.planning_slow(model="gemma-3-270m", deadline_seconds=20)
    assert text.startswith(replies.PLANNING_SLOW_START)
    assert "(gemma-3-270m)" in text and "within 20s" in text and "simple rules" in text
