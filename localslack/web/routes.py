"""The browser workspace's routes on the local workspace's own server (``/ui/``).

::

    GET  /ui/?as=U…&c=C…[&thread=ts]   the page (``c=home`` for App Home)
    GET  /ui/state?as=&c=&thread=      the page's fragments as JSON (polled by the page)
    GET  /ui/static/{file}             the page's script and style, shipped in the package
    POST /ui/post      {as, c, text, thread}        a message, or ``/command text`` (its reply shown to the person)
    POST /ui/act       {as, c, ts, action_id, block_id, value}   a click or a pick: ``block_actions``
    POST /ui/shortcut  {as, c, ts, callback_id}    a message shortcut: ``message_action``
    POST /ui/submit    {as, view_id, fields}        a modal submitted: ``view_submission``
    POST /ui/close     {as, view_id}                a modal closed
    POST /ui/home      {as}                         the Home tab opened: ``app_home_opened``
    POST /ui/upload    multipart {as, c, comment, file}  a file shared

Every action goes through :class:`~localslack.LocalSlack`'s people methods, so the bot receives exactly
what the tests' scripted people send; they block on the bot's answer, so they run in a thread, not on the
server's event loop (the bot calls this same server back while answering).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable
from importlib import resources
from typing import Any, TypeVar

from aiohttp import web

from localslack.delivery import DeliveryResponse
from localslack.errors import LocalSlackError
from localslack.people import PeopleActions
from localslack.recording import RecordedCall
from localslack.shortcuts import message_shortcut
from localslack.web import forms, snapshot
from localslack.web.modals import ModalStacks
from localslack.web.render import PageRenderer

T = TypeVar("T")
_STATIC_TYPES = {".js": "text/javascript", ".css": "text/css"}
_MENTION = re.compile(r"(?<![<\w])@([A-Za-z0-9._-]+)")
_CHANNEL = re.compile(r"(?<![<\w&])#([a-z0-9_-]+)")


class BrowserWorkspace:
    """The page's server side for one :class:`~localslack.LocalSlack`: routes, modal stacks, command replies."""

    def __init__(self, slack: PeopleActions, *, calls: Callable[[], list[RecordedCall]]) -> None:
        self.slack = slack
        #: The Web API calls answered so far: a message the workspace refused is shown as refused.
        self.calls = calls
        #: Fed by the workspace's ``on_post`` (``views.open``), which :class:`~localslack.LocalSlack` subscribes.
        self.modals = ModalStacks()
        # (user, channel) -> immediate replies to that person's commands, shown as Slack shows them: to them only.
        self.replies: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._refused_at: dict[int, str] = {}
        #: The app's message shortcuts (callback_id -> name), as its manifest lists them: each message's menu.
        self.shortcuts: dict[str, str] = {}

    def reset(self) -> None:
        """Forget modals and replies (the workspace was reset); the ``on_post`` hook stays."""
        self.modals.clear()
        self.replies.clear()
        self._refused_at.clear()

    def mount(self, app: web.Application) -> None:
        """Add the ``/ui/`` routes to the workspace's aiohttp app."""
        app.router.add_get("/ui/", self.page)
        app.router.add_get("/ui/state", self.state)
        app.router.add_get("/ui/static/{name}", self.static)
        app.router.add_post("/ui/post", self.post)
        app.router.add_post("/ui/act", self.act)
        app.router.add_post("/ui/shortcut", self.shortcut)
        app.router.add_post("/ui/submit", self.submit)
        app.router.add_post("/ui/close", self.close)
        app.router.add_post("/ui/home", self.home)
        app.router.add_post("/ui/upload", self.upload)

    # -- reading -----------------------------------------------------------------------------------

    def _viewer(self, query: Any) -> tuple[str, str]:
        people = snapshot.take(self.slack, "", "").people
        viewer = str(query.get("as") or next(iter(people), ""))
        if viewer not in people:
            raise web.HTTPNotFound(text=f"no person {viewer} in the local workspace")
        return viewer, str(query.get("c") or "C0GENERAL")

    def _renderer(self, viewer: str, channel: str) -> PageRenderer:
        snap = snapshot.take(self.slack, viewer, channel)
        snap.ephemerals.extend(self.replies.get((viewer, channel), []))
        snap.ephemerals.extend(refusals(self.calls(), channel=channel, viewer=viewer, seen=self._refused_at))
        return PageRenderer(snap, viewer=viewer, channel=channel, workspace="Baton Local", shortcuts=self.shortcuts)

    async def page(self, request: web.Request) -> web.Response:
        viewer, channel = self._viewer(request.query)
        html = self._renderer(viewer, channel).page(thread=request.query.get("thread", ""))
        return web.Response(text=html, content_type="text/html")

    async def state(self, request: web.Request) -> web.Response:
        viewer, channel = self._viewer(request.query)
        modal = self.modals.top(viewer, current=snapshot.take(self.slack, viewer, channel).views)
        body = self._renderer(viewer, channel).state(thread=request.query.get("thread", ""), modal=modal)
        return web.json_response(body)

    async def static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        suffix = name[name.rfind(".") :]
        if "/" in name or suffix not in _STATIC_TYPES:
            raise web.HTTPNotFound()
        file = resources.files("localslack.web").joinpath("static", name)
        if not file.is_file():
            raise web.HTTPNotFound()
        return web.Response(body=file.read_bytes(), content_type=_STATIC_TYPES[suffix])

    # -- acting ------------------------------------------------------------------------------------

    async def _as_person(self, user_id: str, action: Callable[[], T]) -> T:
        """Run ``action`` for ``user_id`` off the event loop; the triggers it issues are that person's."""
        with self.slack._lock:
            before = set(self.slack._state.triggers)
        try:
            return await asyncio.get_running_loop().run_in_executor(None, action)
        finally:
            with self.slack._lock:
                self.modals.claim(user_id, set(self.slack._state.triggers) - before)

    async def _json(self, request: web.Request) -> tuple[dict[str, Any], str, str]:
        data = await request.json()
        if not isinstance(data, dict):
            raise web.HTTPBadRequest(text="expected a JSON object")
        viewer, channel = self._viewer(data)
        return data, viewer, channel

    async def post(self, request: web.Request) -> web.Response:
        data, viewer, channel = await self._json(request)
        text = str(data.get("text", "")).strip()
        if not text:
            return web.json_response({"ok": True})
        try:
            if text.startswith("/"):
                command, _, rest = text.partition(" ")
                answer = await self._as_person(viewer, lambda: self.slack.slash_command(viewer, channel, command, rest))
                self._keep_reply(viewer, channel, answer, command)
            else:
                slack_text = self._to_slack(text)
                thread = str(data.get("thread") or "") or None
                await self._as_person(
                    viewer, lambda: self.slack.post_as_user(viewer, channel, slack_text, thread_ts=thread)
                )
        except (LocalSlackError, OSError) as error:
            return web.json_response({"ok": False, "error": str(error)})
        return web.json_response({"ok": True})

    async def act(self, request: web.Request) -> web.Response:
        data, viewer, channel = await self._json(request)
        value = data.get("value")
        try:
            answer = await self._as_person(
                viewer,
                lambda: self.slack.click(
                    viewer,
                    channel=channel,
                    message_ts=str(data.get("ts")),
                    action_id=str(data.get("action_id")),
                    value=value if isinstance(value, (str, list)) else None,
                    block_id=data.get("block_id") or None,
                ),
            )
        except (LocalSlackError, OSError) as error:
            return web.json_response({"ok": False, "error": str(error)})
        return web.json_response({"ok": answer.status < 400, "status": answer.status})

    async def shortcut(self, request: web.Request) -> web.Response:
        data, viewer, channel = await self._json(request)
        callback_id = str(data.get("callback_id"))
        if callback_id not in self.shortcuts:
            return web.json_response({"ok": False, "error": f"the app has no message shortcut {callback_id}"})
        try:
            answer = await self._as_person(
                viewer,
                lambda: message_shortcut(
                    self.slack, viewer, channel=channel, message_ts=str(data.get("ts")), callback_id=callback_id
                ),
            )
        except (LocalSlackError, OSError) as error:
            return web.json_response({"ok": False, "error": str(error)})
        return web.json_response({"ok": answer.status < 400, "status": answer.status})

    async def submit(self, request: web.Request) -> web.Response:
        data, viewer, _ = await self._json(request)
        view_id = str(data.get("view_id"))
        view = self.modals.top(viewer, current=snapshot.take(self.slack, viewer, "").views)
        if view is None or view.get("id") != view_id:
            return web.json_response({"ok": False, "error": "that form is no longer open"})
        fields = data.get("fields")
        fields = fields if isinstance(fields, dict) else {}
        values = forms.submitted_values(view, fields)
        try:
            answer = await self._as_person(viewer, lambda: self.slack.submit_view(viewer, view_id, values=values))
        except (LocalSlackError, OSError) as error:
            return web.json_response({"ok": False, "error": str(error)})
        if answer.status >= 400:
            return web.json_response({"ok": False, "error": f"the app answered HTTP {answer.status}"})
        errors = self.modals.respond(viewer, view_id, _json_body(answer))
        return web.json_response({"ok": errors is None, "errors": errors or {}})

    async def close(self, request: web.Request) -> web.Response:
        data, viewer, _ = await self._json(request)
        self.modals.close(viewer, str(data.get("view_id")))
        return web.json_response({"ok": True})

    async def home(self, request: web.Request) -> web.Response:
        _, viewer, _ = await self._json(request)
        event = {
            "type": "app_home_opened",
            "user": viewer,
            "channel": "D" + viewer[1:],
            "tab": "home",
            "event_ts": f"{time.time():.6f}",
        }
        answer = await self._as_person(viewer, lambda: self.slack.deliver_event(event))
        return web.json_response({"ok": answer.status < 400})

    async def upload(self, request: web.Request) -> web.Response:
        form = await request.post()
        viewer, channel = self._viewer(form)
        file = form.get("file")
        if not isinstance(file, web.FileField):
            return web.json_response({"ok": False, "error": "no file"})
        content, name = file.file.read(), file.filename
        bot_name = snapshot.take(self.slack, viewer, channel).bot_name
        comment = self._to_slack(str(form.get("comment") or "").strip() or f"@{bot_name}")
        try:
            await self._as_person(
                viewer,
                lambda: self.slack.upload_file(viewer, channel, name=name, content=content, initial_comment=comment),
            )
        except (LocalSlackError, OSError) as error:
            return web.json_response({"ok": False, "error": str(error)})
        return web.json_response({"ok": True})

    # -- helpers -----------------------------------------------------------------------------------

    def _to_slack(self, text: str) -> str:
        """``@name`` / ``#channel`` as typed -> Slack's ``<@U…>`` / ``<#C…|name>``, as Slack's client sends them."""
        snap = snapshot.take(self.slack, "", "")
        by_name = {name.lower(): user_id for user_id, name in snap.users.items()}
        by_channel = {room.name.lower(): room.id for room in snap.rooms if not room.is_dm}
        text = _MENTION.sub(
            lambda m: f"<@{by_name[m.group(1).lower()]}>" if m.group(1).lower() in by_name else m.group(0), text
        )
        return _CHANNEL.sub(
            lambda m: f"<#{by_channel[m.group(1)]}|{m.group(1)}>" if m.group(1) in by_channel else m.group(0), text
        )

    def _keep_reply(self, viewer: str, channel: str, answer: DeliveryResponse, command: str) -> None:
        """A command's HTTP answer, shown to the person who ran it (Slack shows it as an ephemeral)."""
        body = _json_body(answer)
        if answer.status >= 400:
            body = {"text": f"{command} failed: the app answered HTTP {answer.status}"}
        if not body.get("text") and not body.get("blocks"):
            return
        message = {
            "type": "message",
            "ts": f"{time.time():.6f}",
            "text": str(body.get("text", "")),
            "recipient": viewer,
            "bot_id": self.slack.identity.bot_id,
            "user": self.slack.identity.bot_user_id,
        }
        if isinstance(body.get("blocks"), list):
            message["blocks"] = body["blocks"]
        self.replies.setdefault((viewer, channel), []).append(message)


#: Methods whose refusal leaves a hole in a channel: shown there, as a note from the workspace.
POSTING_METHODS = ("chat.postMessage", "chat.update", "chat.postEphemeral", "chat.scheduleMessage")


def refusals(calls: list[RecordedCall], *, channel: str, viewer: str, seen: dict[int, str]) -> list[dict[str, Any]]:
    """The bot's refused posts in ``channel`` as notes only ``viewer`` sees: the method, Slack's error and
    the reasons it gave (``invalid_blocks`` lists each problem); in the thread the post was meant for.

    ``seen`` keeps the time each refusal was first shown (by its place in ``calls``), so a note stays put.
    """
    notes = []
    for index, call in enumerate(calls):
        if call.method not in POSTING_METHODS or call.response.get("ok", True) or call.params.get("channel") != channel:
            continue
        reasons = "".join(f"\n• {problem}" for problem in call.response.get("errors") or [])
        note = {
            "type": "message",
            "ts": seen.setdefault(index, f"{time.time():.6f}"),
            "recipient": viewer,
            "refused": True,
            "user": "",
            "bot_id": "",
            "text": f"*Slack refused the app's `{call.method}`:* `{call.response.get('error')}`{reasons}",
        }
        if call.params.get("thread_ts"):
            note["thread_ts"] = str(call.params["thread_ts"])
        notes.append(note)
    return notes


def _json_body(answer: DeliveryResponse) -> dict[str, Any]:
    """The bot's answer as a dict: JSON, or plain text as ``{"text": …}``."""
    if not answer.body.strip():
        return {}
    try:
        body = json.loads(answer.body)
    except json.JSONDecodeError:
        return {"text": answer.body}
    return body if isinstance(body, dict) else {}
