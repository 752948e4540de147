"""``/baton digest …``: show, set, switch off or send a digest now (a channel's, or ``me`` by DM).

Parsing is pure (``core.digest.command``) and answered in the ack; the rest runs just after the ack:
the user's Slack time zone (when none was given) and a short write in Postgres, then an ephemeral
answer through ``respond``.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import AppDeps
from core.digest.command import DigestCommand, DigestCommandError, describe, parse_digest_command
from core.digest.schedule import next_occurrence
from core.meetings.followup_times import local_date
from memory import audit, digests
from slackui import replies


async def handle_digest(deps: AppDeps, *, command: dict[str, Any], args: str, ack: AsyncAck,
                        respond: AsyncRespond, client: AsyncWebClient) -> None:
    try:
        parsed = parse_digest_command(args)
    except DigestCommandError as err:
        await ack(err.reason)
        return
    await ack()
    team, user, channel = command.get("team_id", ""), command.get("user_id", ""), command.get("channel_id", "")
    personal = parsed.personal or channel.startswith("D")
    target = user if personal else channel
    tz = parsed.tz
    if parsed.action in ("set", "now") and tz is None:
        tz = await _user_tz(client, user)
    text, run_id = await asyncio.to_thread(
        _apply, deps, parsed, team=team, user=user, target=target, personal=personal, tz=tz,
        trigger=str(command.get("trigger_id") or ""),
    )
    if run_id is not None:
        await deps.enqueue("send_digest", run_id)
    await respond(response_type="ephemeral", text=text)


def _apply(deps: AppDeps, parsed: DigestCommand, *, team: str, user: str, target: str, personal: bool,
           tz: str | None, trigger: str) -> tuple[str, int | None]:
    now = deps.now()
    where = "by DM" if personal else "in this channel"
    with deps.sync_pool.connection() as conn:
        if parsed.action == "show":
            setting = digests.load_setting(conn, team_id=team, target=target)
            if setting is None:
                return replies.no_digest(where), None
            return describe(setting, next_at=next_occurrence(setting, now) if setting.enabled else None), None
        if parsed.action == "off":
            changed = digests.disable(conn, team_id=team, target=target, reason=f"switched off by <@{user}>")
            if changed:
                audit.append(conn, team_id=team, kind="digest.off", actor=user, target=target)
            return (replies.DIGEST_OFF if changed else replies.no_digest(where)), None
        if parsed.action == "set":
            assert parsed.schedule is not None and parsed.local_time is not None and tz is not None
            setting = digests.save_setting(conn, team_id=team, target=target,
                                           kind="personal" if personal else "channel", schedule=parsed.schedule,
                                           local_time=parsed.local_time, tz=tz, configured_by=user, now=now)
            audit.append(conn, team_id=team, kind="digest.configured", actor=user, target=target,
                         schedule=parsed.schedule, local_time=parsed.local_time.isoformat(), tz=tz)
            return replies.digest_set(describe(setting, next_at=next_occurrence(setting, now))), None
        setting = digests.load_setting(conn, team_id=team, target=target)
        if setting is None:  # "now" without a schedule: a one-off in the user's zone
            setting = digests.save_setting(conn, team_id=team, target=target,
                                           kind="personal" if personal else "channel", schedule="daily",
                                           local_time=now.time().replace(microsecond=0), tz=tz or "UTC",
                                           configured_by=user, now=now)
            digests.disable(conn, team_id=team, target=target, reason="only sent on demand so far")
        run_id = digests.claim_now(conn, team_id=team, target=target, local_date=local_date(now, setting.tz), now=now,
                                   lease_until=now + timedelta(minutes=5), request_key=f"cmd:{trigger}")
    return replies.DIGEST_NOW, run_id


async def _user_tz(client: AsyncWebClient, user: str) -> str:
    try:
        response = await client.users_info(user=user)
        return str((response.get("user") or {}).get("tz") or "UTC")
    except SlackApiError:
        return "UTC"
