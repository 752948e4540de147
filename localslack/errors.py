"""Exceptions raised when the local workspace is driven wrongly.

Web API errors are never raised: they are answered as Slack answers them (``{"ok": false, ...}``).
These are for the code driving the workspace (tests, ``baton demo``)::

    LocalSlackError
    ├── UnknownObject(LookupError)        no such user, channel, message, button, option or view
    ├── InvalidValue(ValueError)          a value no person could pick (a malformed date, a list for
    │                                     a single select)
    ├── NotReady(RuntimeError)            not started, or events_url unset for a delivery
    └── DeliveriesPending(TimeoutError)   wait_for_deliveries() ran out of time
"""

from __future__ import annotations


class LocalSlackError(Exception):
    """Base of every exception the local workspace raises."""


class UnknownObject(LocalSlackError, LookupError):
    """A user, channel, message, interactive element or view that the workspace does not have."""


class InvalidValue(LocalSlackError, ValueError):
    """A value no person could pick in that element: a malformed date or time, a list for a single select."""


class NotReady(LocalSlackError, RuntimeError):
    """The server is not started, or ``events_url`` is unset where a delivery is required."""


class DeliveriesPending(LocalSlackError, TimeoutError):
    """Background deliveries (echoes, ``on_post`` callbacks) did not finish in time."""
