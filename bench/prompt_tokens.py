"""Prompt tokens of one planning call, counted with a real tokenizer, before and after (same run).

Each request goes through ``workers.planning.make.make_plan`` exactly as a worker runs it, with the real built-in
connectors (and N synthetic MCP tools, ``bench/tool_data.py``); the chat request Baton sends is captured by a
loopback server that answers "cannot plan", so one call is made per request. The captured body (messages and
``response_format``, as sent) is counted with OpenAI's ``o200k_base`` encoding (``bpe-openai`` ships the BPE
ranks in its wheel; ``tiktoken`` would download them at run time): each message's content plus 3 tokens of
framing, 3 for the reply's priming, and the ``response_format`` JSON as sent.

"Before" renders with another commit's code: ``git archive <ref>`` into a temporary folder and this file run
there as a child process (``--render``), its bodies handed back as JSON, counted here with the same tokenizer.

    python -m bench.prompt_tokens                       # after (this tree) and before (--before cf8b0d4)
    python -m bench.prompt_tokens --tools 0,10,50,200   # catalogue sizes (MCP tools besides the built-ins)
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_BEFORE = "cf8b0d4"
MODEL = "gpt-4o"

#: 20 varied planning requests (posting, scheduling, tasks, memory, webhooks, refusals, long and short).
REQUESTS: tuple[str, ...] = (
    "post the release notes to #eng: v2.4 ships the new billing page and fixes the CSV export",
    "remind me to call Ana at 3pm",
    "create a task for <@U0SAM> to update the docs by friday",
    "remember that the staging database is reset every Monday at 6am",
    "tell <#C0ENG|eng> that the deploy finished at noon and thank <@U0BOB> for the rollback plan",
    "schedule a message in this channel for tomorrow 9am: standup moves to room 4",
    "mark task 42 as done",
    "send a DM to <@U0ANN> saying the invoices are ready for review",
    "notify the deploy webhook that version 2.4.1 is live",
    "can you summarise this thread and post the summary here?",
    "create tasks for <@U0SAM> (write the postmortem, due monday) and <@U0BOB> (fix the alert, due tuesday)",
    "remember that I prefer to get reminders in a DM, not in channels",
    "every friday at 5pm remind the team to fill in their timesheets",
    "post in #general that the office is closed on the 24th, and remind me on the 23rd at 10am to lock up",
    "what's the weather like?",
    "delete all messages in #random",
    "we decided to move the launch to March 3rd; remember that as a decision for this channel",
    "reply in this thread: thanks, looking into it now",
    "create a task to renew the TLS certificate before 2026-01-15, owner <@U0OPS>",
    "hey baton, the customer call went well; they want a follow-up proposal by next week, can you set up a "
    "task for me, post a short note to <#C0SALES|sales> and remind me thursday morning to review the draft",
)


# --- child: render the requests with whatever code is on sys.path -------------------------------------------


class _Capture(BaseHTTPRequestHandler):
    """Records each chat request's body and answers with a plan that declines, so planning ends in one call."""

    bodies: ClassVar[list[dict[str, Any]]] = []
    REPLY = json.dumps({"title": "", "rationale": "", "steps": [], "cannot_plan_reason": "Benchmark: not planned."})

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", 0))
        self.bodies.append(json.loads(self.rfile.read(length)))
        payload = json.dumps(
            {
                "id": "bench",
                "object": "chat.completion",
                "created": 0,
                "model": MODEL,
                "choices": [
                    {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": self.REPLY}}
                ],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }
        ).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def _capture_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Capture)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def render(tools: list[dict[str, Any]], requests: list[str]) -> list[dict[str, Any]]:
    """The chat request bodies Baton sends to plan each of ``requests`` with ``tools`` as MCP tools."""
    # Imports here: the child runs this with another commit's code on sys.path (the parent needs none of it).
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from slack_sdk import WebClient

    from connectors.mcp_tool import McpTool
    from core.mcp_config import McpConfig
    from core.mcp_tools import ToolDefinition, tool_terms
    from core.planning.prompt_context import PlanningContext, ThreadMessage
    from core.settings import Settings
    from core.types import RequestOrigin
    from workers.connector_wiring import build_registry
    from workers.llm.client import LLMClient
    from workers.mcp_catalogue import McpCatalogue
    from workers.planning.make import make_plan

    server = McpConfig.model_validate({"servers": {"bench": {"command": "true"}}}).servers["bench"]
    mcp = []
    for tool in tools:
        definition = ToolDefinition(
            server=tool["server"],
            name=tool["name"],
            description=tool["description"],
            input_schema=tool["inputSchema"],
            annotations=tool["annotations"],
        )
        mcp.append(McpTool(definition, tool_terms(definition, server.baton, default_timeout=10), server=server))

    def no_database() -> Any:
        raise RuntimeError("the benchmark plans only")

    now = datetime(2026, 12, 3, 14, 7, 30, tzinfo=UTC)
    registry = build_registry(
        Settings(baton_home=Path(tempfile.gettempdir())),
        slack=WebClient(token="xoxb-bench"),
        connect=no_database,
        now=lambda: now,
        mcp=McpCatalogue(tools=tuple(mcp)),
    )
    origin = RequestOrigin(team_id="T0BENCH", channel_id="C0OPS", user_id="U0ANN", thread_ts="1764770850.000100")
    context = PlanningContext(
        requester_id="U0ANN",
        requester_name="Ann Example",
        channel_id="C0OPS",
        channel_name="ops",
        channel_purpose="Keeping the lights on",
        catalogue=tuple(registry.catalogue()),
        thread=(ThreadMessage("Bob", "the deploy finished at noon"), ThreadMessage("Ann Example", "great, thanks")),
    )
    _Capture.bodies = []
    with _capture_server() as base_url:
        llm = LLMClient(api_key="bench", base_url=base_url, model=MODEL, max_retries=0)
        for text in requests:
            make_plan(
                request_text=text,
                context=context,
                origin=origin,
                registry=registry,
                llm=llm,
                now=now,
                tz=ZoneInfo("Europe/Berlin"),
            )
    if len(_Capture.bodies) != len(requests):
        raise RuntimeError(f"expected one model call per request, got {len(_Capture.bodies)}")
    return _Capture.bodies


# --- parent: count --------------------------------------------------------------------------------------------


#: Where the list of actions starts in the system message (this tree's wording, and the old one's).
CATALOGUE_HEADINGS = ("Actions (JSON):", "Catalogue of actions (JSON):")


def count(body: dict[str, Any]) -> dict[str, int]:
    """Prompt tokens of one chat request body by part: system, user, schema (``response_format``) and total; and
    ``actions``, the part that grows with the catalogue (the system message from its list of actions on, plus the
    schema)."""
    import bpe_openai  # deferred: only the parent counts (the child may run where it is not installed)

    encoding = bpe_openai.get_encoding("o200k_base")
    parts = {"system": 0, "user": 0, "schema": 0}
    for message in body["messages"]:
        parts["system" if message["role"] == "system" else "user"] += 3 + len(encoding.encode(message["content"]))
    if body.get("response_format") is not None:
        parts["schema"] = len(encoding.encode(json.dumps(body["response_format"], separators=(",", ":"))))
    system = body["messages"][0]["content"]
    start = min((system.index(h) for h in CATALOGUE_HEADINGS if h in system), default=len(system))
    actions = len(encoding.encode(system[start:])) + parts["schema"]
    return parts | {"total": 3 + sum(parts.values()), "actions": actions}


def bodies_of(tree: Path | None, tools: list[dict[str, Any]], requests: list[str]) -> list[dict[str, Any]]:
    """Render in this process (``tree`` None) or in a child with ``tree`` first on its path."""
    if tree is None:
        return render(tools, requests)
    env = dict(os.environ, PYTHONPATH=str(tree))
    child = subprocess.run(
        [sys.executable, str(HERE / "prompt_tokens.py"), "--render"],
        cwd=tree,
        env=env,
        input=json.dumps({"tools": tools, "requests": requests}),
        capture_output=True,
        text=True,
        check=False,
    )
    if child.returncode != 0:
        raise RuntimeError(f"rendering in {tree} failed:\n{child.stderr[-3000:]}")
    return json.loads(child.stdout)  # type: ignore[no-any-return]


@contextlib.contextmanager
def checkout(ref: str) -> Iterator[Path]:
    """``ref``'s files in a temporary folder (``git archive``: no worktree is registered)."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", ref], capture_output=True, check=True)
    with tempfile.TemporaryDirectory(prefix="bench-prompt-") as folder:
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(folder, filter="data")
        yield Path(folder)


def offered(body: dict[str, Any], action: str) -> bool:
    """Whether ``action`` was offered to the model in ``body`` (its name in the prompt)."""
    return any(action in message["content"] for message in body["messages"])


def summary(bodies: list[dict[str, Any]]) -> dict[str, Any]:
    counts = [count(body) for body in bodies]
    return {part: round(statistics.median(c[part] for c in counts)) for part in counts[0]} | {
        "max_total": max(c["total"] for c in counts),
        "max_actions": max(c["actions"] for c in counts),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", default=DEFAULT_BEFORE, help="git ref to compare with (default %(default)s)")
    parser.add_argument("--tools", default="0,10,50,200", help="MCP tool counts besides the built-ins")
    parser.add_argument("--render", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.render:
        job = json.load(sys.stdin)
        json.dump(render(job["tools"], job["requests"]), sys.stdout)
        return 0
    # deferred: the child (--render) runs with another commit's tree on its path, which has no bench.tool_data
    from bench import tool_data

    catalogue = tool_data.all_tools()
    needs = list(tool_data.REQUESTS)
    results: dict[str, Any] = {"before_ref": args.before, "rows": []}
    print(
        f"prompt tokens per planning call (o200k_base), median of {len(REQUESTS)} requests; "
        f"tool rows: median of {len(needs)} requests each needing one tool"
    )
    print("| tools | code | system | user | schema | total | max total | actions (max) | needed tool offered |")
    print("|---|---|---|---|---|---|---|---|---|")
    with checkout(args.before) as before_tree:
        for n in (int(x) for x in args.tools.split(",")):
            tools = catalogue[:n]
            requests = list(REQUESTS) if n == 0 else [text for text, _ in needs]
            for label, tree in (("before", before_tree), ("after", None)):
                bodies = bodies_of(tree, tools, requests)
                row = {"tools": n, "code": label, **summary(bodies)}
                present = (
                    [
                        (body, action)
                        for body, (_, action) in zip(bodies, needs, strict=True)
                        if any(f"{t['server']}.{t['name']}" == action for t in tools)
                    ]
                    if n
                    else []
                )
                row["hits"] = f"{sum(offered(b, a) for b, a in present)}/{len(present)}" if n else "-"
                results["rows"].append(row)
                print(
                    f"| {n} | {label} | {row['system']} | {row['user']} | {row['schema']} | {row['total']} | "
                    f"{row['max_total']} | {row['max_actions']} | {row['hits']} |",
                    flush=True,
                )
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "prompt_tokens.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
