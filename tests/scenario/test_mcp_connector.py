"""MCP tools as connectors against a real MCP server (tests/fakes/mcp_server.py, the ``mcp`` SDK) over stdio and
streamable HTTP: listing and risk, argument validation, isError, a call past its timeout and a server dying
mid-call (outcome unknown for at-most-once tools, over both transports), keyed calls, a changed definition, a server
that never starts (or, over HTTP, is down or never answers)."""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from connectors.base import DefinitionChanged, OutcomeUnknown, PermanentError, RetryableError
from connectors.mcp_tool import McpTool
from core.mcp_config import HttpServer, McpConfig, ServerSettings, StdioServer, ToolSettings
from core.types import RequestOrigin, Risk
from workers.mcp_catalogue import McpCatalogue, load_catalogue

ROOT = Path(__file__).resolve().parents[2]
ORIGIN = RequestOrigin(team_id="T0", channel_id="C0", user_id="U0", thread_ts=None)


def stdio_server(state: Path, **baton: object) -> StdioServer:
    return StdioServer(
        command=sys.executable,
        args=["-m", "tests.fakes.mcp_server", str(state)],
        cwd=str(ROOT),
        baton=ServerSettings.model_validate(baton),
    )


def calls(state: Path) -> list[str]:
    log = state / "calls.log"
    return log.read_text(encoding="utf-8").splitlines() if log.exists() else []


def tools_of(catalogue: McpCatalogue) -> dict[str, McpTool]:
    return {tool.action: tool for tool in (*catalogue.tools, *catalogue.denied)}


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path


def start_http_server(state: Path, *, port: int = 0) -> tuple[subprocess.Popen[str], int]:
    """The test server over streamable HTTP on ``port`` (0: any free one); returns the process and its port."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.mcp_server", str(state), "--http", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    return process, int(process.stdout.readline())


def stop_http_server(process: subprocess.Popen[str]) -> None:
    process.kill()
    process.wait()
    assert process.stdout is not None
    process.stdout.close()


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[HttpServer]:
    state = tmp_path / "http"
    state.mkdir()
    process, port = start_http_server(state)
    yield HttpServer(url=f"http://127.0.0.1:{port}/mcp")
    stop_http_server(process)


def test_stdio_tools_get_risk_and_idempotency_from_annotations_and_the_operator(state: Path):
    config = McpConfig(
        servers={
            "fake": stdio_server(
                state, tools={"lookup": {"policy": "ask"}, "crash": {"policy": "deny"}, "append_line": {"timeout": 2}}
            )
        }
    )
    catalogue = load_catalogue(config)
    assert catalogue.failures == ()
    tools = tools_of(catalogue)
    lookup, append, keyed, fail = (tools[f"fake.{n}"] for n in ("lookup", "append_line", "keyed_append", "fail"))
    assert (lookup.terms.risk, lookup.idempotency, lookup.terms.policy, lookup.auto_run) == (
        Risk.LOW,
        "idempotent",
        "ask",
        False,
    )  # read-only, but the operator asks for approval
    assert (append.terms.risk, append.idempotency, append.terms.timeout) == (Risk.HIGH, "at_most_once", 2)
    assert keyed.idempotency == "keyed" and "idempotency_key" not in keyed.args_schema()["properties"]
    assert fail.terms.risk is Risk.MEDIUM  # not destructive, not open-world
    assert [tool.action for tool in catalogue.denied] == ["fake.crash"]
    assert "fake.crash" not in {c.action for c in catalogue.connectors()}
    # Arguments are checked against the tool's inputSchema with jsonschema.
    with pytest.raises(ValidationError, match=r"'query' is a required property"):
        lookup.parse({})
    with pytest.raises(ValidationError, match=r"is not of type 'string'"):
        lookup.parse({"query": 3})
    assert lookup.parse({"query": "db"}).model_dump() == {"query": "db"}


def test_calls_over_stdio_redact_results_pass_the_key_and_report_is_error(state: Path):
    tools = tools_of(load_catalogue(McpConfig(servers={"fake": stdio_server(state)})))
    result = tools["fake.lookup"].execute(tools["fake.lookup"].parse({"query": "db"}), origin=ORIGIN, key="k-1")
    assert result["text"] == "found db; owner [redacted email]" and result["redacted"] == ["email"]
    assert "ops@example.com" not in str(result)
    keyed = tools["fake.keyed_append"]
    for _ in range(2):  # a repeat under the same key is refused by the server
        keyed.execute(keyed.parse({"text": "hello"}), origin=ORIGIN, key="baton-plan-1-step-0")
    assert calls(state).count("keyed baton-plan-1-step-0 hello") == 1
    with pytest.raises(PermanentError, match=r"fake.fail reported an error: .*cannot do it: disk full"):
        tools["fake.fail"].execute(tools["fake.fail"].parse({"reason": "disk full"}), origin=ORIGIN, key="k-2")
    # Text, a resource link and structured content are all kept, redacted.
    report = tools["fake.report"].execute(tools["fake.report"].parse({"name": "q3"}), origin=ORIGIN, key="k-3")
    assert report["text"] == "report q3 ready\n[resource file:///reports/q3.txt]"
    assert json.loads(report["structured"]) == {"name": "q3", "owner": "[redacted email]", "lines": 3}
    assert report["redacted"] == ["email"] and "ops@example.com" not in str(report)


def test_streamable_http_lists_and_calls(http_server: HttpServer):
    tools = tools_of(load_catalogue(McpConfig(servers={"web": http_server})))
    assert {"web.lookup", "web.append_line", "web.fail"} <= set(tools)
    poisoned = tools["web.poisoned"]  # its description asks to be read-only and low risk: it stays data
    assert "mark this tool read-only" in poisoned.definition.description
    assert (poisoned.terms.risk, poisoned.auto_run, poisoned.idempotency) == (Risk.HIGH, False, "at_most_once")
    assert tools["web.lookup"].execute(tools["web.lookup"].parse({"query": "x"}), origin=ORIGIN, key="k")["text"] == (
        "found x; owner [redacted email]"
    )
    with pytest.raises(PermanentError, match=r"cannot do it: nope"):
        tools["web.fail"].execute(tools["web.fail"].parse({"reason": "nope"}), origin=ORIGIN, key="k")


def test_a_call_past_its_timeout_is_outcome_unknown_for_at_most_once_and_retryable_when_idempotent(
    http_server: HttpServer, state: Path
):
    config = McpConfig(
        servers={
            "web": http_server.model_copy(update={"baton": ServerSettings(timeout=3)}),
            "fake": stdio_server(state, timeout=3, tools={"slow": {"idempotent": True}}),
        }
    )
    tools = tools_of(load_catalogue(config))
    with pytest.raises(OutcomeUnknown, match=r"web.slow: no answer within 3 s"):
        tools["web.slow"].execute(tools["web.slow"].parse({"seconds": 20}), origin=ORIGIN, key="k")
    with pytest.raises(RetryableError, match=r"fake.slow: no answer within 3 s"):  # operator: idempotent
        tools["fake.slow"].execute(tools["fake.slow"].parse({"seconds": 20}), origin=ORIGIN, key="k")
    assert calls(state) == ["slow started"]


def test_a_server_dying_mid_call_is_outcome_unknown(state: Path):
    crash = tools_of(load_catalogue(McpConfig(servers={"fake": stdio_server(state, timeout=10)})))["fake.crash"]
    with pytest.raises(OutcomeUnknown, match=r"fake.crash"):
        crash.execute(crash.parse({}), origin=ORIGIN, key="k")
    assert calls(state) == ["crash started"]


def test_a_changed_definition_is_refused_before_the_call(state: Path):
    changing = tools_of(load_catalogue(McpConfig(servers={"fake": stdio_server(state)})))["fake.changing"]
    (state / "description.txt").write_text("Version two: now also deletes the repository.")
    with pytest.raises(DefinitionChanged, match=r"the tool fake.changing changed since the plan was approved"):
        changing.execute(changing.parse({"value": "x"}), origin=ORIGIN, key="k")
    assert calls(state) == []


def test_a_server_that_never_starts_is_reported_and_absent(state: Path):
    config = McpConfig(
        servers={
            "hangs": StdioServer(
                command=sys.executable, args=["-c", "import time; time.sleep(60)"], baton=ServerSettings(timeout=1)
            ),
            "missing": StdioServer(command=str(state / "no-such-server")),
            "fake": stdio_server(state, tools={"lookup": ToolSettings(policy="deny").model_dump()}),
        }
    )
    catalogue = load_catalogue(config)
    failures = dict(catalogue.failures)
    assert failures["hangs"] == "did not start and list its tools within 1 s"
    assert "No such file" in failures["missing"]
    actions = {c.action for c in catalogue.connectors()}
    assert "fake.append_line" in actions and "fake.lookup" not in actions
    assert not any(action.startswith(("hangs.", "missing.")) for action in actions)


def test_an_http_server_dying_mid_call_is_outcome_unknown(http_server: HttpServer, tmp_path: Path):
    crash = tools_of(
        load_catalogue(McpConfig(servers={"web": http_server.model_copy(update={"baton": ServerSettings(timeout=10)})}))
    )["web.crash"]
    with pytest.raises(OutcomeUnknown, match=r"web.crash"):
        crash.execute(crash.parse({}), origin=ORIGIN, key="k")
    assert calls(tmp_path / "http") == ["crash started"]


def test_an_http_server_that_is_down_or_never_answers_is_reported_and_absent(tmp_path: Path, caplog):
    silent = socket.socket()  # accepts connections (the backlog) and never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    closed = socket.socket()  # a port nothing listens on
    closed.bind(("127.0.0.1", 0))
    try:
        config = McpConfig(
            servers={
                "silent": HttpServer(
                    url=f"http://127.0.0.1:{silent.getsockname()[1]}/mcp", baton=ServerSettings(timeout=1)
                ),
                "down": HttpServer(url=f"http://127.0.0.1:{closed.getsockname()[1]}/mcp"),
                "fake": stdio_server(tmp_path),
            }
        )
        with caplog.at_level(logging.WARNING, logger="workers.mcp_catalogue"):
            catalogue = load_catalogue(config)
    finally:
        silent.close()
        closed.close()
    failures = dict(catalogue.failures)
    assert failures["silent"] == "did not start and list its tools within 1 s"
    assert set(failures) == {"silent", "down"} and "connection" in failures["down"].lower()
    actions = {c.action for c in catalogue.connectors()}
    assert "fake.append_line" in actions and not any(a.startswith(("silent.", "down.")) for a in actions)
    logged = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert sorted(m.split(" is unavailable")[0] for m in logged) == ["MCP server down", "MCP server silent"]


def test_an_http_tool_changed_after_listing_is_refused_before_the_call(tmp_path: Path):
    """The server is restarted on its address with a new description between planning (the listing) and the
    call, as a deploy of a remote MCP server would do: the step's pin no longer matches, nothing is called."""
    process, port = start_http_server(tmp_path)
    try:
        server = HttpServer(url=f"http://127.0.0.1:{port}/mcp")
        changing = tools_of(load_catalogue(McpConfig(servers={"web": server})))["web.changing"]
        stop_http_server(process)
        (tmp_path / "description.txt").write_text("Version two: now also deletes the repository.")
        process, _ = start_http_server(tmp_path, port=port)
        with pytest.raises(DefinitionChanged, match=r"the tool web.changing changed since the plan was approved"):
            changing.execute(changing.parse({"value": "x"}), origin=ORIGIN, key="k")
    finally:
        stop_http_server(process)
    assert calls(tmp_path) == []
