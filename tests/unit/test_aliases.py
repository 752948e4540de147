"""Chat aliases and ``/baton run`` lines: pattern parsing, matching, extraction, quoting, no match, drafts."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.aliases import (
    AliasError,
    RunLine,
    RunSyntaxError,
    coerce,
    match,
    parse_pattern,
    parse_run,
    render_args,
    tokenize,
)
from core.mcp_config import AliasConfig, McpConfigError, parse_mcp_config
from core.planning.alias_plans import alias_draft, find_alias, run_draft

BRANCH = parse_pattern("create branch {name} in {repo}")


def test_a_pattern_matches_words_case_insensitively_and_captures_fields():
    assert match(BRANCH, "create branch hotfix in api") == {"name": "hotfix", "repo": "api"}
    assert match(BRANCH, "  Create BRANCH hotfix IN api ") == {"name": "hotfix", "repo": "api"}
    assert match(BRANCH, "<@U0BATON> create branch HotFix in Api") == {"name": "HotFix", "repo": "Api"}


def test_quotes_capture_spaces_straight_or_curly():
    assert match(BRANCH, 'create branch "two words" in api') == {"name": "two words", "repo": "api"}
    assert match(BRANCH, "create branch “two words” in api") == {"name": "two words", "repo": "api"}
    assert match(BRANCH, 'create branch "say \\"hi\\"" in api')["name"] == 'say "hi"'


def test_no_match_falls_through():
    for text in (
        "create branch hotfix",  # too short
        "create branch hotfix in api now",  # too long
        "create a branch hotfix in api",  # another word
        'create branch hotfix "in" api',  # a quoted word is a value, never a pattern's word
        'create branch "unclosed in api',  # quotes that never close match nothing
        "",
    ):
        assert match(BRANCH, text) is None, text


def test_a_greedy_last_field_takes_the_rest_as_written():
    note = parse_pattern("announce in {channel} {text...}")
    assert match(note, 'announce in <#C0OPS|ops> deploy at  3pm, "sharp"') == {
        "channel": "C0OPS",
        "text": 'deploy at  3pm, "sharp"',
    }
    assert match(note, 'announce in <#C0OPS> "just this"')["text"] == "just this"
    assert match(note, "announce in <#C0OPS>") is None  # the rest cannot be empty


def test_slack_references_become_ids_and_escapes_are_undone():
    pattern = parse_pattern("ping {who} about {what}")
    assert match(pattern, "ping <@U0BOB|bob> about a&amp;b") == {"who": "U0BOB", "what": "a&b"}


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ("", "empty"),
        ("{x} go", "start with a word"),
        ("go {x} {x}", "twice"),
        ("go {rest...} now", "must come last"),
        ("go branch-{x}", "neither a word nor a whole field"),
        ('go "now"', "quotes"),
    ],
)
def test_bad_patterns_say_why(pattern, problem):
    with pytest.raises(AliasError, match=problem):
        parse_pattern(pattern)


def test_args_are_templated_and_a_whole_field_keeps_its_value():
    args = {"repo_path": "/srv/git/{repo}", "branch_name": "{name}", "files": ["{name}.md"], "n": 3}
    assert render_args(args, {"name": "x", "repo": "api"}) == {
        "repo_path": "/srv/git/api",
        "branch_name": "x",
        "files": ["x.md"],
        "n": 3,
    }


def test_values_are_coerced_to_the_schema_type():
    assert coerce("true", {"type": "boolean"}) is True
    assert coerce("off", {"type": "boolean"}) is False
    assert coerce("3", {"type": "integer"}) == 3
    assert coerce("a.txt, b.txt", {"type": "array"}) == ["a.txt", "b.txt"]
    assert coerce('["a b"]', {"type": "array"}) == ["a b"]
    assert coerce("1", {"type": "array"}) == ["1"]
    assert coerce("3", {"type": "string"}) == "3"
    assert coerce("3", None) == "3"


def test_run_lines_with_quoting():
    line = parse_run('slack.post_message channel=<#C0OPS|ops> text="Deploy at 3pm, don\'t wait"')
    assert line.action == "slack.post_message"
    assert line.args == {"channel": "C0OPS", "text": "Deploy at 3pm, don't wait"}
    assert parse_run("tasks.create title=“two words”").args == {"title": "two words"}
    assert parse_run("memory.remember text=a=b").args == {"text": "a=b"}


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("", "say which action"),
        ("slack.post_message hello", "not `key=value`"),
        ("slack.post_message text=a text=b", "given twice"),
        ('slack.post_message text="open', "never closed"),
        ("slack.post_message =x", "not `key=value`"),
    ],
)
def test_bad_run_lines_say_why(line, problem):
    with pytest.raises(RunSyntaxError, match=problem):
        parse_run(line)


SCHEMAS = {
    "git.git_create_branch": {
        "type": "object",
        "properties": {"repo_path": {"type": "string"}, "branch_name": {"type": "string"}},
        "required": ["repo_path", "branch_name"],
    },
    "tasks.create": {"type": "object", "properties": {"title": {"type": "string"}, "urgent": {"type": "boolean"}}},
}


def alias(**fields):
    return AliasConfig.model_validate(fields)


def test_the_first_matching_alias_makes_a_one_step_draft():
    aliases = [
        alias(
            pattern="create branch {name}",
            action="git.git_create_branch",
            args={"repo_path": "/srv/main", "branch_name": "{name}"},
        ),
        alias(
            pattern="create branch {name} in {repo}",
            action="git.git_create_branch",
            args={"repo_path": "/srv/{repo}", "branch_name": "{name}"},
            description="Create {name} in {repo}",
        ),
    ]
    found = find_alias(aliases, "create branch x in api")
    assert found is not None and found.alias is aliases[1]
    draft = alias_draft(found, schemas=SCHEMAS)
    assert not isinstance(draft, list)
    assert draft.planner == "alias" and draft.title == "Create x in api" and len(draft.steps) == 1
    assert draft.steps[0].args == {"repo_path": "/srv/api", "branch_name": "x"}
    assert "create branch {name} in {repo}" in draft.rationale
    assert find_alias(aliases, "delete branch x") is None


def test_an_unavailable_action_or_an_unknown_argument_is_a_problem_for_people():
    missing = run_draft(parse_run("git.git_delete repo=x"), schemas=SCHEMAS)
    assert missing == ["`git.git_delete` is not an action I can use here (try `git.git_create_branch`)."]
    unknown = run_draft(parse_run("tasks.create title=x colour=red"), schemas=SCHEMAS)
    assert unknown == ["`tasks.create` takes no argument `colour`; it takes: `title`, `urgent`"]
    typed = run_draft(parse_run("tasks.create title=x urgent=yes"), schemas=SCHEMAS)
    assert not isinstance(typed, list) and typed.steps[0].args == {"title": "x", "urgent": True}


def config(aliases):
    return parse_mcp_config(json.dumps({"baton": {"aliases": aliases}}), source="/etc/baton/mcp.json", env={})


@pytest.mark.parametrize(
    ("aliases", "message"),
    [
        (
            [{"pattern": "go {x}", "action": "a.b", "args": {}}],
            "/etc/baton/mcp.json: alias 1 ('go {x}'): the pattern captures {x} but no argument uses it",
        ),
        (
            [{"pattern": "go", "action": "a.b", "args": {"y": "{y}"}}],
            "/etc/baton/mcp.json: alias 1 ('go'): {y} is used but the pattern has no such field",
        ),
        (
            [{"pattern": "go", "action": "nothing"}],
            "/etc/baton/mcp.json: alias 1 ('go'): action: must name an action, such as slack.post_message or "
            "<server>.<tool>",
        ),
        (
            [{"pattern": "go", "action": "a.b"}, {"pattern": "GO", "action": "a.c"}],
            "/etc/baton/mcp.json: alias 2 ('GO'): the same pattern is given twice",
        ),
        (
            [{"pattern": "go", "action": "a.b", "colour": 1}],
            "/etc/baton/mcp.json: alias 1 ('go'): colour: Extra inputs are not permitted",
        ),
        ([{"action": "a.b"}], "/etc/baton/mcp.json: alias 1: pattern: Field required"),
        ("x", "/etc/baton/mcp.json: baton.aliases must be a list of aliases"),
    ],
)
def test_a_bad_alias_stops_start_up_with_one_line_naming_file_and_alias(aliases, message):
    with pytest.raises(McpConfigError) as err:
        config(aliases)
    assert str(err.value) == message and "\n" not in message


def test_the_baton_section_is_read_beside_the_servers():
    parsed = config([{"pattern": "say {text...}", "action": "slack.post_message", "args": {"text": "{text}"}}])
    assert [a.pattern for a in parsed.aliases] == ["say {text...}"] and parsed.servers == {}
    with pytest.raises(McpConfigError, match="unknown key 'macros'"):
        parse_mcp_config('{"baton": {"macros": []}}', source="mcp.json", env={})


# -- properties --------------------------------------------------------------------------------------------------
WORD = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,7}", fullmatch=True)
# Values a person can type: no quotes or backslashes (those are the quoting syntax), no HTML escapes or Slack
# references (those are decoded), anything else including spaces (then quoted).
VALUE = st.text(
    st.characters(blacklist_characters='"“”\\&<>', blacklist_categories=("Cs", "Cc", "Zl", "Zp")), max_size=20
)


@st.composite
def pattern_and_request(draw):
    literals = draw(st.lists(WORD, min_size=1, max_size=4))
    fields = draw(st.lists(st.from_regex(r"[a-z]{1,6}", fullmatch=True), max_size=3, unique=True))
    parts = [literals[0]]
    values = {}
    request = [draw(st.sampled_from([str.upper, str.lower, str.title]))(literals[0])]
    rest = literals[1:] + [None] * len(fields)
    rest = draw(st.permutations(rest))
    names = iter(fields)
    for item in rest:
        if item is None:
            name = next(names)
            value = draw(VALUE)
            parts.append("{" + name + "}")
            values[name] = value
            simple = value and not any(c.isspace() for c in value)
            request.append(value if simple else f'"{value}"')
        else:
            parts.append(item)
            request.append(item.swapcase())
    return " ".join(parts), " ".join(request), values


@settings(max_examples=50, deadline=None)
@given(pattern_and_request())
def test_a_request_built_from_a_pattern_matches_it_and_gives_back_the_values(case):
    source, request, values = case
    assert match(parse_pattern(source), request) == values


@given(st.text(max_size=80))
def test_any_text_either_matches_or_not_and_never_crashes(text):
    pattern = parse_pattern("deploy {service} to {env...}")
    result = match(pattern, text)
    assert result is None or set(result) == {"service", "env"}
    try:
        tokens = tokenize(text)
    except RunSyntaxError:
        return
    assert all(token.text or token.quoted for token in tokens)


KEY = st.from_regex(r"[a-z_][a-z0-9_]{0,10}", fullmatch=True)


@settings(max_examples=50, deadline=None)
@given(st.dictionaries(KEY, VALUE, max_size=4))
def test_a_run_line_gives_back_every_quoted_value(values):
    line = "tasks.create " + " ".join(f'{key}="{value}"' for key, value in values.items())
    assert parse_run(line) == RunLine("tasks.create", values)
