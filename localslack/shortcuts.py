"""Message shortcuts: a person picks one of the app's shortcuts from a message's "More actions" menu.

Slack sends the app a ``message_action`` payload (interactivity) with the whole message, a ``trigger_id``
(for a modal) and a ``response_url``. Which shortcuts an app has comes from its manifest; the local
workspace is told them (:attr:`~localslack.LocalSlack.message_shortcuts`).
"""

from __future__ import annotations

import copy
from typing import Any

from localslack.delivery import DeliveryResponse, Outgoing
from localslack.errors import UnknownObject
from localslack.payloads import _channel_ref, _team_ref, _user_ref
from localslack.people import PeopleActions


def message_shortcut(
    slack: PeopleActions, user_id: str, *, channel: str, message_ts: str, callback_id: str
) -> DeliveryResponse:
    """``user_id`` runs the message shortcut ``callback_id`` on message ``message_ts``; returns the bot's answer."""
    with slack._lock:
        user, where = slack._user(user_id), slack._channel(channel)
        message = slack._state.find_message(where.id, message_ts)
        if message is None:
            raise UnknownObject(f"no message {message_ts} in {where.id}")
        identity = slack.identity
        payload: dict[str, Any] = {
            "type": "message_action",
            "token": identity.verification_token,
            "action_ts": f"{slack._clock.now():.6f}",
            "team": _team_ref(identity),
            "user": _user_ref(identity, user),
            "channel": _channel_ref(where),
            "is_enterprise_install": False,
            "enterprise": None,
            "callback_id": callback_id,
            "trigger_id": slack._issue_trigger(),
            "response_url": slack._issue_hook(where, user, None),
            "message_ts": message_ts,
            "message": copy.deepcopy(message),
        }
    return slack._send(Outgoing("interactive", payload))
