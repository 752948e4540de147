"""The local workspace in a browser: a small Slack served under ``/ui/`` by the workspace's own server.

What the page shows is read from the workspace's state, so it is exactly what the bot sent through the
Web API; what a person does there goes through the same people methods the tests use (signed
``block_actions``, ``view_submission``, slash commands, events). Server-rendered HTML (Jinja) and one
small script polling for changes; no build step, nothing fetched from elsewhere.

Modules: ``mrkdwn`` (text), ``blocks`` (Block Kit), ``snapshot`` (a consistent copy for one viewer),
``render`` (page and fragments), ``forms`` (modal fields -> ``state.values``), ``modals`` (whose modal
is open), ``routes`` (aiohttp handlers, :class:`~localslack.web.routes.BrowserWorkspace`).
"""
