"""Who an action item belongs to: the name spoken in the meeting, mapped to a Slack user id.

:func:`resolve_owner` never guesses. In order:

1. a Slack mention (``<@U123>`` or ``<@U123|bob>``) is that user, if they are among ``people``;
2. a first-person owner (``I``, ``me``, ``myself``, ``I'll``, ...) stands for the speaker, whose name is
   resolved instead (no speaker: no owner);
3. a configured alias wins: ``aliases`` maps a lowercased name to a user id (``{"bob": "U123"}``);
4. otherwise the name is compared with every person's handle, display name, real name and first name
   (first word of the real or display name), ignoring case, accents and punctuation (``josé.garcía``
   equals ``Jose Garcia``). Exactly one matching person is the owner; two or more (two Alexes) or
   none give ``None``.

:func:`people_from_slack` turns Slack ``users.list`` members into :class:`Person` values.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

__all__ = ["Person", "match_keys", "normal_name", "people_from_slack", "resolve_owner"]

_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_FIRST_PERSON = frozenset({"i", "me", "myself", "i'll", "ill", "i will", "i am", "i'm", "im", "mine", "my", "self"})
_SLACKBOT = "USLACKBOT"
_NO_ALIASES: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True)
class Person:
    """A workspace member as far as owner matching needs: id, handle and the names people call them."""

    user_id: str
    name: str  # the Slack handle
    display_name: str = ""
    real_name: str = ""


def normal_name(text: str) -> str:
    """``text`` casefolded, without accents, punctuation turned into spaces: ``"José.García"`` -> ``"jose garcia"``."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[\W_]+", " ", letters).split())


def match_keys(person: Person) -> frozenset[str]:
    """Every normalised name ``person`` answers to: handle, display name, real name and their first words."""
    keys = {normal_name(person.name), normal_name(person.display_name), normal_name(person.real_name)}
    for full in (person.display_name, person.real_name):
        words = normal_name(full).split()
        if words:
            keys.add(words[0])
    keys.discard("")
    return frozenset(keys)


def _first_person(owner: str) -> bool:
    spoken = " ".join(owner.casefold().replace("’", "'").split()).strip(".,!?;:")
    return spoken in _FIRST_PERSON


def resolve_owner(
    owner_name: str | None,
    *,
    speaker: str | None,
    people: Sequence[Person],
    aliases: Mapping[str, str] = _NO_ALIASES,
) -> str | None:
    """The Slack user id ``owner_name`` refers to, or ``None`` when unknown or ambiguous (see module doc).

    ``speaker`` is who said the sentence, used for first-person owners; ``aliases`` maps lowercased
    spoken names to user ids and takes precedence over name matching.
    """
    if owner_name is None or not owner_name.strip():
        return None
    if mention := _MENTION.search(owner_name):
        user_id = mention[1]
        return user_id if any(person.user_id == user_id for person in people) else None
    if _first_person(owner_name):
        if speaker is None:
            return None
        return resolve_owner(speaker, speaker=None, people=people, aliases=aliases)
    key = normal_name(owner_name.lstrip("@"))
    if not key:
        return None
    for alias, user_id in aliases.items():
        if normal_name(alias) == key:
            return user_id
    matches = {person.user_id for person in people if key in match_keys(person)}
    return matches.pop() if len(matches) == 1 else None


def people_from_slack(members: Iterable[Mapping[str, Any]]) -> list[Person]:
    """:class:`Person` values from Slack ``users.list`` members, leaving out deleted users, bots and Slackbot."""
    people: list[Person] = []
    for member in members:
        user_id = member.get("id")
        if not isinstance(user_id, str) or not user_id or user_id == _SLACKBOT:
            continue
        if member.get("deleted") or member.get("is_bot"):
            continue
        profile = member.get("profile") or {}
        people.append(
            Person(
                user_id=user_id,
                name=str(member.get("name") or ""),
                display_name=str(profile.get("display_name") or ""),
                real_name=str(profile.get("real_name") or member.get("real_name") or ""),
            )
        )
    return people
