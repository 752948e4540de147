"""Synthetic MCP tool catalogues and planning requests for the prompt-token benchmarks.

Tools are generated from the objects and verbs of 16 well-known services, each with a one-sentence description
and a JSON schema of two to four described arguments, the way real MCP servers list them (GitHub, Jira, Linear,
PagerDuty...). The first tools of every catalogue are the ones the requests below need, so a catalogue of 10,
50 or 200 tools holds the same needed tools where it can.
"""

from __future__ import annotations

from typing import Any

#: service -> (product name, objects it manages).
_SERVICES: dict[str, tuple[str, tuple[str, ...]]] = {
    "github": ("GitHub", ("issue", "pull_request", "branch", "release", "workflow_run", "repository_file")),
    "jira": ("Jira", ("issue", "sprint", "comment", "project_version")),
    "linear": ("Linear", ("issue", "cycle", "project", "label")),
    "pagerduty": ("PagerDuty", ("incident", "on_call_schedule", "maintenance_window", "escalation_policy")),
    "datadog": ("Datadog", ("monitor", "dashboard", "downtime", "log_query")),
    "sentry": ("Sentry", ("error_issue", "release_health", "alert_rule")),
    "notion": ("Notion", ("page", "database_row", "comment")),
    "confluence": ("Confluence", ("page", "space", "attachment")),
    "gcal": ("Google Calendar", ("event", "calendar", "free_busy_window")),
    "gdrive": ("Google Drive", ("file", "folder", "sharing_permission")),
    "zendesk": ("Zendesk", ("ticket", "macro", "customer")),
    "hubspot": ("HubSpot", ("contact", "deal", "company")),
    "stripe": ("Stripe", ("refund", "invoice", "customer", "subscription")),
    "k8s": ("Kubernetes", ("deployment", "pod", "config_map")),
    "aws": ("AWS", ("s3_bucket", "ec2_instance", "lambda_function")),
    "postgres": ("PostgreSQL", ("query", "table", "backup")),
}

_VERBS: dict[str, tuple[str, bool]] = {
    # verb -> (how the description starts, read-only?)
    "create": ("Create a new", False),
    "get": ("Get the details of one", True),
    "list": ("List", True),
    "update": ("Update the fields of an existing", False),
    "delete": ("Delete an existing", False),
    "search": ("Search by text for", True),
}

#: (request, the action it needs): each request names a need in its own words.
REQUESTS: tuple[tuple[str, str], ...] = (
    ("open a GitHub issue about the flaky login test in the api repo", "github.create_issue"),
    ("create a Jira issue for the billing export bug, assign it to me", "jira.create_issue"),
    ("page the on-call: create a PagerDuty incident for the checkout outage", "pagerduty.create_incident"),
    ("mute the disk space monitor in Datadog with a downtime until tomorrow 9am", "datadog.create_downtime"),
    ("refund the last payment of customer cus_123 in Stripe", "stripe.create_refund"),
    ("list the open pull requests on GitHub for the web repo", "github.list_pull_request"),
    ("schedule a Google Calendar event for the retro on friday at 3pm", "gcal.create_event"),
    ("search Confluence for the runbook page about database failover", "confluence.search_page"),
    ("restart the payments deployment in kubernetes (update its deployment)", "k8s.update_deployment"),
    ("what's the status of the Sentry error issue SENTRY-88?", "sentry.get_error_issue"),
    ("create a new branch release-2.4 in the GitHub repo acme/api", "github.create_branch"),
    ("add a Notion page with the meeting notes from today", "notion.create_page"),
    ("close Zendesk ticket 4411 as solved", "zendesk.update_ticket"),
    ("list the EC2 instances running in AWS", "aws.list_ec2_instance"),
    ("update the HubSpot deal for Acme to closed won", "hubspot.update_deal"),
    ("who is on call this week? check the PagerDuty on call schedule", "pagerduty.get_on_call_schedule"),
    ("share the Q3 report file in Google Drive with the finance folder", "gdrive.create_sharing_permission"),
    ("run a postgres query to count yesterday's signups", "postgres.create_query"),
    ("create a Linear issue to track the onboarding copy change", "linear.create_issue"),
    ("delete the stale config map old-flags in kubernetes", "k8s.delete_config_map"),
)


def all_tools() -> list[dict[str, Any]]:
    """Every generated tool as ``{"server", "name", "description", "inputSchema", "annotations"}``, the needed
    ones first."""
    tools = {f"{t['server']}.{t['name']}": t for t in _generate()}
    needed = [action for _, action in REQUESTS]
    missing = [action for action in needed if action not in tools]
    if missing:
        raise ValueError(f"requests need tools that are not generated: {missing}")
    return [tools[action] for action in dict.fromkeys(needed)] + [t for a, t in tools.items() if a not in needed]


def _generate() -> list[dict[str, Any]]:
    tools = []
    for server, (product, objects) in _SERVICES.items():
        for thing in objects:
            words = thing.replace("_", " ")
            for verb, (opening, read_only) in _VERBS.items():
                plural = verb in ("list", "search")
                noun = f"{words}s" if plural else words
                description = f"{opening} {noun} in {product}." + _more(verb, words, product)
                tools.append(
                    {
                        "server": server,
                        "name": f"{verb}_{thing}",
                        "description": description,
                        "inputSchema": _schema(verb, words, product),
                        "annotations": {"readOnlyHint": read_only, "destructiveHint": verb == "delete"},
                    }
                )
    return tools


def _more(verb: str, words: str, product: str) -> str:
    if verb == "create":
        return f" Returns the new {words}'s id and URL."
    if verb == "update":
        return f" Only the fields given are changed; the {words} keeps its id."
    if verb == "delete":
        return " This cannot be undone."
    if verb in ("list", "search"):
        return " Results are paged: pass the cursor of the previous page to get the next one (max 100 per page)."
    return f" Includes its status, owner and timestamps as {product} reports them."


def _schema(verb: str, words: str, product: str) -> dict[str, Any]:
    props: dict[str, Any] = {}
    required: list[str] = []
    if verb in ("get", "update", "delete"):
        props["id"] = {"type": "string", "description": f"The {product} id of the {words}."}
        required.append("id")
    if verb in ("create", "update"):
        props["title"] = {"type": "string", "description": f"Title or name of the {words}."}
        props["body"] = {"type": "string", "description": f"Longer text of the {words} (Markdown)."}
        props["labels"] = {"type": "array", "items": {"type": "string"}, "description": "Labels or tags to set."}
        if verb == "create":
            required.append("title")
    if verb in ("list", "search"):
        if verb == "search":
            props["query"] = {"type": "string", "description": f"Words to look for in the {words}s."}
            required.append("query")
        props["limit"] = {"type": "integer", "minimum": 1, "maximum": 100, "description": "How many to return."}
        props["cursor"] = {"type": "string", "description": "The cursor of the previous page, if any."}
    return {"type": "object", "properties": props, "required": required}
