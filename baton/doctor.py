"""``baton doctor``: one clear line for each thing Baton depends on.

``PASS`` works; ``FAIL`` is configured and broken; ``SKIP`` is not configured, with what that means (no
Slack token: only ``baton demo``'s local workspace; no LLM: degraded mode). The run fails (exit 1) only when
something configured is broken.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError

from baton.alias_checks import alias_problems
from baton.doctor_installations import installation_lines
from baton.model_checks import completion_check, embedding_check
from baton.tools_cli import listing_services
from connectors.slack_clients import plain_client
from core import defaults
from core.settings import Settings
from memory import migrate
from memory.db import connect
from memory.health import server_facts
from workers.api import connect_redis
from workers.connector_wiring import discover_plugins
from workers.mcp_catalogue import load_catalogue


@dataclass(frozen=True)
class Check:
    """One dependency's verdict; ``configured=False`` means it is not set up, which is not a failure."""

    name: str
    ok: bool
    detail: str
    configured: bool = True

    @property
    def failed(self) -> bool:
        """Configured and broken."""
        return self.configured and not self.ok

    @property
    def word(self) -> str:
        """``PASS``, ``FAIL`` or ``SKIP`` (not configured)."""
        if not self.configured:
            return "SKIP"
        return "PASS" if self.ok else "FAIL"

    def line(self) -> str:
        """The check as one line: word, name, detail."""
        detail = self.detail if self.configured else f"not configured: {self.detail}"
        return f"{self.word}  {self.name:<10} {detail}"


def summary(checks: list[Check]) -> str:
    """``4 passed, 0 failed, 2 not configured``."""
    passed = sum(1 for c in checks if c.configured and c.ok)
    failed = sum(1 for c in checks if c.failed)
    skipped = sum(1 for c in checks if not c.configured)
    return f"{passed} passed, {failed} failed" + (f", {skipped} not configured" if skipped else "")


def exit_code(checks: list[Check]) -> int:
    """1 when something configured is broken, else 0 (not configured is fine)."""
    return 1 if any(c.failed for c in checks) else 0


def run_checks(settings: Settings, *, openai_factory: Callable[..., object] | None = None) -> list[Check]:
    """Check Postgres, pgvector, migrations, Redis, Slack auth.test and the LLM. Never raises."""
    return [
        *_postgres_checks(settings),
        _redis_check(settings),
        *_slack_checks(settings),
        _llm_check(settings, openai_factory),
        *_model_call_checks(settings),
        *_mcp_checks(settings),
        *_plugin_checks(settings),
    ]


def _mcp_checks(settings: Settings) -> list[Check]:
    """One line per configured MCP server: its tools listed, or why not (Baton runs without them)."""
    catalogue = load_catalogue(settings.mcp_servers)
    failed = dict(catalogue.failures)
    checks = []
    for name in settings.mcp_servers.servers:
        if name in failed:
            checks.append(Check(f"mcp {name}", False, f"{failed[name]} (Baton runs without its tools)"))
            continue
        usable = sum(1 for tool in catalogue.tools if tool.definition.server == name)
        denied = sum(1 for tool in catalogue.denied if tool.definition.server == name)
        detail = f"{usable} tools" + (f", {denied} denied by policy" if denied else "")
        checks.append(Check(f"mcp {name}", True, detail))
    checks += [Check(f"mcp {action}", False, problem) for action, problem in failed.items() if "." in action]
    problems = alias_problems(settings, settings.mcp_servers, catalogue)
    if problems is not None:
        aliases = len(settings.mcp_servers.aliases)
        checks += [Check("aliases", False, problem) for problem in problems] or [
            Check("aliases", True, f"{aliases} alias{'es' if aliases != 1 else ''}, every action available")
        ]
    return checks


def _plugin_checks(settings: Settings) -> list[Check]:
    """One line per installed connector plugin: the actions it registered, or why it was skipped (Baton runs
    without it). Baton's own connectors register through the same code and get no line of their own."""
    plugins = discover_plugins()
    registered = plugins.register(listing_services(settings))
    checks = [
        Check(f"plugin {plugin.name}", True, f"{plugin.source}: {', '.join(c.action for c in actions) or 'no actions'}")
        for plugin, actions in registered.by_plugin
        if not plugin.built_in
    ]
    checks += [
        Check(f"plugin {found.plugin}", False, f"{found.source}: {found.problem} (skipped; Baton runs without it)")
        for found in plugins.problems
    ]
    return checks


def _postgres_checks(settings: Settings) -> list[Check]:
    url = settings.database_url or ""
    try:
        with connect(url) as conn:
            facts = server_facts(conn)
            pending = migrate.pending(conn)
    except Exception as err:
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        return [
            Check("postgres", False, f"cannot connect: {reason}"),
            Check("pgvector", False, "not checked"),
        ]
    where = "embedded" if settings.uses_embedded_postgres else "DATABASE_URL"
    checks = [
        Check("postgres", True, f"PostgreSQL {facts.version or '?'} ({where})")
    ]
    if facts.vector_version:
        checks.append(Check("pgvector", True, f"vector {facts.vector_version} installed"))
    elif facts.vector_available:
        checks.append(Check("pgvector", False, "available but not installed: run `baton migrate`"))
    else:
        checks.append(
            Check("pgvector", False, "the server has no pgvector extension: install pgvector on it")
        )
    checks.append(
        Check(
            "migrations",
            not pending,
            "current" if not pending else f"{len(pending)} pending: run `baton migrate`",
        )
    )
    return checks


def _redis_check(settings: Settings) -> Check:
    client = connect_redis(settings.redis_url or "")
    try:
        info = client.info("server")
        where = "embedded" if settings.uses_embedded_redis else "REDIS_URL"
        return Check("redis", True, f"Redis {info.get('redis_version', '?')} ({where})")
    except Exception as err:
        return Check("redis", False, f"cannot connect: {err}")
    finally:
        client.close()


def _slack_checks(settings: Settings) -> list[Check]:
    """The one bot token's ``auth.test``, or in multi-workspace mode the keys, the installations and each
    installed token's ``auth.test``."""
    if settings.oauth_enabled:
        return [Check(name, ok, detail) for name, ok, detail in installation_lines(settings)]
    return [_slack_check(settings)]


def _slack_check(settings: Settings) -> Check:
    if not settings.slack_bot_token:
        return Check(
            "slack",
            False,
            "SLACK_BOT_TOKEN is not set: demo mode only (`baton demo` runs its own local workspace); "
            "set it to serve a real Slack workspace",
            configured=False,
        )
    client = plain_client(settings)
    try:
        response = client.auth_test()
    except SlackApiError as err:
        return Check("slack", False, f"auth.test failed: {err.response.get('error')}")
    except Exception as err:
        return Check("slack", False, f"cannot reach {settings.slack_api_url}: {err}")
    return Check("slack", True, f"auth.test ok: bot {response.get('user')} in team {response.get('team')}")


def _llm_check(settings: Settings, openai_factory: Callable[..., object] | None) -> Check:
    if not settings.llm_configured:
        return Check(
            "llm",
            False,
            "OPENAI_API_KEY / OPENAI_BASE_URL are not set: degraded mode (plans from simple rules, meeting "
            "notes without a model); set one to use a language model",
            configured=False,
        )
    from openai import OpenAI

    factory = openai_factory or OpenAI
    client = factory(
        api_key=settings.openai_api_key or "unused",
        base_url=settings.openai_base_url,
        timeout=defaults.HTTP_TIMEOUT_SECONDS,
        max_retries=0,
    )
    try:
        models = [model.id for model in client.models.list()]  # type: ignore[attr-defined]
    except Exception as err:
        return Check("llm", False, f"cannot reach the LLM API: {type(err).__name__}: {err}")
    finally:
        with contextlib.suppress(Exception):
            client.close()  # type: ignore[attr-defined]
    has_model = settings.chat_model in models or not models
    detail = f"reachable ({len(models)} models)" + (
        "" if has_model else f"; model {settings.chat_model!r} not listed"
    )
    return Check("llm", True, detail)


def _model_call_checks(settings: Settings) -> list[Check]:
    """One tiny real completion (listing models proves little: a server may list them and fail every completion),
    and one embedding when the LLM API makes them; nothing when no model is configured (the llm line says so)."""
    if not settings.llm_configured:
        return []
    found = [completion_check(settings), embedding_check(settings)]
    return [Check(c.name, c.ok, c.detail) for c in found if c is not None]
