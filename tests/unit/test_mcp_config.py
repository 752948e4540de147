"""mcp.json: the format other MCP clients read, Baton's section, ${VAR} from the environment, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from baton.config import CommandError, read_mcp_config
from core.mcp_config import HttpServer, McpConfigError, StdioServer, parse_mcp_config
from core.types import Risk

ENV = {"TRACKER_TOKEN": "s3cret", "GIT_DIR": "/tmp/repo"}


def parse(document: object) -> object:
    return parse_mcp_config(json.dumps(document), source="/etc/baton/mcp.json", env=ENV)


def test_stdio_and_http_servers_with_baton_settings_and_variables():
    config = parse(
        {
            "mcpServers": {
                "time": {"command": "uvx", "args": ["mcp-server-time"], "env": {"REPO": "${GIT_DIR}/x"}},
                "tracker": {
                    "url": "https://mcp.example.com/mcp",
                    "headers": {"Authorization": "Bearer ${TRACKER_TOKEN}"},
                    "baton": {
                        "risk": "medium",
                        "timeout": 5,
                        "tools": {"delete_issue": {"policy": "deny"}, "get": {"risk": "low", "idempotent": True}},
                    },
                },
            }
        }
    )
    time, tracker = config.servers["time"], config.servers["tracker"]
    assert isinstance(time, StdioServer) and time.env == {"REPO": "/tmp/repo/x"}
    assert isinstance(tracker, HttpServer) and tracker.headers == {"Authorization": "Bearer s3cret"}
    deleting = tracker.baton.for_tool("delete_issue")
    assert deleting.policy == "deny" and deleting.risk is Risk.MEDIUM and deleting.timeout == 5
    getting = tracker.baton.for_tool("get")
    assert getting.risk is Risk.LOW and getting.idempotent is True and getting.policy is None


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ({"mcpServers": {"a.b": {"command": "x"}}}, "server 'a.b': a name is letters"),
        ({"mcpServers": {"s": {"command": "x", "url": "http://h"}}}, "server 's': needs exactly one of"),
        ({"mcpServers": {"s": {"args": []}}}, "server 's': needs exactly one of"),
        ({"mcpServers": {"s": {"command": "x", "cmd": "y"}}}, "server 's': cmd: Extra inputs are not permitted"),
        ({"mcpServers": {"s": {"url": "ftp://h"}}}, "server 's': url: Value error, must be an http"),
        ({"mcpServers": {"s": {"command": "x", "baton": {"policy": "maybe"}}}}, "server 's': baton.policy"),
        (
            {"mcpServers": {"s": {"command": "x", "baton": {"tools": {"t": {"risk": "huge"}}}}}},
            "server 's': baton.tools.t.risk",
        ),
        (
            {"mcpServers": {"s": {"url": "http://h", "headers": {"A": "${NOT_SET}"}}}},
            "server 's': ${NOT_SET} is used but not set",
        ),
        ({"servers": {}}, "unknown top-level key 'servers'"),
        ([], "must be a JSON object"),
    ],
)
def test_a_malformed_file_is_one_line_naming_file_server_and_problem(document, problem):
    with pytest.raises(McpConfigError) as raised:
        parse(document)
    message = str(raised.value)
    assert message.startswith("/etc/baton/mcp.json: ") and problem in message and "\n" not in message


def test_not_json_names_the_line():
    with pytest.raises(McpConfigError, match=r"mcp.json: not JSON .* line 2"):
        parse_mcp_config('{\n"mcpServers": }', source="mcp.json", env={})


def test_reading_the_file_at_the_entry_point(tmp_path: Path):
    assert read_mcp_config(tmp_path / "mcp.json", explicit=False).servers == {}
    with pytest.raises(CommandError, match="not found"):
        read_mcp_config(tmp_path / "mcp.json", explicit=True)
    (tmp_path / "mcp.json").write_text('{"mcpServers": {"t": {"command": "x", "baton": {"risk": 3}}}}')
    with pytest.raises(CommandError, match=r"mcp.json: server 't': baton.risk"):
        read_mcp_config(tmp_path / "mcp.json", explicit=False)
