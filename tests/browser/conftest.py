"""Browser tests: the local workspace's page (``localslack.web``) in Debian's Chromium, driven by Playwright.

Playwright's own browser download cannot reach its CDN here, so the system ``chromium`` is launched by
path. Without it (or without the ``playwright`` package) these tests skip locally and fail in CI, where
``.ci/run`` exports ``BATON_REQUIRE_BROWSER=1``. Screenshots of each step go to ``test-artifacts/browser/``.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"


def _missing(reason: str) -> None:
    if os.environ.get("BATON_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser tests are required here (BATON_REQUIRE_BROWSER=1) but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's Chromium, headless, through Playwright; per module, because Playwright's sync API keeps an
    event loop running in the main thread while it is open (other tests' ``asyncio.run`` would fail)."""
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        _missing("no chromium on PATH (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright  # deferred: start-up cost, browser tests only
    except ImportError:
        _missing("the playwright package is not installed (pip install -e '.[browser]')")
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield browser
        browser.close()


class Screens:
    """Numbered screenshots of one test's steps, under ``test-artifacts/browser/<test>/``."""

    def __init__(self, page: Any, folder: Path) -> None:
        self.page, self.folder, self.count = page, folder, 0
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)

    def shot(self, step: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{step}.png"
        self.page.screenshot(path=str(path))
        return path


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def screens(page: Any, request: pytest.FixtureRequest) -> Screens:
    return Screens(page, ARTIFACTS / re.sub(r"[^\w-]", "_", request.node.name))
