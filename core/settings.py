"""The one settings object, built once at the entry point.

Order of precedence: an explicit argument (``overrides``), then the environment mapping the
entry point passes in, then the default from ``core.defaults``. This module never reads
``os.environ`` itself: the caller hands the environment over, which keeps it pure and testable.

A missing or malformed value raises :class:`SettingsError` whose message is one line naming the
variable and how to fix it; the CLI prints exactly that line.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from core import defaults
from core.llm_timeouts import parse_timeouts
from core.mcp_config import McpConfig


class SettingsError(ValueError):
    """A configuration value is missing or malformed. ``str(err)`` is one actionable line."""

    def __init__(self, variable: str, problem: str, fix: str) -> None:
        self.variable = variable
        super().__init__(f"{variable} {problem}: {fix}")


#: Settings fields whose values must never be printed in full.
SECRET_FIELDS = frozenset({
    "slack_bot_token", "slack_signing_secret", "slack_app_token", "openai_api_key", "webhook_secret",
    "slack_client_secret", "encryption_keys",
})


@dataclass(frozen=True)
class Settings:
    """Effective configuration of one Baton process."""

    baton_home: Path
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    #: App-level token (xapp-…, scope connections:write) for Socket Mode.
    slack_app_token: str | None = None
    #: Receive Slack traffic over a websocket Baton opens (Socket Mode) instead of on /slack/events.
    socket_mode: bool = False
    slack_api_url: str = defaults.SLACK_API_URL
    #: The Slack app's OAuth credentials: set, Baton installs to many workspaces (/slack/install) instead of
    #: using one SLACK_BOT_TOKEN.
    slack_client_id: str | None = None
    slack_client_secret: str | None = None
    #: Fernet keys for the tokens stored by OAuth installs: the first encrypts, all decrypt (key rotation).
    encryption_keys: tuple[str, ...] = ()
    openai_api_key: str | None = None
    openai_base_url: str | None = None
    chat_model: str = defaults.CHAT_MODEL
    cheap_model: str = defaults.CHEAP_MODEL
    embedding_model: str = defaults.EMBEDDING_MODEL
    #: Who makes memory embeddings: auto (local MiniLM if installed, else the LLM API, else none), local, openai, none.
    embedding_provider: str = "auto"
    #: Length of stored vectors; the local all-MiniLM-L6-v2 makes 384, OpenAI models are asked for this many.
    embedding_dimensions: int = 384
    #: Unpinned memories unused for this many days are removed (None: kept until forgotten or expired).
    memory_retention_days: int | None = None
    #: Days a workspace's data is kept after it uninstalls Baton before the reconciler deletes it (0: at once).
    uninstall_retention_days: int = defaults.UNINSTALL_RETENTION_DAYS
    database_url: str | None = None
    redis_url: str | None = None
    port: int = defaults.PORT
    log_level: str = defaults.LOG_LEVEL
    #: URL prefixes the http.webhook connector may POST to (nothing else is reachable).
    webhook_allowlist: tuple[str, ...] = ()
    #: Key for the HMAC signature header on webhook calls.
    webhook_secret: str | None = None
    #: Transcript files larger than this are refused before they are downloaded.
    transcript_max_bytes: int = defaults.TRANSCRIPT_MAX_BYTES
    #: Token budget of one part of a long meeting sent to the model (map-reduce summarising).
    meeting_chunk_tokens: int = defaults.MEETING_CHUNK_TOKENS
    #: Spoken names that mean a Slack user ("bob" -> "U123"), for action item owners.
    owner_aliases: tuple[tuple[str, str], ...] = ()
    #: A scheduled digest missed (scheduler down) by up to this many hours is still sent, once; later, skipped.
    digest_grace_hours: int = defaults.DIGEST_GRACE_HOURS
    #: Whether a scheduled digest with nothing to report is skipped (``/baton digest now`` always posts).
    digest_skip_empty: bool = True
    #: Whether a running or finished plan's card shows its steps as Slack's ``plan`` block (tasks pending ->
    #: in_progress -> complete/error) rather than section blocks. Slack says nothing of a client's support for a
    #: block to the app, so the operator says so (off: every client shows the section blocks).
    slack_plan_blocks: bool = False
    #: Model to try when the primary model keeps failing (None: no fallback).
    fallback_model: str | None = None
    #: Prices of models the built-in table does not know (or overrides): (model, input, cached input, output)
    #: in USD per 1M tokens, as decimal strings.
    model_prices: tuple[tuple[str, str, str, str], ...] = ()
    #: Budgets (USD, or tokens), checked before every model call; None means no limit, 0 means no model calls.
    budget_request_usd: Decimal | None = None
    budget_request_tokens: int | None = None
    budget_channel_day_usd: Decimal | None = None
    budget_workspace_day_usd: Decimal | None = None
    #: Seconds a replayable model answer (e.g. a meeting chunk summary) is kept in Redis; 0 turns the cache off.
    llm_cache_ttl_seconds: int = defaults.LLM_CACHE_TTL_SECONDS
    #: Seconds of planning after which the requester's thread is told it is still going (the model is slow).
    planning_interim_seconds: int = defaults.PLANNING_INTERIM_SECONDS
    #: Seconds all the model calls of one request's planning may take together before the rules planner steps in.
    planning_deadline_seconds: int = defaults.PLANNING_DEADLINE_SECONDS
    #: Per-purpose seconds one model-call attempt may take, overriding core.defaults.LLM_ATTEMPT_TIMEOUTS.
    llm_timeouts: tuple[tuple[str, int], ...] = ()
    #: Per-purpose output-token limits, overriding core.defaults.OUTPUT_TOKENS (a slow local server wants less).
    llm_output_tokens: tuple[tuple[str, int], ...] = ()
    #: Seconds all the model calls of one meeting's notes / one digest's intro may take together.
    meeting_deadline_seconds: int = defaults.MEETING_DEADLINE_SECONDS
    digest_deadline_seconds: int = defaults.DIGEST_DEADLINE_SECONDS
    #: How structured output is asked of the model server: auto (learned per model, strongest first), or pinned to
    #: json_schema, json_object or text (see core/model_capabilities.py).
    llm_structured: str = "auto"
    #: Which parameter carries the output limit: auto (learned), or pinned to max_tokens or max_completion_tokens.
    llm_limit_param: str = "auto"
    #: Whether structured replies are streamed (so Baton can stop a reply early): auto (yes, until a server rejects
    #: or breaks off a stream), or pinned on or off.
    llm_stream: str = "auto"
    #: Seconds a step parked by a retryable outage (Slack 429/5xx, timeouts) is retried before its plan fails.
    step_retry_horizon_seconds: int = defaults.STEP_RETRY_HORIZON_SECONDS
    #: Workspace admins (user ids) and an admin user group (S…): may change channel policy.
    admins: tuple[str, ...] = ()
    admin_group: str | None = None
    #: Port for /metrics of a worker or scheduler process (the web process serves it on its own port).
    metrics_port: int | None = None
    #: Log lines as JSON (one object per line, with the correlation id) or as plain text.
    log_format: str = "json"
    #: Which backends run embedded ("postgres", "redis"); filled in once they are started.
    embedded: tuple[str, ...] = ()
    #: The MCP servers file (``mcp.json`` in BATON_HOME unless BATON_MCP_CONFIG names another).
    mcp_config: Path | None = None
    #: The parsed MCP servers file, read by the entry point (baton/config.py); never printed (headers hold secrets).
    mcp_servers: McpConfig = dataclasses.field(default_factory=McpConfig, repr=False)

    @property
    def llm_configured(self) -> bool:
        """True when an OpenAI-compatible API is configured (a key, or a base URL of a keyless local server)."""
        return bool(self.openai_api_key or self.openai_base_url)

    @property
    def oauth_enabled(self) -> bool:
        """True in multi-workspace mode: each workspace's token comes from its installation, not the settings."""
        return self.slack_client_id is not None

    @property
    def uses_embedded_postgres(self) -> bool:
        return self.database_url is None or "postgres" in self.embedded

    @property
    def uses_embedded_redis(self) -> bool:
        return self.redis_url is None or "redis" in self.embedded

    def require_slack(self) -> None:
        """Fail unless the Slack credentials a real workspace needs are present (for HTTP or Socket Mode, one
        token or OAuth installs)."""
        if not self.slack_bot_token and not self.oauth_enabled:
            raise SettingsError(
                "SLACK_BOT_TOKEN",
                "is not set",
                "install the Slack app to your workspace and export SLACK_BOT_TOKEN=xoxb-... "
                "(or run `baton demo` to try Baton without Slack)",
            )
        if self.socket_mode:
            if not self.slack_app_token:
                raise SettingsError(
                    "SLACK_APP_TOKEN",
                    "is not set but Socket Mode is on",
                    "create an app-level token with the connections:write scope (Basic Information page) "
                    "and export SLACK_APP_TOKEN=xapp-...",
                )
            return  # Socket Mode traffic is not signed: Baton opened the connection itself
        if not self.slack_signing_secret:
            raise SettingsError(
                "SLACK_SIGNING_SECRET",
                "is not set",
                "copy the Signing Secret from your Slack app's Basic Information page and export it",
            )

    def with_changes(self, **changes: Any) -> Settings:
        """A copy with some fields replaced (e.g. the URLs of embedded servers once started)."""
        return dataclasses.replace(self, **changes)

    def masked(self) -> dict[str, str]:
        """Every setting as display text, secrets masked, unset values shown as such."""
        shown: dict[str, str] = {}
        for field in dataclasses.fields(self):
            if field.name not in ENV_VARS:
                continue
            value = getattr(self, field.name)
            if value is None:
                text = "(not set)"
            elif field.name == "encryption_keys":
                text = f"{len(value)} key(s), masked" if value else "(not set)"
            elif field.name in SECRET_FIELDS:
                text = mask_secret(str(value))
            elif isinstance(value, tuple):
                text = ", ".join(_shown_entry(v) for v in value) or "(none)"
            elif field.name in ("database_url", "redis_url"):
                text = mask_url_password(str(value))
            else:
                text = str(value)
            shown[field.name] = text
        return shown


def _shown_entry(value: object) -> str:
    """One entry of a tuple setting: ``name=U123`` for an alias, ``model=in/cached/out`` for a price."""
    if isinstance(value, tuple):
        return f"{value[0]}=" + "/".join(str(v) for v in value[1:])
    return str(value)


#: Environment variable for each field (the table in the README is generated from the same idea).
ENV_VARS: dict[str, str] = {
    "baton_home": "BATON_HOME",
    "slack_bot_token": "SLACK_BOT_TOKEN",
    "slack_signing_secret": "SLACK_SIGNING_SECRET",
    "slack_app_token": "SLACK_APP_TOKEN",
    "socket_mode": "BATON_SOCKET_MODE",
    "slack_api_url": "SLACK_API_URL",
    "slack_client_id": "SLACK_CLIENT_ID",
    "slack_client_secret": "SLACK_CLIENT_SECRET",
    "encryption_keys": "BATON_ENCRYPTION_KEY",
    "openai_api_key": "OPENAI_API_KEY",
    "openai_base_url": "OPENAI_BASE_URL",
    "chat_model": "BATON_CHAT_MODEL",
    "cheap_model": "BATON_CHEAP_MODEL",
    "embedding_model": "BATON_EMBEDDING_MODEL",
    "embedding_provider": "BATON_EMBEDDING_PROVIDER",
    "embedding_dimensions": "BATON_EMBEDDING_DIMENSIONS",
    "memory_retention_days": "BATON_MEMORY_RETENTION_DAYS",
    "uninstall_retention_days": "BATON_UNINSTALL_RETENTION_DAYS",
    "database_url": "DATABASE_URL",
    "redis_url": "REDIS_URL",
    "port": "PORT",
    "log_level": "BATON_LOG_LEVEL",
    "webhook_allowlist": "BATON_WEBHOOK_ALLOWLIST",
    "webhook_secret": "BATON_WEBHOOK_SECRET",
    "transcript_max_bytes": "BATON_TRANSCRIPT_MAX_BYTES",
    "meeting_chunk_tokens": "BATON_MEETING_CHUNK_TOKENS",
    "owner_aliases": "BATON_OWNER_ALIASES",
    "digest_grace_hours": "BATON_DIGEST_GRACE_HOURS",
    "digest_skip_empty": "BATON_DIGEST_SKIP_EMPTY",
    "slack_plan_blocks": "BATON_SLACK_PLAN_BLOCKS",
    "fallback_model": "BATON_FALLBACK_MODEL",
    "model_prices": "BATON_MODEL_PRICES",
    "budget_request_usd": "BATON_BUDGET_REQUEST_USD",
    "budget_request_tokens": "BATON_BUDGET_REQUEST_TOKENS",
    "budget_channel_day_usd": "BATON_BUDGET_CHANNEL_DAY_USD",
    "budget_workspace_day_usd": "BATON_BUDGET_WORKSPACE_DAY_USD",
    "llm_cache_ttl_seconds": "BATON_LLM_CACHE_TTL",
    "planning_interim_seconds": "BATON_PLANNING_INTERIM",
    "planning_deadline_seconds": "BATON_PLANNING_DEADLINE",
    "llm_timeouts": "BATON_LLM_TIMEOUTS",
    "llm_output_tokens": "BATON_LLM_OUTPUT_TOKENS",
    "meeting_deadline_seconds": "BATON_MEETING_DEADLINE",
    "digest_deadline_seconds": "BATON_DIGEST_DEADLINE",
    "llm_structured": "BATON_LLM_STRUCTURED",
    "llm_limit_param": "BATON_LLM_LIMIT_PARAM",
    "llm_stream": "BATON_LLM_STREAM",
    "step_retry_horizon_seconds": "BATON_STEP_RETRY_HORIZON",
    "admins": "BATON_ADMINS",
    "admin_group": "BATON_ADMIN_GROUP",
    "metrics_port": "BATON_METRICS_PORT",
    "log_format": "BATON_LOG_FORMAT",
    "mcp_config": "BATON_MCP_CONFIG",
}


def load_settings(env: Mapping[str, str], *, default_home: Path, **overrides: Any) -> Settings:
    """Build settings from explicit overrides, then ``env``, then defaults; validate every value.

    ``overrides`` use field names (``port=8080``); a value of ``None`` means "not given".
    """

    def raw(field: str) -> str | None:
        if overrides.get(field) is not None:
            return str(overrides[field])
        value = env.get(ENV_VARS[field])
        if value is None or not value.strip():
            return None
        return value.strip()

    home_text = raw("baton_home")
    home = Path(home_text).expanduser() if home_text else default_home
    if not home.is_absolute():
        raise SettingsError("BATON_HOME", f"must be an absolute path, got {home_text!r}", "give a full path")

    token = raw("slack_bot_token")
    if token is not None and not token.startswith(("xoxb-", "xoxp-")):
        raise SettingsError(
            "SLACK_BOT_TOKEN",
            "does not look like a Slack token",
            "use the Bot User OAuth Token that starts with xoxb-",
        )

    app_token = raw("slack_app_token")
    if app_token is not None and not app_token.startswith("xapp-"):
        raise SettingsError(
            "SLACK_APP_TOKEN",
            "does not look like an app-level token",
            "use the App-Level Token (connections:write) that starts with xapp-, not the bot token",
        )

    client_id, client_secret, keys = _oauth(raw("slack_client_id"), raw("slack_client_secret"),
                                            raw("encryption_keys"))
    return Settings(
        baton_home=home,
        slack_bot_token=token,
        slack_client_id=client_id,
        slack_client_secret=client_secret,
        encryption_keys=keys,
        slack_signing_secret=raw("slack_signing_secret"),
        slack_app_token=app_token,
        # On when asked (--socket-mode, BATON_SOCKET_MODE=true) or, unless turned off, when an app token is set.
        socket_mode=_flag("socket_mode", raw("socket_mode"), default=app_token is not None),
        slack_api_url=_http_url("slack_api_url", raw("slack_api_url") or defaults.SLACK_API_URL, slash=True),
        openai_api_key=raw("openai_api_key"),
        openai_base_url=_optional(raw("openai_base_url"), lambda v: _http_url("openai_base_url", v)),
        chat_model=raw("chat_model") or defaults.CHAT_MODEL,
        cheap_model=raw("cheap_model") or defaults.CHEAP_MODEL,
        embedding_model=raw("embedding_model") or defaults.EMBEDDING_MODEL,
        embedding_provider=_embedding_provider(raw("embedding_provider")),
        embedding_dimensions=_embedding_dimensions(raw("embedding_dimensions"), raw("embedding_provider")),
        memory_retention_days=_retention_days(raw("memory_retention_days")),
        uninstall_retention_days=_positive(
            "uninstall_retention_days", raw("uninstall_retention_days"), defaults.UNINSTALL_RETENTION_DAYS,
            example="30", minimum=0,
        ),
        database_url=_optional(raw("database_url"), _database_url),
        redis_url=_optional(raw("redis_url"), _redis_url),
        port=_port(raw("port")),
        log_level=_log_level(raw("log_level")),
        webhook_allowlist=_allowlist(raw("webhook_allowlist")),
        webhook_secret=raw("webhook_secret"),
        transcript_max_bytes=_positive("transcript_max_bytes", raw("transcript_max_bytes"),
                                       defaults.TRANSCRIPT_MAX_BYTES, example="10485760 (10 MB)"),
        meeting_chunk_tokens=_positive("meeting_chunk_tokens", raw("meeting_chunk_tokens"),
                                       defaults.MEETING_CHUNK_TOKENS, example="3000", minimum=500),
        owner_aliases=_aliases(raw("owner_aliases")),
        digest_grace_hours=_positive("digest_grace_hours", raw("digest_grace_hours"), defaults.DIGEST_GRACE_HOURS,
                                     example="3", minimum=0),
        digest_skip_empty=_flag("digest_skip_empty", raw("digest_skip_empty"), default=True),
        slack_plan_blocks=_flag("slack_plan_blocks", raw("slack_plan_blocks"), default=False),
        fallback_model=raw("fallback_model"),
        model_prices=_prices(raw("model_prices")),
        budget_request_usd=_money("budget_request_usd", raw("budget_request_usd")),
        budget_request_tokens=_optional(raw("budget_request_tokens"),
                                        lambda v: _positive("budget_request_tokens", v, 0, example="20000", minimum=0)),
        budget_channel_day_usd=_money("budget_channel_day_usd", raw("budget_channel_day_usd")),
        budget_workspace_day_usd=_money("budget_workspace_day_usd", raw("budget_workspace_day_usd")),
        llm_cache_ttl_seconds=_positive("llm_cache_ttl_seconds", raw("llm_cache_ttl_seconds"),
                                        defaults.LLM_CACHE_TTL_SECONDS, example="86400", minimum=0),
        planning_interim_seconds=_positive("planning_interim_seconds", raw("planning_interim_seconds"),
                                           defaults.PLANNING_INTERIM_SECONDS, example="10"),
        planning_deadline_seconds=_positive("planning_deadline_seconds", raw("planning_deadline_seconds"),
                                            defaults.PLANNING_DEADLINE_SECONDS, example="20"),
        llm_timeouts=_timeouts(raw("llm_timeouts")),
        llm_output_tokens=_output_tokens(raw("llm_output_tokens")),
        meeting_deadline_seconds=_positive("meeting_deadline_seconds", raw("meeting_deadline_seconds"),
                                           defaults.MEETING_DEADLINE_SECONDS, example="300"),
        digest_deadline_seconds=_positive("digest_deadline_seconds", raw("digest_deadline_seconds"),
                                          defaults.DIGEST_DEADLINE_SECONDS, example="30"),
        llm_structured=_choice("llm_structured", raw("llm_structured"), LLM_STRUCTURED_CHOICES, default="auto"),
        llm_limit_param=_choice("llm_limit_param", raw("llm_limit_param"), LLM_LIMIT_PARAM_CHOICES, default="auto"),
        llm_stream=_choice("llm_stream", raw("llm_stream"), LLM_STREAM_CHOICES, default="auto"),
        step_retry_horizon_seconds=_positive("step_retry_horizon_seconds", raw("step_retry_horizon_seconds"),
                                             defaults.STEP_RETRY_HORIZON_SECONDS, example="3600", minimum=0),
        admins=_user_ids("admins", raw("admins")),
        admin_group=_optional(raw("admin_group"), _group_id),
        metrics_port=_optional(raw("metrics_port"), lambda v: _port(v, field="metrics_port")),
        log_format=_choice("log_format", raw("log_format"), ("json", "text"), default="json"),
        mcp_config=_mcp_config(raw("mcp_config"), home),
    )


def _mcp_config(value: str | None, home: Path) -> Path:
    if value is None:
        return home / "mcp.json"
    path = Path(value).expanduser()
    if not path.is_absolute():
        raise SettingsError("BATON_MCP_CONFIG", f"must be an absolute path, got {value!r}", "give a full path")
    return path
#: The one-liner that makes a Fernet key, quoted in the errors about BATON_ENCRYPTION_KEY.
_MAKE_KEY = "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`"


def _oauth(client_id: str | None, client_secret: str | None,
           keys: str | None) -> tuple[str | None, str | None, tuple[str, ...]]:
    """The OAuth credentials and encryption keys: all three together, or none (single-token mode)."""
    parsed = tuple(key.strip() for key in (keys or "").split(",") if key.strip())
    for key in parsed:
        if not _is_fernet_key(key):
            raise SettingsError("BATON_ENCRYPTION_KEY", "holds a value that is not a Fernet key",
                                f"make one with {_MAKE_KEY} (comma-separate several to rotate)")
    if client_id is None:
        if client_secret is not None:
            raise SettingsError("SLACK_CLIENT_ID", "is not set but SLACK_CLIENT_SECRET is",
                                "copy the Client ID from your Slack app's Basic Information page too")
        return None, None, parsed
    if client_secret is None:
        raise SettingsError("SLACK_CLIENT_SECRET", "is not set but SLACK_CLIENT_ID is",
                            "copy the Client Secret from your Slack app's Basic Information page and export it")
    if not parsed:
        raise SettingsError("BATON_ENCRYPTION_KEY", "is not set but SLACK_CLIENT_ID is",
                            f"installed workspaces' tokens are stored encrypted: export a key made with {_MAKE_KEY}")
    return client_id, client_secret, parsed


def _is_fernet_key(key: str) -> bool:
    """A Fernet key is 32 bytes in URL-safe base64 (44 characters with padding)."""
    try:
        return len(base64.urlsafe_b64decode(key.encode())) == 32 and len(key) == 44
    except (ValueError, binascii.Error):
        return False


def _money(field: str, value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        amount = Decimal(-1)
    if not amount.is_finite() or amount < 0:
        raise SettingsError(ENV_VARS[field], f"must be an amount of US dollars of 0 or more, got {value!r}",
                            f"e.g. {ENV_VARS[field]}=5.00 (0 allows no model calls; unset means no limit)")
    return amount


def _prices(value: str | None) -> tuple[tuple[str, str, str, str], ...]:
    """``model=input/cached/output`` per 1M tokens, comma-separated: ``llama3=0.2/0.1/0.6,my-gpt=1/0.5/4``."""
    if value is None:
        return ()
    table: list[tuple[str, str, str, str]] = []
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        model, sep, figures = part.partition("=")
        numbers = figures.split("/")
        try:
            ok = bool(sep and model.strip()) and len(numbers) == 3 and all(Decimal(n) >= 0 for n in numbers)
        except InvalidOperation:
            ok = False
        if not ok:
            raise SettingsError("BATON_MODEL_PRICES", f"entry {part!r} is not model=input/cached/output",
                                "USD per 1M tokens, e.g. BATON_MODEL_PRICES=llama3=0.2/0.1/0.6")
        table.append((model.strip().lower(), *(str(Decimal(n.strip())) for n in numbers)))  # type: ignore[arg-type]
    return tuple(table)


def _user_ids(field: str, value: str | None) -> tuple[str, ...]:
    if value is None:
        return ()
    ids = tuple(part.strip() for part in value.split(",") if part.strip())
    for user_id in ids:
        if not re.fullmatch(r"[UW][A-Z0-9]{2,}", user_id):
            raise SettingsError(ENV_VARS[field], f"entry {user_id!r} is not a Slack user id",
                                f"e.g. {ENV_VARS[field]}=U0123ABC,U0456DEF")
    return ids


def _group_id(value: str) -> str:
    if not re.fullmatch(r"S[A-Z0-9]{2,}", value):
        raise SettingsError("BATON_ADMIN_GROUP", f"{value!r} is not a Slack user group id",
                            "e.g. BATON_ADMIN_GROUP=S0123ABC (the group's id, not its @handle)")
    return value


def _choice(field: str, value: str | None, allowed: tuple[str, ...], *, default: str) -> str:
    if value is None:
        return default
    if value.lower() not in allowed:
        raise SettingsError(ENV_VARS[field], f"is {value!r}", "use one of " + ", ".join(allowed))
    return value.lower()


def _flag(field: str, value: str | None, *, default: bool) -> bool:
    if value is None:
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise SettingsError(ENV_VARS[field], f"must be true or false, got {value!r}", f"e.g. {ENV_VARS[field]}=false")


def _positive(field: str, value: str | None, default: int, *, example: str, minimum: int = 1) -> int:
    if value is None:
        return default
    if not value.isdigit() or int(value) < minimum:
        raise SettingsError(ENV_VARS[field], f"must be a whole number of at least {minimum}, got {value!r}",
                            f"e.g. {ENV_VARS[field]}={example}")
    return int(value)


def _timeouts(value: str | None) -> tuple[tuple[str, int], ...]:
    if value is None:
        return ()
    try:
        return parse_timeouts(value)
    except ValueError as err:
        raise SettingsError("BATON_LLM_TIMEOUTS", str(err),
                            "e.g. BATON_LLM_TIMEOUTS=plan=15,meeting_chunk=120") from None


def _output_tokens(value: str | None) -> tuple[tuple[str, int], ...]:
    if value is None:
        return ()
    try:
        return parse_timeouts(value, unit="tokens")
    except ValueError as err:
        raise SettingsError("BATON_LLM_OUTPUT_TOKENS", str(err), "e.g. BATON_LLM_OUTPUT_TOKENS=plan=800,digest=150"
                            ) from None


def _aliases(value: str | None) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    pairs: list[tuple[str, str]] = []
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        name, sep, user = part.partition("=")
        if not sep or not name.strip() or not re.fullmatch(r"[UW][A-Z0-9]{2,}", user.strip()):
            raise SettingsError("BATON_OWNER_ALIASES", f"entry {part!r} is not name=USERID",
                                "e.g. BATON_OWNER_ALIASES=bob=U0123ABC,dr. lee=U0456DEF")
        pairs.append((name.strip().lower(), user.strip()))
    return tuple(pairs)


def _allowlist(value: str | None) -> tuple[str, ...]:
    if value is None:
        return ()
    prefixes = tuple(part.strip() for part in value.split(",") if part.strip())
    for prefix in prefixes:
        _http_url("webhook_allowlist", prefix)
        parts = urlsplit(prefix)
        if parts.username or parts.password or parts.query or parts.fragment:
            raise SettingsError("BATON_WEBHOOK_ALLOWLIST", f"entry {prefix!r} has userinfo, a query or a fragment",
                                "list plain prefixes such as https://hooks.example.com/baton/")
    return prefixes


def _optional(value: str | None, check: Any) -> Any:
    return None if value is None else check(value)


def _http_url(field: str, value: str, *, slash: bool = False) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SettingsError(
            ENV_VARS[field], f"must be an http(s) URL, got {value!r}", "e.g. https://host/path"
        )
    if slash and not value.endswith("/"):
        value += "/"
    return value


def _database_url(value: str) -> str:
    if urlsplit(value).scheme not in ("postgres", "postgresql"):
        raise SettingsError(
            "DATABASE_URL",
            "must be a postgresql:// URL",
            "e.g. postgresql://user:password@host:5432/baton, or unset it to use the embedded PostgreSQL",
        )
    return value


def _redis_url(value: str) -> str:
    if urlsplit(value).scheme not in ("redis", "rediss", "unix"):
        raise SettingsError(
            "REDIS_URL",
            "must be a redis://, rediss:// or unix:// URL",
            "e.g. redis://localhost:6379/0, or unset it to use the embedded Redis",
        )
    return value


def _port(value: str | None, *, field: str = "port") -> int:
    if value is None:
        return defaults.PORT
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise SettingsError(ENV_VARS[field], f"must be a number from 1 to 65535, got {value!r}",
                            f"e.g. {ENV_VARS[field]}=3000")
    return int(value)


#: Accepted values of ``BATON_LLM_STRUCTURED`` and ``BATON_LLM_LIMIT_PARAM`` ("auto": learned from the server).
LLM_STRUCTURED_CHOICES = ("auto", "json_schema", "json_object", "text")
LLM_LIMIT_PARAM_CHOICES = ("auto", "max_tokens", "max_completion_tokens")
#: Accepted values of ``BATON_LLM_STREAM``.
LLM_STREAM_CHOICES = ("auto", "on", "off")

#: Accepted values of ``BATON_EMBEDDING_PROVIDER``.
EMBEDDING_PROVIDERS = ("auto", "local", "openai", "none")
#: pgvector's HNSW index takes vectors of at most 2,000 dimensions; the local model makes 384.
_MAX_INDEXED_DIMENSIONS = 2000
_LOCAL_DIMENSIONS = 384


def _retention_days(value: str | None) -> int | None:
    if value is None:
        return None
    if not value.isdigit() or int(value) < 1:
        raise SettingsError("BATON_MEMORY_RETENTION_DAYS", f"must be a whole number of days, got {value!r}",
                            "e.g. BATON_MEMORY_RETENTION_DAYS=180, or unset it to keep memories until forgotten")
    return int(value)


def _embedding_provider(value: str | None) -> str:
    if value is None:
        return "auto"
    if value.lower() not in EMBEDDING_PROVIDERS:
        raise SettingsError("BATON_EMBEDDING_PROVIDER", f"is {value!r}", "use one of " + ", ".join(EMBEDDING_PROVIDERS))
    return value.lower()


def _embedding_dimensions(value: str | None, provider: str | None) -> int:
    if value is None:
        return _LOCAL_DIMENSIONS
    if not value.isdigit() or not 1 <= int(value) <= _MAX_INDEXED_DIMENSIONS:
        raise SettingsError("BATON_EMBEDDING_DIMENSIONS", f"must be a number from 1 to {_MAX_INDEXED_DIMENSIONS}, "
                            f"got {value!r}", "e.g. BATON_EMBEDDING_DIMENSIONS=384 (pgvector indexes up to 2000)")
    if (provider or "").lower() == "local" and int(value) != _LOCAL_DIMENSIONS:
        raise SettingsError("BATON_EMBEDDING_DIMENSIONS", f"is {value} but the local all-MiniLM-L6-v2 makes 384",
                            "unset it or set BATON_EMBEDDING_PROVIDER=openai")
    return int(value)


def _log_level(value: str | None) -> str:
    if value is None:
        return defaults.LOG_LEVEL
    level = value.upper()
    if level not in defaults.LOG_LEVELS:
        raise SettingsError(
            "BATON_LOG_LEVEL", f"is {value!r}", "use one of " + ", ".join(defaults.LOG_LEVELS)
        )
    return level


def mask_secret(value: str) -> str:
    """Show just enough of a secret to recognise it: its prefix kind and last four characters."""
    if len(value) <= 8:
        return "****"
    prefix = value.split("-", 1)[0] + "-" if "-" in value[:6] else ""
    return f"{prefix}****{value[-4:]}"


def mask_url_password(url: str) -> str:
    """Hide the password part of a URL's userinfo."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":****@", 1)
    return parts._replace(netloc=netloc).geturl()
