"""Meetings, their action items and the Slack messages that show them (``meetings``, ``meeting_items``,
``meeting_messages``).

A meeting row is created once per (workspace, transcript content): a second upload of the same bytes
finds the first row and points to its summary instead of summarising again.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import psycopg

from core.meetings.records import ActionItem, Decision, MeetingNotes
from core.meetings.stored import ItemEdit, ItemRecord, MeetingRecord, MessageRef

_MEETING_COLUMNS = (
    "id, team_id, request_id, channel_id, thread_ts, uploader_id, file_id, file_name, status, meeting_date, tz, "
    "transcript_format, turns, words, speakers, notes, mode, degraded_reason, chunks, llm_calls, input_tokens, "
    "output_tokens, cost_usd, card_channel, card_ts, plan_id, all_done_at, created_at, updated_at, "
    # Through the request's calls (llm_calls is indexed by request, not by meeting).
    "NOT EXISTS (SELECT 1 FROM llm_calls c WHERE c.request_id = meetings.request_id AND c.meeting_id = meetings.id "
    "AND NOT c.cost_known) AS cost_known"
)
_ITEM_COLUMNS = (
    "i.meeting_id, i.idx, i.task, i.owner_name, i.owner_id, i.due_date, i.due_text, i.evidence_quote, "
    "i.evidence_turn, i.evidence_at, i.selected, i.task_id, t.status AS task_status"
)


def claim_meeting(
    conn: psycopg.Connection[Any],
    *,
    team_id: str,
    request_id: int,
    channel_id: str,
    thread_ts: str | None,
    uploader_id: str,
    content_sha256: str,
    meeting_date: date,
    tz: str,
    file_id: str | None = None,
    file_name: str | None = None,
) -> tuple[MeetingRecord, bool]:
    """The meeting for this transcript: (row, True) if it is this request's, else (the earlier one, False).

    A rerun of the same request (a retried job) finds its own row and gets ``True`` again; see
    :func:`take_over` for whether it may work on it.
    """
    row = conn.execute(
        """
        INSERT INTO meetings (team_id, request_id, channel_id, thread_ts, uploader_id, content_sha256,
                              meeting_date, tz, file_id, file_name)
        VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
        ON CONFLICT (team_id, content_sha256) DO NOTHING
        RETURNING id
        """,
        (team_id, request_id, channel_id, thread_ts, uploader_id, content_sha256, meeting_date, tz, file_id,
         file_name),
    ).fetchone()
    if row is None:
        row = conn.execute(
            "SELECT id FROM meetings WHERE team_id = %s AND content_sha256 = %s", (team_id, content_sha256)
        ).fetchone()
    assert row is not None
    meeting = load_meeting(conn, int(row["id"]))
    assert meeting is not None
    return meeting, meeting.request_id == request_id


def take_over(conn: psycopg.Connection[Any], meeting_id: int, *, now: datetime, stale_before: datetime) -> bool:
    """Whether this run may summarise the meeting: it was just created (``updated_at`` is its creation), or
    the run summarising it went quiet before ``stale_before`` (then this run takes it over from ``now``)."""
    row = conn.execute(
        "UPDATE meetings SET updated_at = %s WHERE id = %s AND status = 'summarizing' "
        "AND (updated_at = created_at OR updated_at < %s) RETURNING id",
        (now, meeting_id, stale_before),
    ).fetchone()
    return row is not None


def forget_meeting(conn: psycopg.Connection[Any], meeting_id: int) -> None:
    """Delete a meeting whose transcript could not be read, so a fixed re-upload of the same file may try again."""
    conn.execute("DELETE FROM meetings WHERE id = %s", (meeting_id,))


def load_meeting(conn: psycopg.Connection[Any], meeting_id: int) -> MeetingRecord | None:
    row = conn.execute(f"SELECT {_MEETING_COLUMNS} FROM meetings WHERE id = %s", (meeting_id,)).fetchone()
    return None if row is None else MeetingRecord(**row)


def meeting_for_plan(conn: psycopg.Connection[Any], plan_id: int) -> MeetingRecord | None:
    row = conn.execute(f"SELECT {_MEETING_COLUMNS} FROM meetings WHERE plan_id = %s", (plan_id,)).fetchone()
    return None if row is None else MeetingRecord(**row)


def save_notes(
    conn: psycopg.Connection[Any],
    meeting_id: int,
    notes: MeetingNotes,
    *,
    owners: list[str | None],
    transcript_format: str,
    turns: int,
    words: int,
    speakers: tuple[str, ...],
    degraded_reason: str | None,
    chunks: int,
    llm_calls: int,
    input_tokens: int,
    output_tokens: int,
    cost_usd: Decimal,
) -> None:
    """Store the notes and their action items (``owners[i]`` is item i's Slack user, if mapped)."""
    body = {
        "summary": list(notes.summary),
        "decisions": [_decision_json(d) for d in notes.decisions],
        "open_questions": list(notes.open_questions),
    }
    with conn.transaction():
        conn.execute(
            """
            UPDATE meetings SET status = 'summarized', notes = %s, mode = %s, degraded_reason = %s, chunks = %s,
                   llm_calls = %s, input_tokens = %s, output_tokens = %s, cost_usd = %s, transcript_format = %s,
                   turns = %s, words = %s, speakers = %s, updated_at = now()
             WHERE id = %s
            """,
            (json.dumps(body), notes.mode, degraded_reason, chunks, llm_calls, input_tokens, output_tokens, cost_usd,
             transcript_format, turns, words, list(speakers), meeting_id),
        )
        conn.execute("DELETE FROM meeting_items WHERE meeting_id = %s AND task_id IS NULL", (meeting_id,))
        for idx, (item, owner_id) in enumerate(zip(notes.action_items, owners, strict=True)):
            _insert_item(conn, meeting_id, idx, item, owner_id)


def _insert_item(conn: psycopg.Connection[Any], meeting_id: int, idx: int, item: ActionItem,
                 owner_id: str | None) -> None:
    evidence = item.evidence
    conn.execute(
        """
        INSERT INTO meeting_items (meeting_id, idx, task, owner_name, owner_id, due_date, due_text, evidence_quote,
                                   evidence_turn, evidence_at)
        VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
        ON CONFLICT (meeting_id, idx) DO NOTHING
        """,
        (meeting_id, idx, item.task, item.owner_name, owner_id, item.due, item.due_text,
         evidence.quote if evidence else None, evidence.turn if evidence else None, evidence.at if evidence else None),
    )


def _decision_json(decision: Decision) -> dict[str, Any]:
    evidence = decision.evidence
    return {
        "text": decision.text,
        "quote": evidence.quote if evidence else None,
        "turn": evidence.turn if evidence else None,
        "at": evidence.at if evidence else None,
    }


def items(conn: psycopg.Connection[Any], meeting_id: int) -> list[ItemRecord]:
    rows = conn.execute(
        f"SELECT {_ITEM_COLUMNS} FROM meeting_items i LEFT JOIN tasks t ON t.id = i.task_id "
        "WHERE i.meeting_id = %s ORDER BY i.idx",
        (meeting_id,),
    ).fetchall()
    return [ItemRecord(**row) for row in rows]


def apply_edits(conn: psycopg.Connection[Any], meeting_id: int, edits: list[ItemEdit]) -> None:
    """Record owners, due dates and selection as set on the card (only before follow-ups exist)."""
    for edit in edits:
        conn.execute(
            "UPDATE meeting_items SET owner_id = %s, due_date = %s, selected = %s "
            "WHERE meeting_id = %s AND idx = %s AND task_id IS NULL",
            (edit.owner_id, edit.due_date, edit.selected, meeting_id, edit.idx),
        )


def link_task(conn: psycopg.Connection[Any], meeting_id: int, idx: int, task_id: int | None) -> None:
    conn.execute("UPDATE meeting_items SET task_id = %s WHERE meeting_id = %s AND idx = %s", (task_id, meeting_id, idx))


def move_due(conn: psycopg.Connection[Any], meeting_id: int, idx: int, due: date) -> None:
    """A snooze: the item (and its task) is due later."""
    conn.execute("UPDATE meeting_items SET due_date = %s WHERE meeting_id = %s AND idx = %s", (due, meeting_id, idx))
    conn.execute(
        "UPDATE tasks SET due_date = %s WHERE id = (SELECT task_id FROM meeting_items WHERE meeting_id = %s "
        "AND idx = %s)",
        (due, meeting_id, idx),
    )


def set_card(conn: psycopg.Connection[Any], meeting_id: int, *, channel: str, ts: str, plan_id: int | None) -> None:
    conn.execute(
        "UPDATE meetings SET card_channel = %s, card_ts = %s, plan_id = coalesce(%s, plan_id), updated_at = now() "
        "WHERE id = %s",
        (channel, ts, plan_id, meeting_id),
    )
    record_message(conn, meeting_id, channel=channel, ts=ts, kind="card")


def set_plan(conn: psycopg.Connection[Any], meeting_id: int, plan_id: int) -> None:
    conn.execute("UPDATE meetings SET plan_id = %s, updated_at = now() WHERE id = %s", (plan_id, meeting_id))


def mark_all_done(conn: psycopg.Connection[Any], meeting_id: int, *, now: datetime) -> bool:
    """True for the one caller that notices first that every follow-up is done."""
    row = conn.execute(
        "UPDATE meetings SET all_done_at = %s WHERE id = %s AND all_done_at IS NULL RETURNING id", (now, meeting_id)
    ).fetchone()
    return row is not None


def record_message(conn: psycopg.Connection[Any], meeting_id: int, *, channel: str, ts: str, kind: str,
                   owner_id: str = "", due_on: date | None = None) -> None:
    conn.execute(
        "INSERT INTO meeting_messages (meeting_id, channel_id, ts, kind, owner_id, due_on) "
        "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (channel_id, ts) DO NOTHING",
        (meeting_id, channel, ts, kind, owner_id, due_on),
    )


def messages(conn: psycopg.Connection[Any], meeting_id: int) -> list[MessageRef]:
    rows = conn.execute(
        "SELECT channel_id, ts, kind, owner_id, due_on FROM meeting_messages WHERE meeting_id = %s ORDER BY ts",
        (meeting_id,),
    ).fetchall()
    return [MessageRef(**row) for row in rows]
