"""``mcp.json``: the MCP servers Baton connects to, in the format other MCP clients read.

::

    {"mcpServers": {
        "time": {"command": "uvx", "args": ["mcp-server-time"]},
        "tracker": {"url": "https://mcp.example.com/mcp", "headers": {"Authorization": "Bearer ${TRACKER_TOKEN}"},
                    "baton": {"timeout": 20, "tools": {"delete_issue": {"policy": "deny"}}}}}}

A server has either ``command`` (stdio: ``args``, ``env``, ``cwd``) or ``url`` (streamable HTTP: ``headers``).
The optional ``baton`` section, for a server and per tool, is Baton's own: ``risk`` (low | medium | high, over
the one derived from the tool's annotations), ``policy`` (allow: may run without a click when low risk; ask:
always needs approval; deny: never offered to the planner), ``idempotent`` (true: safe to call again) and
``timeout`` (seconds per call). A tool's setting wins over its server's.

A top-level ``baton`` section holds chat aliases (see :mod:`core.aliases`)::

    {"mcpServers": {...},
     "baton": {"aliases": [{"pattern": "create branch {name} in {repo}", "action": "git.git_create_branch",
                            "args": {"repo_path": "/srv/git/{repo}", "branch_name": "{name}"},
                            "description": "Create branch {name} in {repo}"}]}}

``${VAR}`` in ``env`` and ``headers`` values is replaced from the environment mapping the caller passes (the
composition root passes Baton's), so secrets stay out of the file. Pure: the caller reads the file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from core.aliases import AliasError, Pattern, check_alias, parse_pattern
from core.types import Risk

Policy = Literal["allow", "ask", "deny"]

#: A server name becomes the first half of an action name (``<server>.<tool>``): no dots, no spaces.
SERVER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
#: A built-in action or ``<server>.<tool>``.
_ACTION_NAME = re.compile(r"^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)+$")
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class McpConfigError(ValueError):
    """The MCP configuration cannot be used; ``str(err)`` is one line naming the file, the server and the problem."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ToolSettings(_Strict):
    """Baton's settings for one tool (or, as defaults, for every tool of a server)."""

    risk: Risk | None = None
    policy: Policy | None = None
    idempotent: bool | None = None
    timeout: Annotated[float, Field(gt=0, le=600)] | None = None


class ServerSettings(ToolSettings):
    """Baton's section of a server: defaults for its tools, and per-tool settings by tool name."""

    tools: dict[str, ToolSettings] = Field(default_factory=dict)

    def for_tool(self, tool: str) -> ToolSettings:
        """The effective settings of ``tool``: its own, then the server's."""
        own = self.tools.get(tool, ToolSettings())
        return ToolSettings(
            risk=own.risk or self.risk,
            policy=own.policy or self.policy,
            idempotent=own.idempotent if own.idempotent is not None else self.idempotent,
            timeout=own.timeout or self.timeout,
        )


class StdioServer(_Strict):
    """A server Baton starts as a subprocess and talks to over stdin/stdout."""

    command: str = Field(min_length=1)
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None
    baton: ServerSettings = Field(default_factory=ServerSettings)

    @property
    def transport(self) -> str:
        return "stdio"


class HttpServer(_Strict):
    """A server Baton reaches over streamable HTTP."""

    url: str = Field(min_length=1)
    headers: dict[str, str] = Field(default_factory=dict)
    baton: ServerSettings = Field(default_factory=ServerSettings)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @property
    def transport(self) -> str:
        return "http"


Server = StdioServer | HttpServer


class AliasConfig(_Strict):
    """One chat alias: a request matching ``pattern`` is planned as one ``action`` step with ``args``."""

    pattern: str = Field(min_length=1, max_length=300)
    #: A built-in action (``slack.post_message``) or an MCP tool (``<server>.<tool>``).
    action: str
    args: dict[str, Any] = Field(default_factory=dict)
    #: The step's description on the card, with ``{field}``s filled in (default: the action's name).
    description: str | None = Field(default=None, max_length=300)

    @field_validator("action")
    @classmethod
    def _action_name(cls, value: str) -> str:
        if not _ACTION_NAME.match(value):
            raise AliasError("must name an action, such as slack.post_message or <server>.<tool>")
        return value

    @model_validator(mode="after")
    def _fields_fit(self) -> AliasConfig:
        check_alias(self.parsed, self.args, self.description)
        return self

    @property
    def parsed(self) -> Pattern:
        """The pattern, parsed (raises :class:`core.aliases.AliasError` when it is not one)."""
        return parse_pattern(self.pattern)


class BatonSection(_Strict):
    """The file's top-level ``baton`` section."""

    aliases: list[AliasConfig] = Field(default_factory=list)


class McpConfig(_Strict):
    """Every configured server by name (empty when there is no file), and the chat aliases in file order."""

    servers: dict[str, Server] = Field(default_factory=dict)
    aliases: tuple[AliasConfig, ...] = ()


def parse_mcp_config(text: str, *, source: str, env: Mapping[str, str]) -> McpConfig:
    """Parse ``mcp.json`` text; ``source`` names the file in errors; ``${VAR}`` is read from ``env``."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as err:
        raise McpConfigError(f"{source}: not JSON ({err.msg} at line {err.lineno})") from None
    if not isinstance(document, dict):
        raise McpConfigError(f'{source}: must be a JSON object with an "mcpServers" object')
    unknown = sorted(set(document) - {"mcpServers", "baton"})
    if unknown:
        raise McpConfigError(f'{source}: unknown top-level key {unknown[0]!r} (only "mcpServers" and "baton" are read)')
    raw_servers = document.get("mcpServers", {})
    if not isinstance(raw_servers, dict):
        raise McpConfigError(f'{source}: "mcpServers" must be an object of servers by name')
    servers: dict[str, Server] = {}
    for name, raw in raw_servers.items():
        where = f"{source}: server {name!r}"
        if not SERVER_NAME.match(name):
            raise McpConfigError(f"{where}: a name is letters, digits, - and _ (it becomes '<server>.<tool>')")
        servers[name] = _server(raw, where=where, env=env)
    return McpConfig(servers=servers, aliases=_aliases(document.get("baton", {}), source=source))


def _aliases(raw: object, *, source: str) -> tuple[AliasConfig, ...]:
    """The ``baton`` section's aliases; an error names the alias by its number and pattern."""
    if not isinstance(raw, dict):
        raise McpConfigError(f'{source}: "baton" must be an object (with "aliases")')
    unknown = sorted(set(raw) - {"aliases"})
    if unknown:
        raise McpConfigError(f'{source}: baton: unknown key {unknown[0]!r} (only "aliases" is read)')
    entries = raw.get("aliases", [])
    if not isinstance(entries, list):
        raise McpConfigError(f"{source}: baton.aliases must be a list of aliases")
    aliases: list[AliasConfig] = []
    seen: set[str] = set()
    for number, entry in enumerate(entries, start=1):
        pattern = entry.get("pattern") if isinstance(entry, dict) else None
        where = f"{source}: alias {number}" + (f" ({pattern!r})" if isinstance(pattern, str) else "")
        try:
            alias = AliasConfig.model_validate(entry)
        except ValidationError as err:
            first = err.errors()[0]
            place = ".".join(str(part) for part in first["loc"])
            error = first.get("ctx", {}).get("error")
            problem = str(error) if isinstance(error, AliasError) else first["msg"]
            raise McpConfigError(f"{where}: {place + ': ' if place else ''}{problem}") from None
        key = alias.parsed.source.casefold()
        if key in seen:
            raise McpConfigError(f"{where}: the same pattern is given twice")
        seen.add(key)
        aliases.append(alias)
    return tuple(aliases)


def _server(raw: object, *, where: str, env: Mapping[str, str]) -> Server:
    if not isinstance(raw, dict):
        raise McpConfigError(f'{where}: must be an object with "command" or "url"')
    if ("command" in raw) == ("url" in raw):
        raise McpConfigError(f'{where}: needs exactly one of "command" (stdio) or "url" (streamable HTTP)')
    model: type[StdioServer] | type[HttpServer] = StdioServer if "command" in raw else HttpServer
    try:
        server = model.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        place = ".".join(str(part) for part in first["loc"]) or "value"
        raise McpConfigError(f"{where}: {place}: {first['msg']}") from None
    if isinstance(server, StdioServer):
        return server.model_copy(update={"env": _substitute(server.env, where=where, env=env)})
    return server.model_copy(update={"headers": _substitute(server.headers, where=where, env=env)})


def _substitute(values: Mapping[str, str], *, where: str, env: Mapping[str, str]) -> dict[str, str]:
    """``${VAR}`` replaced from ``env``; an unset variable is an error naming it (never an empty secret)."""

    def value_of(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in env:
            raise McpConfigError(f"{where}: ${{{name}}} is used but not set in the environment")
        return env[name]

    return {key: _VARIABLE.sub(value_of, value) for key, value in values.items()}
