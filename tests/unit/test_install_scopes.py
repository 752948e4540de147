"""The scopes an OAuth install asks for are the manifest's, and the install page sits beside the API."""

from __future__ import annotations

from pathlib import Path

from core import defaults
from core.installations import authorize_url

MANIFEST = Path(__file__).resolve().parents[2] / "slack-app-manifest.yml"


def _manifest_bot_scopes() -> list[str]:
    lines = MANIFEST.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "bot:" and "scopes" in lines[i - 1])
    scopes = []
    for line in lines[start + 1 :]:
        if not line.strip().startswith("- "):
            break
        scopes.append(line.strip()[2:])
    return scopes


def test_install_scopes_are_the_manifests():
    assert list(defaults.SLACK_BOT_SCOPES) == _manifest_bot_scopes()


def test_the_install_page_is_beside_the_web_api():
    assert authorize_url("https://slack.com/api/") == "https://slack.com/oauth/v2/authorize"
    assert authorize_url("http://127.0.0.1:5000/api/") == "http://127.0.0.1:5000/oauth/v2/authorize"
