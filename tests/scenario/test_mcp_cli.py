"""``baton tools`` and ``baton doctor`` with MCP servers, and a malformed mcp.json stopping start-up in one line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from baton.doctor import _mcp_checks
from core.mcp_config import McpConfig, StdioServer
from core.settings import Settings
from tests.scenario.test_cli import run_baton

ROOT = Path(__file__).resolve().parents[2]


def write_config(path: Path, state: Path) -> Path:
    fake = {
        "command": sys.executable,
        "args": ["-m", "tests.fakes.mcp_server", str(state)],
        "cwd": str(ROOT),
        "env": {"PYTHONPATH": str(ROOT)},
        "baton": {"tools": {"crash": {"policy": "deny"}, "slow": {"idempotent": True}}},
    }
    broken = {"command": str(state / "no-such-server")}
    path.write_text(json.dumps({"mcpServers": {"fake": fake, "broken": broken}}))
    return path


def test_baton_tools_lists_built_ins_and_mcp_tools_with_risk_idempotency_and_policy(tmp_path: Path):
    config = write_config(tmp_path / "servers.json", tmp_path)
    done = run_baton(
        "tools", env={"BATON_HOME": str(tmp_path), "BATON_MCP_CONFIG": str(config), "PYTHONPATH": str(ROOT)}
    )
    assert done.returncode == 0, done.stderr
    rows = {line.split()[0]: line.split() for line in done.stdout.splitlines() if line and not line.startswith("unav")}
    assert rows["slack.post_message"][1:] == ["built-in", "by", "arguments", "keyed", "allow"]
    assert rows["fake.lookup"][1:] == ["mcp:fake", "low", "idempotent", "allow"]
    assert rows["fake.append_line"][1:] == ["mcp:fake", "high", "at", "most", "once", "ask"]
    assert rows["fake.keyed_append"][1:] == ["mcp:fake", "high", "keyed", "ask"]
    assert rows["fake.slow"][1:] == ["mcp:fake", "high", "idempotent", "ask"]
    assert rows["fake.crash"][-1] == "deny"
    assert any(line.startswith("unavailable: broken: ") for line in done.stdout.splitlines())


def test_a_malformed_mcp_json_stops_start_up_with_one_line(tmp_path: Path):
    (tmp_path / "mcp.json").write_text('{"mcpServers": {"git": {"command": "x", "baton": {"policy": "sometimes"}}}}')
    done = run_baton("tools", env={"BATON_HOME": str(tmp_path), "PYTHONPATH": str(ROOT)})
    assert done.returncode == 1
    line = f"baton: error: {tmp_path / 'mcp.json'}: server 'git': baton.policy: "
    assert done.stderr.startswith(line) and done.stderr.count("\n") == 1
    missing = run_baton("config", env={"BATON_HOME": str(tmp_path), "BATON_MCP_CONFIG": str(tmp_path / "nope.json")})
    assert missing.returncode == 1 and "nope.json: not found (BATON_MCP_CONFIG names it)" in missing.stderr


def test_doctor_reports_each_server(tmp_path: Path):
    servers = {
        "fake": StdioServer(
            command=sys.executable, args=["-m", "tests.fakes.mcp_server", str(tmp_path)], cwd=str(ROOT)
        ),
        "broken": StdioServer(command=str(tmp_path / "no-such-server")),
    }
    checks = {c.name: c for c in _mcp_checks(Settings(baton_home=tmp_path, mcp_servers=McpConfig(servers=servers)))}
    assert checks["mcp fake"].ok and checks["mcp fake"].detail == "9 tools"
    assert not checks["mcp broken"].ok and "Baton runs without its tools" in checks["mcp broken"].detail
