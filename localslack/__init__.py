"""A local Slack workspace: a Slack-compatible Web API on loopback plus signed deliveries to the bot.

Used by the test suite as its fake Slack Web API and by ``baton demo`` as a workspace people can act in::

    slack = LocalSlack().start()
    client = WebClient(token=slack.bot_token, base_url=slack.api_url)
    slack.events_url = "http://127.0.0.1:3000/slack/events"
    slack.post_as_user("U0ALICE", "C0GENERAL", "<@U0BATON> deploy api")

Modules: ``state`` (data), ``validation`` (Block Kit rules), ``inputs`` (what people picked in messages'
input elements), ``objects``/``payloads`` (Slack's JSON shapes),
``context`` + ``*_methods`` (Web API handlers), ``server`` (aiohttp in a thread), ``delivery`` and
``signing`` (outbound, signed), ``socket_mode`` (Slack's side of Socket Mode: ``apps.connections.open``,
the websocket, envelopes, acks; ``slack.delivery = "socket"`` sends people's actions that way),
``people`` (what people do), ``workspace`` (``LocalSlack``).

Errors: Web API problems are answered as Slack answers them (``{"ok": false, "error": …}``), never raised.
Driving the workspace wrongly raises a :class:`LocalSlackError` (tree in ``localslack.errors``).
"""

from localslack.delivery import Delivery, DeliveryResponse
from localslack.errors import DeliveriesPending, LocalSlackError, NotReady, UnknownObject
from localslack.recording import Injection, RecordedCall
from localslack.signing import signed_headers, slack_signature
from localslack.workspace import LocalSlack

__all__ = [
    "DeliveriesPending",
    "Delivery",
    "DeliveryResponse",
    "Injection",
    "LocalSlack",
    "LocalSlackError",
    "NotReady",
    "RecordedCall",
    "UnknownObject",
    "signed_headers",
    "slack_signature",
]
