"""Which actions the planner is offered from a large catalogue: BM25 ranking, named tools, the token budget."""

from __future__ import annotations

from typing import Any

from core.planning.tool_relevance import bm25_scores, entry_cost, names_tool, select_actions, words


def tool(action: str, summary: str, **args: str) -> dict[str, Any]:
    properties = {name: {"type": "string", "description": text} for name, text in args.items()}
    return {
        "action": action,
        "summary": summary,
        "read_only": False,
        "compensable": False,
        "args_schema": {"type": "object", "properties": properties},
        "source": f"mcp:{action.split('.')[0]}",
    }


BUILT_IN = {
    "action": "slack.post_message",
    "summary": "Post a message to a channel.",
    "args_schema": {"type": "object", "properties": {"text": {"type": "string"}}},
}
BRANCH = tool("git.create_branch", "Create a new branch in a git repository.", name="Branch name.")
ISSUE = tool("tracker.create_issue", "Open an issue in the bug tracker.", title="Issue title.")
REFUND = tool("billing.refund_payment", "Refund a customer's payment.", payment="Payment id.")
FILLER = [tool(f"misc{i}.do_thing_{i}", f"Unrelated chore number {i} for the archive.") for i in range(60)]
CATALOGUE = [BUILT_IN, BRANCH, ISSUE, REFUND, *FILLER]


def actions(entries: list[Any]) -> list[str]:
    return [entry["action"] for entry in entries]


def test_a_catalogue_that_fits_is_offered_whole_and_in_order():
    small = [BUILT_IN, BRANCH, ISSUE]
    assert select_actions(small, request="anything", budget_tokens=10_000) == small


def test_past_the_budget_the_relevant_tools_are_offered_with_every_built_in():
    budget = entry_cost(BUILT_IN) + entry_cost(BRANCH) + entry_cost(ISSUE)
    assert sum(entry_cost(entry) for entry in CATALOGUE) > budget
    chosen = select_actions(CATALOGUE, request="please make new branches for the release", budget_tokens=budget)
    assert actions(chosen) == ["slack.post_message", "git.create_branch"]  # "branches" matches "branch"


def test_tools_are_taken_best_first_while_they_fit_and_never_past_the_budget():
    budget = entry_cost(BUILT_IN) + entry_cost(ISSUE) + 5
    chosen = select_actions(CATALOGUE, request="open an issue about the branch", budget_tokens=budget)
    assert sum(entry_cost(entry) for entry in chosen) <= budget
    # Both match, only one fits: the one whose summary shares more with the request.
    assert actions(chosen) == ["slack.post_message", "tracker.create_issue"]


def test_a_tool_sharing_no_word_with_the_request_is_not_offered():
    chosen = select_actions(CATALOGUE, request="what's the weather like?", budget_tokens=entry_cost(BUILT_IN) + 500)
    assert actions(chosen) == ["slack.post_message"]


def test_a_tool_the_request_names_is_always_offered_even_past_the_budget():
    chosen = select_actions(CATALOGUE, request="run misc42.do_thing_42 now", budget_tokens=1)
    assert actions(chosen) == ["slack.post_message", "misc42.do_thing_42"]
    by_bare_name = select_actions(CATALOGUE, request="use do_thing_7 please", budget_tokens=1)
    assert actions(by_bare_name) == ["slack.post_message", "misc7.do_thing_7"]


def test_the_thread_counts_but_less_than_the_request():
    budget = entry_cost(BUILT_IN) + max(entry_cost(ISSUE), entry_cost(REFUND)) + 5
    chosen = select_actions(CATALOGUE, request="refund it", thread="the issue is about a bug", budget_tokens=budget)
    assert actions(chosen) == ["slack.post_message", "billing.refund_payment"]
    from_thread = select_actions(CATALOGUE, request="do it", thread="we should refund", budget_tokens=budget)
    assert actions(from_thread) == ["slack.post_message", "billing.refund_payment"]


def test_names_tool_matches_identifiers_not_english_words():
    assert names_tool("call git.create_branch", BRANCH)
    assert names_tool("call create_branch for me", BRANCH)
    assert not names_tool("call create_branch_protection", BRANCH)  # another identifier that starts alike
    search = tool("docs.search", "Search the docs.")
    assert not names_tool("search the docs for the runbook", search)  # a plain word is not a name
    assert names_tool("use docs.search", search)
    assert names_tool("run getUser", tool("crm.getUser", "Get a user."))


def test_words_are_split_stemmed_and_stripped_of_stopwords():
    assert words("createBranch for the release_branches") == ["creat", "branch", "releas", "branch"]
    assert words("What is it?") == []


def test_bm25_prefers_rare_words_repeated_words_and_short_documents():
    docs = [["branch", "git"], ["branch", "git", "repo", "commit", "push", "pull"], ["issue"], ["git"]]
    scores = bm25_scores(docs, {"branch": 1.0, "git": 1.0})
    assert scores[0] > scores[1] > scores[3] > scores[2] == 0.0
    rare = bm25_scores([["git", "branch"], ["git"], ["git"]], {"git": 1.0, "branch": 1.0})
    assert rare[0] > rare[1]  # "branch" (one document) adds more than "git" (every document) does
    assert bm25_scores([], {"git": 1.0}) == []
