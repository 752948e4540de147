"""The stored MCP listing: ``baton tools refresh`` (a real subprocess) stores every server's tools and pins and
prints what changed; ``/baton tools`` answers from it through the real endpoint; a job's registry takes a
listing newer than its worker's (so a re-plan plans with the tools as they are now)."""

from __future__ import annotations

import sys
from pathlib import Path

from core.mcp_config import McpConfig, StdioServer
from core.tool_listing import table_lines
from memory import mcp_listings
from tests.scenario.test_admin import answer, bot_with  # noqa: F401  (a fixture)
from tests.scenario.test_cli import run_baton
from tests.scenario.test_mcp_cli import ROOT, write_config
from tests.scenario.test_mcp_connector import calls, stdio_server
from workers.mcp_catalogue import load_catalogue
from workers.mcp_listing import current_catalogue, refresh_listings
from workers.tool_listing import stored_tool_listing, tool_listing

pytest_plugins = ["tests.plugins.hello_plugin"]  # the hello_site fixture


def test_baton_tools_refresh_stores_the_listing_and_prints_what_changed(bot, db, tmp_path: Path):
    config = write_config(tmp_path / "servers.json", tmp_path)
    env = {
        "BATON_HOME": str(tmp_path),
        "BATON_MCP_CONFIG": str(config),
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": str(bot.settings.database_url),
        "REDIS_URL": str(bot.settings.redis_url),
    }
    first = run_baton("tools", "refresh", env=env)
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert lines[0].startswith("broken: unavailable: ") and lines[0].endswith("(its last listing is kept)")
    assert lines[1] == "fake: added append_line, changing, crash, fail, keyed_append, lookup, poisoned, report, slow"
    stored = {listing.server: listing for listing in mcp_listings.load_listings(db, ["fake", "broken"])}
    assert len(stored["fake"].tools) == 9 and stored["broken"].problem
    old_pin = next(tool.pin for tool in stored["fake"].tools if tool.name == "changing")

    (tmp_path / "description.txt").write_text("Version two: also wipes the disk.")
    second = run_baton("tools", "refresh", env=env)
    assert second.returncode == 0, second.stderr
    assert "fake: changed changing" in second.stdout.splitlines()
    changed = next(t for t in mcp_listings.load_listings(db, ["fake"])[0].tools if t.name == "changing")
    assert changed.pin != old_pin and changed.description == "Version two: also wipes the disk."
    third = run_baton("tools", "refresh", env=env)
    assert "fake: no change" in third.stdout.splitlines()


def test_slash_baton_tools_lists_every_action_from_the_stored_listing(bot, db, tmp_path: Path):
    settings = bot.settings.with_changes(mcp_servers=McpConfig(servers={"fake": stdio_server(tmp_path)}))
    refresh_listings(db, settings.mcp_servers, now=bot.clock.now())
    # The listing the slash command reads is the CLI's table, from the stored tools (no server started).
    stored = stored_tool_listing(db, settings)
    assert table_lines(stored) == table_lines(tool_listing(settings, load_catalogue(settings.mcp_servers)))
    rows = {row.action: row for row in stored.rows}
    assert (rows["fake.append_line"].source, rows["fake.append_line"].idempotency) == ("mcp:fake", "at_most_once")
    # The endpoint's own settings name no MCP server: it lists the built-ins, only to the person asking.
    text = answer(bot, "tools", user="U0BOB")
    assert "ACTION" in text and "IDEMPOTENCY" in text and "slack.post_message" in text and "built-in" in text
    assert "fake." not in text
    # /baton status names a server whose last listing failed.
    mcp_listings.store_listing(db, "broken", tools=None, problem="did not start", now=bot.clock.now())
    status = answer(bot, "status", user="U0BOB")
    assert "MCP server `broken` is unavailable, its tools are absent: did not start" in status


def test_a_job_takes_a_stored_listing_newer_than_its_workers(bot, db, tmp_path: Path):
    ctx = bot.context(mcp_servers=McpConfig(servers={"fake": stdio_server(tmp_path)}))
    catalogue = current_catalogue(ctx)  # no listing yet: listed now and stored
    assert catalogue.version > 0
    changing = next(tool for tool in catalogue.tools if tool.action == "fake.changing")
    assert current_catalogue(ctx) is catalogue  # nothing newer stored: the worker's own
    (tmp_path / "description.txt").write_text("Version two.")
    changes = refresh_listings(db, ctx.settings.mcp_servers, now=bot.clock.now(), only={"fake"})
    assert changes["fake"].changed == ("changing",)
    newer = current_catalogue(ctx)
    assert newer.version > catalogue.version
    assert next(tool for tool in newer.tools if tool.action == "fake.changing").pin != changing.pin


def test_slash_baton_tools_on_a_web_process_with_mcp_servers_shows_mcp_and_plugin_rows(
    bot,
    bot_with,  # noqa: F811  (the fixture imported from test_admin)
    db,
    tmp_path: Path,
    hello_site: Path,
    monkeypatch,
):
    """A web process configured with MCP servers (the test server, and ``mcp-server-time`` from PyPI) and a
    connector plugin installed answers ``/baton tools`` with their rows, risk, idempotency class and policy,
    from the stored listing, only to the person asking; a server never listed is named, not started."""
    monkeypatch.syspath_prepend(str(hello_site))  # the example plugin, installed with pip
    fake = stdio_server(
        tmp_path, tools={"crash": {"policy": "deny"}, "slow": {"idempotent": True}, "lookup": {"policy": "ask"}}
    )
    time_server = StdioServer(command=sys.executable, args=["-m", "mcp_server_time"])
    servers = McpConfig(servers={"fake": fake, "time": time_server, "never": stdio_server(tmp_path / "never")})
    refresh_listings(db, servers, now=bot.clock.now(), only={"fake", "time"})
    bot_with(mcp_servers=servers)
    before = calls(tmp_path)
    text = answer(bot, "tools", user="U0BOB")
    table = text[text.index("```") + 3 : text.rindex("```")].splitlines()
    rows = {line.split()[0]: line.split()[1:] for line in table[1:] if not line.startswith("unavailable:")}
    assert rows["fake.lookup"] == ["mcp:fake", "low", "idempotent", "ask"]
    assert rows["fake.append_line"] == ["mcp:fake", "high", "at", "most", "once", "ask"]
    assert rows["fake.keyed_append"] == ["mcp:fake", "high", "keyed", "ask"]
    assert rows["fake.slow"] == ["mcp:fake", "high", "idempotent", "ask"]
    assert rows["fake.crash"] == ["mcp:fake", "high", "at", "most", "once", "deny"]
    assert rows["time.get_current_time"] == ["mcp:time", "low", "idempotent", "allow"]
    assert rows["hello.append_line"][0] == "plugin:baton-plugin-hello"
    assert rows["slack.post_message"] == ["built-in", "by", "arguments", "keyed", "allow"]
    assert any(line.startswith("unavailable: never: not listed yet") for line in table)
    assert calls(tmp_path) == before  # answered from Postgres: no server was started or called
    assert not (tmp_path / "never").exists()
