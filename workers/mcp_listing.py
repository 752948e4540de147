"""The stored MCP listing (``memory.mcp_listings``) and the catalogue a job uses.

A worker lists every server when it starts and stores what it found; ``baton tools refresh`` does the same on
demand, and the executor re-lists a server whose tool it found changed. A job's registry takes the stored
listing whenever it is newer than the catalogue its worker holds (``current_catalogue``): a worker forks a work
horse per job, so the horse cannot refresh its parent, but it can read what someone stored. So a re-plan after a
tool changed plans with the tool as it is now.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import psycopg

from core.mcp_config import McpConfig
from memory import mcp_listings
from memory.mcp_listings import ListingChange
from workers.job_context import WorkerContext
from workers.mcp_catalogue import Listed, McpCatalogue, build_catalogue, list_servers

log = logging.getLogger(__name__)


def refresh_listings(
    conn: psycopg.Connection[Any], config: McpConfig, *, now: datetime, only: Iterable[str] | None = None
) -> dict[str, ListingChange]:
    """List the servers (all, or ``only``) live and store what they offer; returns what changed per server."""
    return {
        name: mcp_listings.store_listing(
            conn,
            name,
            tools=None if isinstance(listed, str) else listed,
            problem=listed if isinstance(listed, str) else None,
            now=now,
        )
        for name, listed in list_servers(config, only=only).items()
    }


def stored_catalogue(conn: psycopg.Connection[Any], config: McpConfig) -> McpCatalogue:
    """The catalogue of the stored listings of ``config``'s servers; a server never listed is a failure."""
    listings = {listing.server: listing for listing in mcp_listings.load_listings(conn, config.servers)}
    listed: dict[str, Listed] = {}
    for name in config.servers:
        listing = listings.get(name)
        if listing is None:
            listed[name] = "not listed yet (a worker lists it when it starts; or run baton tools refresh)"
        elif listing.problem is not None:
            listed[name] = listing.problem
        else:
            listed[name] = listing.tools
    version = max((listing.version for listing in listings.values()), default=0)
    return build_catalogue(config, listed, version=version)


def current_catalogue(ctx: WorkerContext) -> McpCatalogue:
    """The catalogue a job should use: its worker's, or the stored listing when that is newer (or the worker has
    none yet: then the servers are listed now and stored)."""
    config = ctx.settings.mcp_servers
    if not config.servers:
        return ctx.mcp or McpCatalogue()
    with ctx.db() as conn:
        if ctx.mcp is None:
            refresh_listings(conn, config, now=ctx.now())
        elif mcp_listings.latest_version(conn, config.servers) <= ctx.mcp.version:
            return ctx.mcp
        ctx.mcp = stored_catalogue(conn, config)
    return ctx.mcp
