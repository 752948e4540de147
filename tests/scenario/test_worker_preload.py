"""What a worker imports before it forks: every job module, and the MCP SDK (~30 MB resident) only when MCP servers
are configured. Each case runs in a fresh interpreter, since this process has imported much more already."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow  # a fresh interpreter per case

PRELOAD = textwrap.dedent(
    """
    import dataclasses
    import sys
    from pathlib import Path

    from baton.worker_process import preload_jobs_modules
    from core.mcp_config import McpConfig, StdioServer
    from core.settings import load_settings
    from workers.api import job_modules

    servers = {"git": StdioServer(command="mcp-server-git")} if sys.argv[1] == "with" else {}
    settings = load_settings({}, default_home=Path("/var/lib/baton-test"))
    settings = dataclasses.replace(settings, mcp_servers=McpConfig(servers=servers))
    assert "mcp" not in sys.modules, "importing the worker loads the MCP SDK"
    preload_jobs_modules(settings)
    assert set(job_modules()) <= set(sys.modules)
    print(sorted(name for name in ("mcp", "mcp.client.stdio", "mcp.client.streamable_http") if name in sys.modules))
    """
)


@pytest.mark.parametrize(
    ("servers", "loaded"), [("without", []), ("with", ["mcp", "mcp.client.stdio", "mcp.client.streamable_http"])]
)
def test_the_mcp_sdk_is_preloaded_only_with_mcp_servers(servers, loaded):
    done = subprocess.run(
        [sys.executable, "-c", PRELOAD, servers],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == repr(loaded)
