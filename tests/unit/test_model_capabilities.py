"""What a model server's rejection means, and the schema and options Baton sends it (core/model_capabilities.py)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from core import defaults
from core.model_capabilities import (
    STRONGEST,
    Capabilities,
    grammar_schema,
    ignored_limit,
    output_limit,
    read_rejection,
    request_options,
    schema_instruction,
)
from tests.fakes.openai_profiles import (
    GRAMMAR_TOO_BIG,
    LLAMA_CPP_PYTHON_JSON_SCHEMA,
    REASONING_MAX_TOKENS,
    STREAM_OPTIONS_UNRECOGNIZED,
)

OBJECT_MODE = Capabilities(structured="json_object")


def test_the_grammar_schema_keeps_the_structure_and_drops_the_bounds():
    schema = {
        "type": "object",
        "properties": {
            "title": {"type": "string", "maxLength": 150, "minLength": 1},
            "pattern": {"type": "string", "pattern": "^a"},  # a property *named* like a keyword stays
            "steps": {"type": "array", "maxItems": 12, "items": {"anyOf": [{"type": "integer", "maximum": 3}]}},
        },
        "required": ["title", "pattern", "steps"],
        "additionalProperties": False,
        "$defs": {"maxItems": {"type": "string", "format": "date"}},
    }
    assert grammar_schema(schema) == {
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "pattern": {"type": "string"},
            "steps": {"type": "array", "items": {"anyOf": [{"type": "integer"}]}},
        },
        "required": ["title", "pattern", "steps"],
        "additionalProperties": False,
        "$defs": {"maxItems": {"type": "string"}},
    }
    assert schema["properties"]["title"]["maxLength"] == 150  # the caller's schema is not changed


@pytest.mark.parametrize(
    ("message", "sent", "rejected", "instead", "advice"),
    [
        (
            LLAMA_CPP_PYTHON_JSON_SCHEMA,
            STRONGEST,
            "json_schema",
            ("json_object", "max_tokens"),
            "set BATON_LLM_STRUCTURED=json_object",
        ),
        (
            GRAMMAR_TOO_BIG,
            STRONGEST,
            "json_schema",
            ("json_object", "max_tokens"),
            "set BATON_LLM_STRUCTURED=json_object",
        ),
        (
            "response_format type json_object is not supported by this server",
            OBJECT_MODE,
            "json_object",
            ("text", "max_tokens"),
            "set BATON_LLM_STRUCTURED=text",
        ),
        (
            REASONING_MAX_TOKENS,
            STRONGEST,
            "max_tokens",
            ("json_schema", "max_completion_tokens"),
            "set BATON_LLM_LIMIT_PARAM=max_completion_tokens",
        ),
        (
            "[{'loc': ['body', 'max_completion_tokens'], 'msg': 'Extra inputs are not permitted'}]",
            Capabilities(limit_param="max_completion_tokens"),
            "max_completion_tokens",
            ("json_schema", "max_tokens"),
            "set BATON_LLM_LIMIT_PARAM=max_tokens",
        ),
    ],
)
def test_a_rejection_names_what_the_server_does_not_take_and_what_to_set(message, sent, rejected, instead, advice):
    rejection = read_rejection(message, sent=sent)
    assert rejection is not None and rejection.rejected == rejected
    assert rejection.instead is not None and (rejection.instead.structured, rejection.instead.limit_param) == instead
    reason = rejection.reason(model="gemma-3-270m", pinned=False)
    assert "gemma-3-270m" in reason and reason.endswith(advice)
    assert "(it is pinned to" in rejection.reason(model="m", pinned=True)


@pytest.mark.parametrize(
    ("message", "sent"),
    [
        ("The server had an error while processing your request. Sorry about that!", STRONGEST),
        ("Rate limit reached for requests.", OBJECT_MODE),
        ("Incorrect API key provided.", STRONGEST),
        ("Invalid 'messages[0].content': string too long.", OBJECT_MODE),
        # advice naming the parameter Baton uses is not a rejection of the one it sent
        (
            "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' "
            "instead.",
            Capabilities(limit_param="max_completion_tokens"),
        ),
    ],
)
def test_an_ordinary_error_is_no_rejection(message, sent):
    assert read_rejection(message, sent=sent) is None


def test_plain_text_has_nothing_weaker_and_says_so():
    assert read_rejection(LLAMA_CPP_PYTHON_JSON_SCHEMA, sent=Capabilities(structured="text")) is None
    last = read_rejection("response_format is not supported", sent=OBJECT_MODE)
    assert last is not None and last.instead is not None and last.instead.structured == "text"


def test_request_options_send_the_form_and_the_limit_the_server_takes():
    schema = {"type": "object", "properties": {"intro": {"type": "string", "maxLength": 600}}}
    assert request_options(STRONGEST, schema_name="intro", schema=schema, max_output_tokens=300) == {
        "max_tokens": 300,
        "response_format": {
            "type": "json_schema",
            "json_schema": {
                "name": "intro",
                "schema": {"type": "object", "properties": {"intro": {"type": "string"}}},
                "strict": False,
            },
        },
    }
    assert request_options(
        Capabilities("json_object", "max_completion_tokens"), schema_name="intro", schema=schema, max_output_tokens=300
    ) == {"max_completion_tokens": 300, "response_format": {"type": "json_object"}}
    assert request_options(Capabilities("text"), schema_name="i", schema=schema, max_output_tokens=9) == {
        "max_tokens": 9
    }
    # Without a schema in response_format, the model is shown it (and OpenAI's JSON mode needs the word JSON).
    assert schema_instruction(STRONGEST, schema) is None
    instruction = schema_instruction(OBJECT_MODE, schema)
    assert instruction is not None and "JSON" in instruction and '"intro"' in instruction and "600" not in instruction


def test_capabilities_survive_the_cache_and_a_foreign_entry_is_ignored():
    caps = Capabilities("json_object", "max_completion_tokens", stream=False)
    assert Capabilities.from_json(caps.to_json()) == Capabilities("json_object", "max_completion_tokens", True, False)
    # An entry kept before streaming was learned says nothing about it: streamed, as at first.
    older = json.dumps({"structured": "text", "limit_param": "max_tokens"})
    assert Capabilities.from_json(older) == Capabilities("text", "max_tokens", learned=True, stream=True)
    for junk in ("{", "[]", json.dumps({"structured": "yaml", "limit_param": "max_tokens"}),
                 json.dumps({"structured": "text", "limit_param": "max_tokens", "stream": "yes"})):
        assert Capabilities.from_json(junk) is None


@pytest.mark.parametrize(
    "message",
    [
        STREAM_OPTIONS_UNRECOGNIZED,
        "[{'loc': ['body', 'stream_options'], 'msg': 'Extra inputs are not permitted'}]",
        "stream is not supported for this model",
        "Streaming is not supported for this model",
        "Unsupported value: 'stream' does not support true with this model. Supported values are: false.",
    ],
)
def test_a_server_rejecting_streams_is_asked_without_them(message):
    rejection = read_rejection(message, sent=OBJECT_MODE, status=400)
    assert rejection is not None and rejection.rejected == "stream"
    assert rejection.instead == replace(OBJECT_MODE, stream=False, learned=True)
    assert rejection.reason(model="m", pinned=False) == (
        "the model server rejected or broke off a streamed reply for m; set BATON_LLM_STREAM=off"
    )
    assert rejection.reason(model="m", pinned=True).endswith("(it is pinned to on)")
    # Not streaming, the same words are about something else; and a 5xx is a server in trouble, retried as such.
    assert read_rejection(message, sent=replace(OBJECT_MODE, stream=False)) is None
    assert read_rejection(message, sent=OBJECT_MODE, status=500) is None


@pytest.mark.parametrize(
    "message",
    [
        "Internal error: unexpected end of stream",
        "stream error: stream ID 3; INTERNAL_ERROR; unexpected EOF",
        "Invalid schema for response_format 'answer': In context=('properties', 'stream'), 'maxLength' is not "
        "permitted.",
        "1 validation error: messages.0.content Input should be a valid string [input_value={'stream': True}]",
    ],
)
def test_a_message_that_only_mentions_a_stream_is_no_rejection_of_streaming(message):
    rejection = read_rejection(message, sent=OBJECT_MODE, status=400)
    assert rejection is None or rejection.rejected != "stream"


def test_every_purpose_has_a_limit_and_a_repair_shares_its_purposes():
    limits = defaults.OUTPUT_TOKENS
    assert output_limit("plan", limits, default=1) == defaults.PLAN_OUTPUT_TOKENS
    assert output_limit("plan_repair", limits, default=1) == defaults.PLAN_OUTPUT_TOKENS
    assert output_limit("meeting_chunk_repair", limits, default=1) == defaults.MEETING_PART_OUTPUT_TOKENS
    assert output_limit("digest", limits, default=1) == defaults.DIGEST_INTRO_OUTPUT_TOKENS
    assert output_limit("something_new", limits, default=7) == 7


def test_a_reply_well_past_the_limit_shows_it_was_ignored():
    assert not ignored_limit(limit=100, completion_tokens=None)
    assert not ignored_limit(limit=100, completion_tokens=104)  # an end-of-turn token or two is tolerated
    assert ignored_limit(limit=100, completion_tokens=400)
