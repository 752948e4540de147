"""The local workspace's Socket Mode server, seen by a bare websocket client (no bolt, no slack_sdk client):
``apps.connections.open``, hello, envelopes and their acks, redelivery, disconnects."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from localslack import LocalSlack
from tests.scenario.loop_helpers import eventually


class RawApp:
    """A Socket Mode app reduced to aiohttp's websocket client: records every message, acks if told to."""

    def __init__(self, url: str, *, acks: bool = True) -> None:
        self.messages: list[dict[str, Any]] = []
        self.acks = acks
        self.closed = False
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._session: aiohttp.ClientSession | None = None
        self._ws = self._run(self._connect(url))
        self._reader = asyncio.run_coroutine_threadsafe(self._read(), self._loop)

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(5)

    async def _connect(self, url: str) -> aiohttp.ClientWebSocketResponse:
        self._session = aiohttp.ClientSession()
        return await self._session.ws_connect(url)

    async def _read(self) -> None:
        async for message in self._ws:
            if message.type == aiohttp.WSMsgType.TEXT:
                data = json.loads(message.data)
                self.messages.append(data)
                if self.acks and "envelope_id" in data:
                    reply = {"envelope_id": data["envelope_id"], "payload": {"text": f"got {data['type']}"}}
                    await self._ws.send_str(json.dumps(reply))
        self.closed = True

    def close(self) -> None:
        async def close() -> None:
            await self._ws.close()
            assert self._session is not None
            await self._session.close()

        self._run(close())
        self._reader.result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()


@pytest.fixture
def slack(local_slack: LocalSlack) -> Iterator[LocalSlack]:
    """The workspace delivering over Socket Mode, with fast timeouts; put back as it was afterwards."""
    hub = local_slack.socket
    saved = (hub.ack_timeout, hub.connect_timeout, hub.drain_seconds)
    hub.ack_timeout, hub.connect_timeout, hub.drain_seconds = 0.3, 0.5, 0.2
    local_slack.delivery = "socket"
    yield local_slack
    local_slack.delivery = "http"
    hub.ack_timeout, hub.connect_timeout, hub.drain_seconds = saved


def open_url(slack: LocalSlack) -> str:
    return str(WebClient(base_url=slack.api_url).apps_connections_open(app_token=slack.app_token)["url"])


def test_apps_connections_open_takes_the_app_token_only(slack):
    url = open_url(slack)
    assert url.startswith(slack.base_url.replace("http://", "ws://") + "link/?ticket=")
    client = WebClient(base_url=slack.api_url)
    for token, error in ((slack.bot_token, "not_allowed_token_type"), ("xapp-1-wrong", "invalid_auth")):
        with pytest.raises(SlackApiError) as raised:
            client.apps_connections_open(app_token=token)
        assert raised.value.response["error"] == error
    with pytest.raises(SlackApiError) as raised:
        client.api_call("apps.connections.open")
    assert raised.value.response["error"] == "not_authed"
    # ... and the app token is good for nothing else.
    with pytest.raises(SlackApiError) as raised:
        WebClient(token=slack.app_token, base_url=slack.api_url).chat_postMessage(channel="C0GENERAL", text="hi")
    assert raised.value.response["error"] == "not_allowed_token_type"


def test_a_websocket_without_a_ticket_is_refused(slack):
    async def handshake(url: str) -> int:
        async with aiohttp.ClientSession() as session:
            with pytest.raises(aiohttp.WSServerHandshakeError) as raised:
                await session.ws_connect(url)
            return raised.value.status

    base = slack.base_url.replace("http://", "ws://") + "link/"
    assert asyncio.run(handshake(base + "?ticket=forged")) == 401
    assert asyncio.run(handshake(base)) == 401


def test_hello_then_envelopes_whose_acks_carry_the_reply(slack):
    app = RawApp(open_url(slack))
    try:
        assert eventually(lambda: app.messages)
        hello = app.messages[0]
        assert hello["type"] == "hello" and hello["connection_info"] == {"app_id": "A0BATON"}
        assert hello["num_connections"] >= 1 and "approximate_connection_time" in hello["debug_info"]

        answer = slack.slash_command("U0ALICE", "C0GENERAL", "/baton", "help")
        assert (answer.status, answer.json()) == (200, {"text": "got slash_commands"})
        delivery = slack.post_as_user("U0ALICE", "C0GENERAL", "hello <@U0BATON>")
        assert [r.status for r in delivery.responses] == [200, 200]

        command, message, mention = app.messages[1:4]
        assert command["type"] == "slash_commands" and command["accepts_response_payload"] is True
        assert command["payload"]["command"] == "/baton" and command["payload"]["text"] == "help"
        assert "retry_attempt" not in command
        assert [message["type"], mention["type"]] == ["events_api", "events_api"]
        assert mention["payload"] == delivery.events[1] and mention["accepts_response_payload"] is False
        assert (mention["retry_attempt"], mention["retry_reason"]) == (0, "")
        assert len({command["envelope_id"], message["envelope_id"], mention["envelope_id"]}) == 3
    finally:
        app.close()


def test_an_unacknowledged_event_is_delivered_again_a_slash_command_is_not(slack):
    app = RawApp(open_url(slack), acks=False)
    try:
        event = slack.deliver_event(
            {"type": "message", "channel": "C0GENERAL", "user": "U0ALICE", "text": "x", "ts": "1700000000.000100"}
        )
        assert event.status == 408
        sent = [m for m in app.messages if m.get("type") == "events_api"]
        assert [m["retry_attempt"] for m in sent] == [0, 1, 2, 3]
        assert {m["retry_reason"] for m in sent[1:]} == {"timeout"}
        assert len({m["payload"]["event_id"] for m in sent}) == 1 and len({m["envelope_id"] for m in sent}) == 4

        delivery = slack.post_as_user("U0BOB", "C0GENERAL", "just chatting")
        assert delivery.responses and all(r.status == 408 for r in delivery.responses)
        answer = slack.slash_command("U0ALICE", "C0GENERAL", "/baton", "help")
        assert answer.status == 408
        assert len([m for m in app.messages if m.get("type") == "slash_commands"]) == 1  # never redelivered
    finally:
        app.close()


def test_no_connection_answers_503(slack):
    assert eventually(lambda: slack.socket.open_connections == 0)
    assert slack.slash_command("U0ALICE", "C0GENERAL", "/baton", "help").status == 503


def test_disconnect_is_announced_then_the_connection_is_closed(slack):
    app = RawApp(open_url(slack))
    try:
        assert eventually(lambda: app.messages)
        assert slack.socket.disconnect("refresh_requested") >= 1
        assert eventually(lambda: app.closed, timeout=3)
        assert app.messages[-1] == {
            "type": "disconnect",
            "reason": "refresh_requested",
            "debug_info": {"host": "applink-local"},
        }
        # Nothing goes to a connection told to go: with no other one open, the delivery finds none.
        assert slack.slash_command("U0ALICE", "C0GENERAL", "/baton", "help").status == 503
    finally:
        app.close()
