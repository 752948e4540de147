"""``baton doctor``: one clear pass/fail line for each thing Baton depends on."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError

from baton.model_checks import completion_check, embedding_check
from connectors.slack_clients import plain_client
from core import defaults
from core.settings import Settings
from memory import migrate
from memory.db import connect
from memory.health import server_facts
from workers.api import connect_redis


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'PASS' if self.ok else 'FAIL'}  {self.name:<10} {self.detail}"


def run_checks(settings: Settings, *, openai_factory: Callable[..., object] | None = None) -> list[Check]:
    """Check Postgres, pgvector, migrations, Redis, Slack auth.test and the LLM. Never raises."""
    return [
        *_postgres_checks(settings),
        _redis_check(settings),
        _slack_check(settings),
        _llm_check(settings, openai_factory),
        *_model_call_checks(settings),
    ]


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


def _slack_check(settings: Settings) -> Check:
    if not settings.slack_bot_token:
        return Check(
            "slack", False, "SLACK_BOT_TOKEN is not set (fine for `baton demo`; needed for a workspace)"
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
            "llm", False, "no LLM configured (OPENAI_API_KEY / OPENAI_BASE_URL): Baton runs in degraded mode"
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
