"""The Slack app manifests: the Socket Mode variant is the HTTP one without request URLs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
#: What only the HTTP manifest has: request URLs, and the OAuth redirect (an install needs a public URL; behind a
#: firewall Baton runs with one workspace's token).
URL_KEYS = {"url", "request_url", "redirect_urls"}


def load(name: str) -> dict[str, Any]:
    manifest: dict[str, Any] = yaml.safe_load((ROOT / name).read_text())
    return manifest


def without_urls(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: without_urls(item) for key, item in value.items() if key not in URL_KEYS}
    if isinstance(value, list):
        return [without_urls(item) for item in value]
    return value


def test_the_socket_mode_manifest_is_the_http_one_without_urls():
    http, socket = load("slack-app-manifest.yml"), load("slack-app-manifest.socket-mode.yml")
    assert http["settings"]["socket_mode_enabled"] is False and socket["settings"]["socket_mode_enabled"] is True
    assert "https://" not in (ROOT / "slack-app-manifest.socket-mode.yml").read_text().split("display_information")[1]
    http["settings"]["socket_mode_enabled"] = True
    assert without_urls(http) == socket
    assert socket["settings"]["interactivity"]["is_enabled"] is True  # clicks arrive over the socket too


def test_both_manifests_subscribe_to_the_events_that_remove_baton_from_a_workspace():
    for name in ("slack-app-manifest.yml", "slack-app-manifest.socket-mode.yml"):
        events = load(name)["settings"]["event_subscriptions"]["bot_events"]
        assert {"app_uninstalled", "tokens_revoked"} <= set(events), name
