"""Web API object shapes: user, conversation and file objects as ``users.info``, ``conversations.info``
and ``files.info`` return them (see ``shared/fixtures/slack/web_api/files.info.ok.docs.json`` and
``file_object_txt_snippet.slack-web-capture.json``). Pure functions.
"""

from __future__ import annotations

import datetime as dt
import html
import mimetypes
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from localslack.state import Channel, Identity, StoredFile, User, WorkspaceState

#: filetype -> (mimetype, pretty_type) for the kinds a person is likely to upload.
FILETYPES: dict[str, tuple[str, str]] = {
    "text": ("text/plain", "Plain Text"),
    "markdown": ("text/markdown", "Markdown (raw)"),
    "csv": ("text/csv", "CSV"),
    "json": ("application/json", "JSON"),
    "pdf": ("application/pdf", "PDF"),
    "png": ("image/png", "PNG"),
    "jpg": ("image/jpeg", "JPEG"),
    "gif": ("image/gif", "GIF"),
    "binary": ("application/octet-stream", "Binary"),
}
_SNIPPET_TYPES = frozenset({"text", "markdown", "csv", "json"})
#: How much of a snippet is read for its five-line preview: a large upload is never decoded whole.
PREVIEW_BYTES = 16_384
PREVIEW_LINES = 5


def _tz_fields(tz: str, now: float) -> dict[str, Any]:
    try:
        zone: dt.tzinfo = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        zone = dt.UTC
    moment = dt.datetime.fromtimestamp(now, zone)
    offset = moment.utcoffset() or dt.timedelta(0)
    return {"tz": tz, "tz_label": moment.tzname() or tz, "tz_offset": int(offset.total_seconds())}


def user_object(identity: Identity, user: User, *, now: float) -> dict[str, Any]:
    """A user object (``users.info`` ``user``, ``users.list`` ``members[]``)."""
    profile: dict[str, Any] = {
        "title": "", "phone": "", "skype": "", "real_name": user.real_name,
        "real_name_normalized": user.real_name, "display_name": user.name,
        "display_name_normalized": user.name, "status_text": "", "status_emoji": "", "avatar_hash": "",
        "image_48": f"https://secure.gravatar.com/avatar/{user.id}.jpg?s=48", "team": identity.team_id,
    }
    if user.is_bot:
        profile.update(bot_id=identity.bot_id, api_app_id=identity.app_id, always_active=True)
    else:
        profile["email"] = f"{user.name}@example.com"
    return {
        "id": user.id, "team_id": identity.team_id, "name": user.name, "deleted": False, "color": "9f69e7",
        "real_name": user.real_name, **_tz_fields(user.tz, now), "profile": profile,
        "is_admin": False, "is_owner": False, "is_primary_owner": False, "is_restricted": False,
        "is_ultra_restricted": False, "is_bot": user.is_bot, "is_app_user": False, "updated": int(now),
        "is_email_confirmed": not user.is_bot,
    }


def channel_object(identity: Identity, channel: Channel, *, members: int | None = None) -> dict[str, Any]:
    """A conversation object (``conversations.info`` ``channel``)."""
    if channel.is_im:
        return {"id": channel.id, "created": channel.created, "is_archived": False, "is_im": True,
                "is_org_shared": False, "context_team_id": identity.team_id,
                "updated": channel.created * 1000,
                "user": channel.user, "is_user_deleted": False, "priority": 0}
    is_private = channel.id.startswith("G")
    last_set = channel.created if channel.purpose else 0
    text_field = {"value": channel.purpose, "creator": "", "last_set": last_set}
    obj: dict[str, Any] = {
        "id": channel.id, "name": channel.name, "is_channel": not is_private, "is_group": is_private,
        "is_im": False, "is_mpim": False, "is_private": is_private, "created": channel.created,
        "is_archived": channel.is_archived, "is_general": channel.name == "general", "unlinked": 0,
        "name_normalized": channel.name, "is_shared": False, "is_org_shared": False,
        "is_pending_ext_shared": False, "pending_shared": [], "context_team_id": identity.team_id,
        "updated": channel.created * 1000, "parent_conversation": None, "creator": "",
        "is_ext_shared": False, "shared_team_ids": [identity.team_id], "pending_connected_team_ids": [],
        "is_member": channel.is_member, "topic": {"value": "", "creator": "", "last_set": 0},
        "purpose": text_field, "previous_names": [],
    }
    if members is not None:
        obj["num_members"] = members
    return obj


def filetype_info(filetype: str, name: str) -> tuple[str, str]:
    """(mimetype, pretty_type) for an uploaded file."""
    if filetype in FILETYPES:
        return FILETYPES[filetype]
    guessed = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return guessed, filetype.upper()


def file_urls(identity: Identity, file: StoredFile, base_url: str) -> tuple[str, str]:
    """(``url_private``, ``url_private_download``) served by the local workspace under ``/files/``."""
    stem = f"{base_url}files/{identity.team_id}-{file.id}"
    return f"{stem}/{file.name}", f"{stem}/download/{file.name}"


def _line_count(content: bytes) -> int:
    """Lines of a text file, counted without decoding it (a last line without a newline counts too)."""
    if not content:
        return 0
    return content.count(b"\n") + (0 if content.endswith(b"\n") else 1)


def file_object(identity: Identity, file: StoredFile, *, base_url: str) -> dict[str, Any]:
    """The file object carried in ``files[]`` of a ``file_share`` message and by ``files.info``."""
    mimetype, pretty = filetype_info(file.filetype, file.name)
    url_private, url_download = file_urls(identity, file, base_url)
    permalink = f"{base_url}files/{file.user}/{file.id}/{file.name}"
    obj: dict[str, Any] = {
        "id": file.id, "created": file.created, "timestamp": file.created, "name": file.name,
        "title": file.title, "mimetype": mimetype, "filetype": file.filetype, "pretty_type": pretty,
        "user": file.user, "user_team": identity.team_id, "editable": file.filetype in _SNIPPET_TYPES,
        "size": len(file.content), "mode": "snippet" if file.filetype in _SNIPPET_TYPES else "hosted",
        "is_external": False, "external_type": "", "is_public": not file.channel.startswith("D"),
        "public_url_shared": False, "display_as_bot": False, "username": "", "url_private": url_private,
        "url_private_download": url_download, "permalink": permalink,
        "permalink_public": f"{base_url}files-pub/{identity.team_id}-{file.id}",
    }
    if file.filetype in _SNIPPET_TYPES:
        head = file.content[:PREVIEW_BYTES].decode("utf-8", "replace").splitlines()[:PREVIEW_LINES]
        lines = _line_count(file.content)
        highlighted = "".join(f"<div><pre>{html.escape(line)}</pre></div>\n" for line in head)
        obj.update(edit_link=f"{permalink}/edit", preview="\n".join(head),
                   preview_highlight=('<div class="CodeMirror cm-s-default CodeMirrorServer">\n'
                                      f'<div class="CodeMirror-code">\n{highlighted}</div>\n</div>\n'),
                   lines=lines, lines_more=max(lines - PREVIEW_LINES, 0),
                   preview_is_truncated=lines > PREVIEW_LINES)
    obj.update(has_rich_preview=False, file_access="visible")
    return obj


def file_info_object(identity: Identity, file: StoredFile, state: WorkspaceState, *,
                     base_url: str) -> dict[str, Any]:
    """``files.info``'s ``file``: the file object plus where it was shared."""
    obj = file_object(identity, file, base_url=base_url)
    channel = state.channels.get(file.channel)
    share: dict[str, Any] = {"reply_users": [], "reply_users_count": 0, "reply_count": 0,
                             "ts": file.message_ts, "channel_name": channel.name if channel else file.channel,
                             "team_id": identity.team_id}
    if file.thread_ts:
        share["thread_ts"] = file.thread_ts
    is_im = file.channel.startswith("D")
    obj.update(comments_count=0, is_starred=False,
               shares={"private" if is_im else "public": {file.channel: [share]}},
               channels=[] if is_im else [file.channel], groups=[], ims=[file.channel] if is_im else [],
               alt_txt=file.name)
    return obj
