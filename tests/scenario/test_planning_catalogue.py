"""A large catalogue (200 MCP tools) against the fake OpenAI server: the planning prompt stays within its budget
and still offers the tool the request needs, which the model can then plan with."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from connectors.mcp_tool import McpTool
from connectors.registry import ConnectorRegistry
from core import defaults
from core.mcp_config import McpConfig
from core.mcp_tools import ToolDefinition, tool_terms
from core.planning.tool_relevance import JSON_CHARS_PER_TOKEN
from tests.scenario.test_planning import CONTEXT, NOW, ORIGIN, REGISTRY, TZ, client
from workers.llm.client import LLMCallRecord
from workers.planning.make import make_plan

SERVER = McpConfig.model_validate({"servers": {"ops": {"command": "true"}}}).servers["ops"]  # never started
OBJECTS = ["issue", "branch", "incident", "monitor", "invoice", "ticket", "page", "deployment", "secret", "backup"]
VERBS = ["create", "get", "list", "update", "delete"]
#: What the whole prompt (messages and schema) may cost with the catalogue cut to its budget: the budget plus the
#: rules, the request and its context.
PROMPT_BUDGET_TOKENS = defaults.PLANNER_CATALOGUE_TOKENS + 1_500


def mcp_tool(server: str, verb: str, thing: str) -> McpTool:
    definition = ToolDefinition(
        server=server,
        name=f"{verb}_{thing}",
        description=f"{verb.capitalize()} a {thing} in the {server} service. Returns the {thing} as JSON.",
        input_schema={
            "type": "object",
            "properties": {
                "id": {"type": "string", "description": f"The {thing}'s id in {server}."},
                "note": {"type": "string", "description": "A free-text note kept with the change."},
            },
            "required": ["id"],
        },
    )
    return McpTool(definition, tool_terms(definition, SERVER.baton, default_timeout=5), server=SERVER)


TOOLS = [mcp_tool(f"svc{n}", verb, thing) for n in range(4) for verb in VERBS for thing in OBJECTS]
LARGE = ConnectorRegistry([*(REGISTRY.get(action) for action in REGISTRY.actions), *TOOLS])
LARGE_CONTEXT = replace(CONTEXT, catalogue=tuple(LARGE.catalogue()))


@pytest.fixture
def calls() -> list[LLMCallRecord]:
    return []


def estimated_tokens(body: dict[str, Any]) -> int:
    text = "".join(m["content"] for m in body["messages"]) + json.dumps(body["response_format"])
    return len(text) // JSON_CHARS_PER_TOKEN


@pytest.mark.parametrize(
    ("request_text", "needed"),
    [
        ("rotate the secret of the payments database with svc2.update_secret", "svc2.update_secret"),
        ("in svc3, delete the backup bk-17 we made by mistake", "svc3.delete_backup"),
    ],
    ids=["named", "described"],
)
def test_200_tools_stay_within_the_budget_and_the_needed_tool_is_offered(fake_openai, calls, request_text, needed):
    assert len(TOOLS) == 200
    step = {"action": needed, "args": {"id": "x1"}, "description": "Do it", "depends_on": []}
    fake_openai.queue_chat({"title": "Do it", "rationale": "Asked.", "steps": [step], "cannot_plan_reason": None})

    outcome = make_plan(
        request_text=request_text,
        context=LARGE_CONTEXT,
        origin=ORIGIN,
        registry=LARGE,
        llm=client(fake_openai, calls),
        now=NOW,
        tz=TZ,
    )

    [request] = fake_openai.chat_requests
    body = request.body
    system = body["messages"][0]["content"]
    variants = body["response_format"]["json_schema"]["schema"]["properties"]["steps"]["items"]["anyOf"]
    offered = {variant["properties"]["action"]["const"] for variant in variants}
    assert needed in offered and f'"action": "{needed}"' in system
    assert set(REGISTRY.actions) <= offered  # every built-in, always
    assert len(offered) < 60
    assert estimated_tokens(body) <= PROMPT_BUDGET_TOKENS
    # The same request offered every tool would be many times the budget.
    assert sum(len(json.dumps(entry)) for entry in LARGE.catalogue()) // JSON_CHARS_PER_TOKEN > 5 * PROMPT_BUDGET_TOKENS
    assert outcome.plan is not None and [s.action for s in outcome.plan.steps] == [needed]
