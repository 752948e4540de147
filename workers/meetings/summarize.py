"""Summarise a meeting transcript request: fetch, parse, take notes, map owners, post the notes card.

Called by the ``plan_request`` job for requests that carry a file (an upload with a mention, in a DM,
or in a thread Baton is in; the "Ask Baton" shortcut on such a message) or pasted text
(``/baton summarize``). The card's **Create follow-ups** button approves a plan of kind ``meeting``
built here, so follow-ups use the same policy, decision and exactly-once execution as any plan.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import replace
from datetime import timedelta
from typing import Any

from slack_sdk.errors import SlackApiError

from connectors.slack_clients import current_token
from connectors.slack_once import post_once
from core import defaults
from core.meetings.followup_times import local_date
from core.meetings.owners import Person, people_from_slack, resolve_owner
from core.meetings.records import Transcript
from core.redaction import DEFAULT_REDACTOR
from core.transcripts import TranscriptError, parse_text, parse_transcript
from memory import audit, meeting_store, plans, requests
from memory.db import Conn
from memory.store import write_memory
from slackui import meeting_views, replies
from workers.cards import reply_in_thread
from workers.job_context import WorkerContext
from workers.llm.deadline import Deadline
from workers.llm.for_request import llm_for
from workers.meetings.followup_plan import followup_plan
from workers.meetings.notes import take_notes
from workers.meetings.transcript_fetch import FetchRefused, fetch_transcript
from workers.memories.support import embed_text
from workers.slack_lookups import SlackLookups
from workers.throttle import wait_turn

log = logging.getLogger(__name__)

#: A summarising run silent for this long is presumed dead; a rerun of the request takes over.
SUMMARY_LEASE = timedelta(minutes=15)


def is_meeting_request(record: requests.RequestRecord) -> bool:
    """A request about a transcript: it carries a file, or it is ``/baton summarize``."""
    context = record.context or {}
    return bool(_files(context)) or bool(context.get("summarize"))


def _files(context: dict[str, Any]) -> list[dict[str, Any]]:
    files = context.get("files") or (context.get("message") or {}).get("files") or []
    return [f for f in files if isinstance(f, dict) and f.get("id")]


def summarize_meeting(ctx: WorkerContext, conn: Conn, record: requests.RequestRecord) -> str:
    """Turn the request's transcript into a notes card (once per transcript per workspace)."""
    files = _files(record.context or {})
    name: str | None = None
    file_id: str | None = None
    if files:
        file_id = str(files[0]["id"])
        try:
            fetched = fetch_transcript(ctx.slack, file_id, token=current_token(ctx.slack) or "",
                                       max_bytes=ctx.settings.transcript_max_bytes)
        except FetchRefused as refused:
            return _refuse(ctx, conn, record, refused.reason)
        data, name = fetched.data, fetched.name
    else:
        text = record.text.strip()
        if not text:
            return _refuse(ctx, conn, record, replies.SUMMARIZE_USAGE)
        data = text.encode("utf-8")
    tz = str(SlackLookups(ctx.slack).tz(record.user_id))
    meeting, mine = meeting_store.claim_meeting(
        conn, team_id=record.team_id, request_id=record.id, channel_id=record.channel_id,
        thread_ts=record.origin.thread_ts, uploader_id=record.user_id,
        content_sha256=hashlib.sha256(data).hexdigest(), meeting_date=local_date(ctx.now(), tz), tz=tz,
        file_id=file_id, file_name=name,
    )
    if not mine:
        link = SlackLookups(ctx.slack).permalink(meeting.card_channel, meeting.card_ts)
        audit.append(conn, team_id=record.team_id, request_id=record.id, kind="meeting.duplicate",
                     meeting_id=meeting.id)
        reply_in_thread(ctx, team_id=record.team_id, channel=record.channel_id, thread_ts=record.origin.thread_ts,
                        key=f"meeting-duplicate:req-{record.id}", text=replies.already_summarised(link, meeting.id))
        requests.finish_request(conn, record.id, "answered")
        return "duplicate"
    if meeting.status == "summarized":
        return _post_card(ctx, conn, record, meeting.id)  # a rerun after the notes were stored
    if not meeting_store.take_over(conn, meeting.id, now=ctx.now(), stale_before=ctx.now() - SUMMARY_LEASE):
        # Another run is still summarising it (a long meeting on a slow model outlasts the planner's
        # stuck-request timeout); the reconciler asks again later and takes over if that run died.
        log.info("meeting %s is being summarised by another run", meeting.id)
        return "busy"
    try:
        transcript = parse_transcript(data, filename=name) if files else parse_text(_slack_unescaped(record.text))
    except TranscriptError as err:
        meeting_store.forget_meeting(conn, meeting.id)  # a fixed re-upload may try again
        return _refuse(ctx, conn, record, replies.transcript_unusable(err.reason))
    _take_notes(ctx, conn, record, meeting.id, _redacted(transcript))
    return _post_card(ctx, conn, record, meeting.id)


def _slack_unescaped(text: str) -> str:
    """Pasted text as typed: Slack escapes ``&``, ``<`` and ``>`` in message and command text."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _redacted(transcript: Transcript) -> Transcript:
    """Secrets and personal data said in the meeting never reach the model or the notes."""
    turns = tuple(replace(turn, text=DEFAULT_REDACTOR.redact(turn.text).text) for turn in transcript.turns)
    return replace(transcript, turns=turns)


def _take_notes(ctx: WorkerContext, conn: Conn, record: requests.RequestRecord, meeting_id: int,
                transcript: Transcript) -> None:
    meeting = meeting_store.load_meeting(conn, meeting_id)
    assert meeting is not None
    outcome = take_notes(
        transcript, llm=llm_for(ctx, record, meeting_id=meeting_id,
                                deadline=Deadline(ctx.settings.meeting_deadline_seconds)),
        meeting_date=meeting.meeting_date,
        team_id=record.team_id,
        request_id=record.id, chunk_budget_tokens=ctx.settings.meeting_chunk_tokens,
        chat_model=ctx.settings.chat_model, cheap_model=ctx.settings.cheap_model,
    )
    people = _people(ctx)
    aliases = dict(ctx.settings.owner_aliases)
    owners = []
    for item in outcome.notes.action_items:
        turn = item.evidence.turn if item.evidence else None
        speaker = transcript.turns[turn].speaker if turn is not None and 0 <= turn < len(transcript.turns) else None
        owners.append(resolve_owner(item.owner_name, speaker=speaker, people=people, aliases=aliases))
    meeting_store.save_notes(
        conn, meeting_id, outcome.notes, owners=owners, transcript_format=transcript.format,
        turns=len(transcript.turns), words=transcript.words, speakers=transcript.speakers,
        degraded_reason=outcome.degraded_reason, chunks=outcome.chunks, llm_calls=outcome.calls,
        input_tokens=outcome.input_tokens, output_tokens=outcome.output_tokens, cost_usd=outcome.cost_usd,
    )
    audit.append(
        conn, team_id=record.team_id, request_id=record.id, kind="meeting.summarized", meeting_id=meeting_id,
        mode=outcome.notes.mode, degraded_reason=outcome.degraded_reason, chunks=outcome.chunks,
        llm_calls=outcome.calls, input_tokens=outcome.input_tokens, output_tokens=outcome.output_tokens,
        cost_usd=str(outcome.cost_usd), turns=len(transcript.turns), words=transcript.words,
        action_items=len(outcome.notes.action_items), decisions=len(outcome.notes.decisions),
        notes=list(transcript.notes),
    )


def _post_card(ctx: WorkerContext, conn: Conn, record: requests.RequestRecord, meeting_id: int) -> str:
    meeting = meeting_store.load_meeting(conn, meeting_id)
    assert meeting is not None
    items = meeting_store.items(conn, meeting_id)
    plan = None
    if items:
        reviewed = followup_plan(ctx, meeting, items, origin=record.origin)
        plan_id, _ = plans.insert_plan(
            conn, request_id=record.id, origin=record.origin, plan=reviewed, kind="meeting",
            expires_at=ctx.now() + timedelta(days=defaults.MEETING_APPROVAL_DAYS),
        )
        meeting_store.set_plan(conn, meeting_id, plan_id)
        plan = plans.load_plan(conn, plan_id)
    if meeting.card_ts is None:
        wait_turn(ctx.redis, record.channel_id, interval=ctx.post_interval)
        meeting = meeting_store.load_meeting(conn, meeting_id)
        assert meeting is not None
        # Keyed like connector effects: a run that died after posting finds its card instead of posting again.
        posted = post_once(
            ctx.slack, channel=record.channel_id, key=f"meeting-card:{meeting_id}", doing="looking for the notes card",
            thread_ts=record.origin.thread_ts, text=meeting_views.meeting_card_text(meeting, items),
            blocks=meeting_views.meeting_card(meeting, items, plan, now=ctx.now()),
        )
        channel, ts = posted.channel, posted.ts
        meeting_store.set_card(conn, meeting_id, channel=channel, ts=ts, plan_id=plan.id if plan else None)
        if plan is not None:
            plans.set_card(conn, plan.id, channel=channel, ts=ts)
        link = SlackLookups(ctx.slack).permalink(channel, ts)
        _remember_decisions(ctx, conn, record, meeting_id, link=link, card_ts=ts)
    requests.finish_request(conn, record.id, "planned" if plan else "answered")
    return "summarized"


def _remember_decisions(ctx: WorkerContext, conn: Conn, record: requests.RequestRecord, meeting_id: int, *,
                        link: str | None, card_ts: str) -> None:
    """Each decision becomes a long-term ``decision`` memory linked to the notes card."""
    meeting = meeting_store.load_meeting(conn, meeting_id)
    assert meeting is not None
    scope = "user" if record.origin.is_dm else "channel"
    for index, decision in enumerate(meeting.decisions):
        title = meeting_views.meeting_title(meeting)
        said = f"Decided in the meeting {title} ({meeting.meeting_date}): {decision['text']}"
        text = DEFAULT_REDACTOR.redact(said).text
        embedded = embed_text(ctx, text)
        write_memory(
            conn, team_id=record.team_id, scope=scope, text=text, key=f"meeting:{meeting_id}:decision:{index}",
            channel_id=None if scope == "user" else record.channel_id,
            user_id=record.user_id if scope == "user" else None, kind="decision", source_kind="meeting",
            source_link=link, source_channel=record.channel_id, source_ts=card_ts, author_id=record.user_id,
            embedding=embedded[0] if embedded else None, embedding_model=embedded[1] if embedded else None,
        )


def _people(ctx: WorkerContext) -> list[Person]:
    members: list[dict[str, Any]] = []
    cursor: str | None = None
    try:
        for _ in range(20):  # 20 pages of 200: owners are looked up among the first 4,000 members
            page: Any = ctx.slack.users_list(limit=200, cursor=cursor)
            members += page.get("members") or []
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
    except SlackApiError as err:
        log.warning("users.list failed (%s); owners stay unassigned", err.response.get("error"))
    return people_from_slack(members)


def _refuse(ctx: WorkerContext, conn: Conn, record: requests.RequestRecord, text: str) -> str:
    audit.append(conn, team_id=record.team_id, request_id=record.id, kind="request.refused", reason=text[:500])
    reply_in_thread(ctx, team_id=record.team_id, channel=record.channel_id, thread_ts=record.origin.thread_ts,
                    key=f"meeting-refusal:req-{record.id}", text=text)
    requests.finish_request(conn, record.id, "refused", error=text[:500])
    return "refused"
