"""Per-purpose attempt timeouts and the work deadlines: lookup, parsing and the settings that carry them."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import defaults
from core.llm_timeouts import attempt_timeout, parse_timeouts
from core.settings import SettingsError, load_settings

HOME = Path("/tmp/baton-home")


def test_a_purpose_its_repair_and_anything_else():
    timeouts = {"plan": 20.0, "plan_repair": 5.0, "digest": 10.0}
    assert attempt_timeout("plan", timeouts, default=30) == 20
    assert attempt_timeout("plan_repair", timeouts, default=30) == 5
    assert attempt_timeout("digest_repair", timeouts, default=30) == 10  # a repair takes its purpose's
    assert attempt_timeout("doctor", timeouts, default=30) == 30


def test_parsing_names_the_bad_entry():
    assert parse_timeouts("plan=15, meeting_chunk=120,,plan_repair=5") == (
        ("plan", 15),
        ("meeting_chunk", 120),
        ("plan_repair", 5),
    )
    for bad in ("plan", "plan=0", "plan=1.5", "planning=10"):
        with pytest.raises(ValueError, match=f"entry {bad!r} is not purpose=seconds"):
            parse_timeouts(bad)


def test_settings_carry_timeouts_and_deadlines():
    plain = load_settings({}, default_home=HOME)
    assert plain.llm_timeouts == ()
    assert (plain.meeting_deadline_seconds, plain.digest_deadline_seconds) == (
        defaults.MEETING_DEADLINE_SECONDS,
        defaults.DIGEST_DEADLINE_SECONDS,
    )
    set_ = load_settings(
        {"BATON_LLM_TIMEOUTS": "digest=5", "BATON_MEETING_DEADLINE": "60", "BATON_DIGEST_DEADLINE": "8"},
        default_home=HOME,
    )
    assert (set_.llm_timeouts, set_.meeting_deadline_seconds, set_.digest_deadline_seconds) == ((("digest", 5),), 60, 8)
    with pytest.raises(SettingsError, match=r"BATON_LLM_TIMEOUTS.*'digest=soon'"):
        load_settings({"BATON_LLM_TIMEOUTS": "digest=soon"}, default_home=HOME)
    limits = load_settings({"BATON_LLM_OUTPUT_TOKENS": "plan=800,plan_repair=400"}, default_home=HOME)
    assert limits.llm_output_tokens == (("plan", 800), ("plan_repair", 400))
    with pytest.raises(SettingsError, match=r"BATON_LLM_OUTPUT_TOKENS.*'plan=lots' is not purpose=tokens"):
        load_settings({"BATON_LLM_OUTPUT_TOKENS": "plan=lots"}, default_home=HOME)
    with pytest.raises(SettingsError, match="BATON_DIGEST_DEADLINE"):
        load_settings({"BATON_DIGEST_DEADLINE": "0"}, default_home=HOME)
