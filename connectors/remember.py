"""``memory.remember``: keep a fact Baton was asked to remember, behind a narrow :class:`FactStore` port.

Exactly once: the store keeps the idempotency key in a UNIQUE column, so remembering again under the same
key returns the fact stored the first time. Undo (``compensate``) deletes the fact.

Scope says who the fact is about: ``channel`` (the requesting conversation, the default), ``user`` (the
requester) or ``workspace`` (everyone: wider reach, so it needs more care).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Literal, Protocol

from pydantic import Field

from connectors.base import Args, Connector
from connectors.slack_targets import quote
from core.types import RequestOrigin, Risk

Scope = Literal["workspace", "channel", "user"]


class StoredFact(Protocol):
    """A fact as the store returns it."""

    @property
    def id(self) -> int: ...
    @property
    def scope(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def merged(self) -> bool: ...
    @property
    def superseded(self) -> int | None: ...
    @property
    def redacted(self) -> tuple[str, ...]: ...


class FactStore(Protocol):
    """Where remembered facts live, per workspace."""

    def remember(
        self,
        *,
        team_id: str,
        scope: Scope,
        channel_id: str | None,
        user_id: str | None,
        text: str,
        source: str | None,
        author_id: str | None,
        key: str,
        kind: str = "fact",
        replaces: int | None = None,
        source_channel: str | None = None,
        source_ts: str | None = None,
    ) -> StoredFact:
        """Store a fact (redacted), or return the one already stored under ``key`` or an equivalent one."""
        ...

    def forget(self, *, team_id: str, fact_id: int) -> bool:
        """Delete a fact; False when there was none."""
        ...


class RememberArgs(Args):
    """Arguments of ``memory.remember``."""

    text: str = Field(min_length=1, max_length=1000, description="The fact, as a short self-contained sentence.")
    scope: Scope = Field(
        default="channel",
        description=("Who it is about: this channel (default), the requesting user, or the whole workspace."),
    )
    kind: Literal["fact", "preference", "decision"] = Field(default="fact", description="What sort of memory it is.")
    replaces: int | None = Field(
        default=None,
        ge=1,
        description=("The id (#n) of a remembered memory this one corrects; the old one stops being used."),
    )


class Remember(Connector):
    """Remember a fact for later answers and plans."""

    action: ClassVar[str] = "memory.remember"
    summary: ClassVar[str] = "Remember a fact about this channel, the requesting user, or the whole workspace."
    args_model: ClassVar[type[Args]] = RememberArgs
    compensable: ClassVar[bool] = True

    def __init__(self, *, store: FactStore, permalink: Callable[[str, str], str | None] | None = None) -> None:
        self._store = store
        # Link to the message the fact came from, so answers can cite it (Slack's chat.getPermalink).
        self._permalink = permalink

    def preview(self, args: RememberArgs, *, origin: RequestOrigin) -> str:
        about = {
            "channel": "for this conversation" if origin.is_dm else f"for <#{origin.channel_id}>",
            "user": f"about <@{origin.user_id}>",
            "workspace": "for the whole workspace",
        }[args.scope]
        verb = f"Replace memory #{args.replaces} with" if args.replaces else "Remember"
        return f"{verb} {about}:\n{quote(args.text)}"

    def risk(self, args: RememberArgs, *, origin: RequestOrigin) -> Risk:
        return Risk.MEDIUM if args.scope == "workspace" else Risk.LOW

    def execute(self, args: RememberArgs, *, origin: RequestOrigin, key: str) -> dict[str, Any]:
        fact = self._store.remember(
            team_id=origin.team_id,
            scope=args.scope,
            channel_id=origin.channel_id if args.scope == "channel" else None,
            user_id=origin.user_id if args.scope == "user" else None,
            text=args.text,
            source=self._source(origin),
            author_id=origin.user_id,
            key=key,
            kind=args.kind,
            replaces=args.replaces,
            source_channel=origin.channel_id,
            source_ts=origin.message_ts,
        )
        return {
            "fact_id": fact.id,
            "scope": fact.scope,
            "text": fact.text,
            "merged": fact.merged,
            "superseded": fact.superseded,
            "redacted": list(fact.redacted),
        }

    def _source(self, origin: RequestOrigin) -> str:
        if self._permalink is not None and origin.message_ts:
            link = self._permalink(origin.channel_id, origin.message_ts)
            if link:
                return link
        return f"slack://channel?team={origin.team_id}&id={origin.channel_id}"

    def compensate(
        self, args: RememberArgs, result: Mapping[str, Any], *, origin: RequestOrigin, key: str
    ) -> dict[str, Any]:
        deleted = self._store.forget(team_id=origin.team_id, fact_id=int(result["fact_id"]))
        return {"fact_id": result["fact_id"], "deleted": deleted}
