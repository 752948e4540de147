"""Spoken owner names mapped to Slack users (core.meetings.owners)."""

from __future__ import annotations

import pytest

from core.meetings.owners import Person, normal_name, people_from_slack, resolve_owner

BOB = Person("U001", "bob", display_name="Bob", real_name="Robert Smith")
ALEX_KIM = Person("U002", "akim", display_name="", real_name="Alex Kim")
ALEX_LEE = Person("U003", "alex.lee", display_name="Alex L", real_name="Alexandra Lee")
JOSE = Person("U004", "jose.garcia", display_name="José", real_name="José García-López")
PEOPLE = [BOB, ALEX_KIM, ALEX_LEE, JOSE]


def owner(name, *, speaker=None, people=PEOPLE, **kwargs):
    return resolve_owner(name, speaker=speaker, people=people, **kwargs)


@pytest.mark.parametrize(
    ("spoken", "user_id"),
    [
        ("Bob", "U001"),
        ("bob", "U001"),
        ("@bob", "U001"),
        ("Robert", "U001"),  # first name of the real name
        ("Robert Smith", "U001"),
        ("robert smith.", "U001"),
        ("Alex Kim", "U002"),
        ("akim", "U002"),
        ("Alexandra", "U003"),
        ("alex.lee", "U003"),
        ("Alex L", "U003"),
        ("Jose", "U004"),  # accents ignored
        ("JOSÉ", "U004"),
        ("Jose Garcia Lopez", "U004"),  # punctuation ignored
        ("jose garcia", "U004"),  # the handle with its dot
    ],
)
def test_matches_handle_display_real_and_first_name_ignoring_case_accents_punctuation(spoken, user_id):
    assert owner(spoken) == user_id


def test_two_people_answering_to_a_name_is_ambiguous_and_never_guessed():
    assert owner("Alex") is None  # Alex Kim (first name) and Alex L (display name's first word)
    assert owner("alex", speaker="Bob") is None


def test_unknown_or_empty_names_give_none():
    assert owner("Zelda") is None
    assert owner(None) is None
    assert owner("   ") is None
    assert owner("!!!") is None
    assert owner("Bob", people=[]) is None


@pytest.mark.parametrize("first_person", ["I", "me", "myself", "I'll", "i", "Me.", "I’ll"])
def test_first_person_owners_are_the_speaker(first_person):
    assert owner(first_person, speaker="Robert Smith") == "U001"
    assert owner(first_person, speaker="Alex Kim") == "U002"


def test_first_person_without_a_speaker_or_with_an_ambiguous_speaker_gives_none():
    assert owner("I", speaker=None) is None
    assert owner("I'll", speaker="Alex") is None
    assert owner("me", speaker="Someone Else") is None


def test_aliases_win_over_name_matching_and_resolve_ambiguity():
    aliases = {"alex": "U002", "bobby": "U001", "bob": "U999"}
    assert owner("Alex", aliases=aliases) == "U002"
    assert owner("Bobby", aliases=aliases) == "U001"
    assert owner("BOB", aliases=aliases) == "U999"  # the configured alias wins over the handle
    assert owner("I", speaker="alex", aliases=aliases) == "U002"  # the speaker's name goes through aliases too


def test_slack_mentions_resolve_to_members_only():
    assert owner("<@U003>") == "U003"
    assert owner("<@U004|jose.garcia> will do it") == "U004"
    assert owner("<@U777>") is None


def test_normal_name_folds_case_accents_and_punctuation():
    assert normal_name("  José.García-López ") == "jose garcia lopez"
    assert normal_name("O'Brien") == "o brien"


def test_people_from_slack_skips_deleted_users_bots_and_slackbot():
    members = [
        {"id": "U001", "name": "bob", "profile": {"display_name": "Bob", "real_name": "Robert Smith"}},
        {"id": "U002", "name": "gone", "deleted": True, "profile": {"real_name": "Gone"}},
        {"id": "B001", "name": "deploybot", "is_bot": True, "profile": {"real_name": "Deploy Bot"}},
        {"id": "USLACKBOT", "name": "slackbot", "profile": {"real_name": "Slackbot"}},
        {"id": "U003", "name": "carol", "real_name": "Carol Diaz", "profile": {"display_name": ""}},
        {"id": "U004", "name": "dan"},
        {"name": "no-id"},
    ]
    assert people_from_slack(members) == [
        Person("U001", "bob", display_name="Bob", real_name="Robert Smith"),
        Person("U003", "carol", display_name="", real_name="Carol Diaz"),
        Person("U004", "dan"),
    ]


def test_people_from_slack_feed_resolve_owner():
    people = people_from_slack([{"id": "U9", "name": "dee", "profile": {"real_name": "Deirdre O'Neil"}}])
    assert owner("Deirdre", people=people) == "U9"
    assert owner("deirdre o'neil", people=people) == "U9"
