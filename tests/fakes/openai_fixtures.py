"""Pytest fixtures for the fake OpenAI API.

Import both into a conftest (``from tests.fakes.openai_fixtures import fake_openai, fake_openai_server``):
the server starts once per session and every test that asks for ``fake_openai`` gets it reset.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.openai_api import FakeOpenAI

FAKE_OPENAI_API_KEY = "sk-test"


@pytest.fixture(scope="session")
def fake_openai_server() -> Iterator[FakeOpenAI]:
    """The session's fake OpenAI server (api key ``sk-test``); prefer ``fake_openai`` in tests."""
    fake = FakeOpenAI(api_key=FAKE_OPENAI_API_KEY).start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def fake_openai(fake_openai_server: FakeOpenAI) -> FakeOpenAI:
    """The session's fake OpenAI server, reset: no scripted answers, faults or recorded requests."""
    fake_openai_server.reset()
    return fake_openai_server
