"""Enterprise Grid org-wide installs: note which org serves a workspace, so that workspace's jobs find the token.

Bolt authorizes a delivery to an org-wide install by its org alone (``authorizations[0].team_id`` is null), so
nothing Baton records for the workspace names the org. This middleware, registered before the recording one,
notes ``(workspace, org)`` (``memory.installations.note_org_team``: one statement, writing only when new) for a
delivery bolt authorized as an org install; the workers then resolve the org's token for the workspace's rows.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot import payload
from bot.deps import AppDeps
from memory.db import is_outage
from memory.installations import note_org_team

log = logging.getLogger(__name__)


def register_org_installs(app: AsyncApp, deps: AppDeps) -> None:
    """The middleware; registered before ``bot.events``'s recording one (multi-workspace mode only)."""

    @app.middleware
    async def note_org(body: dict[str, Any], context: Any, next: Callable[[], Awaitable[None]]) -> None:
        enterprise_id = context.get("enterprise_id")
        # Events and commands name the workspace at the top; clicks and views in ``team`` or ``user``.
        team_id = str(body.get("team_id") or payload.team_id(body))
        if context.get("is_enterprise_install") and enterprise_id and team_id:
            try:
                async with deps.pool.connection() as conn:
                    await note_org_team(conn, team_id=team_id, enterprise_id=str(enterprise_id))
            except Exception as err:
                if not is_outage(err):
                    raise
                # The recording middleware keeps the delivery for later; the next one notes the org.
                log.warning("could not note org %s of workspace %s: %s", enterprise_id, team_id, err)
        await next()
