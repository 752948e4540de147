"""``baton doctor``'s verdicts: FAIL only for what is configured and broken; "not configured" says what
that means and does not fail the run."""

from __future__ import annotations

from baton.doctor import Check, exit_code, summary


def test_each_kind_of_check_has_its_own_word():
    assert Check("redis", True, "Redis 7.2 (embedded)").line() == "PASS  redis      Redis 7.2 (embedded)"
    assert Check("slack", False, "auth.test failed: invalid_auth").line() == (
        "FAIL  slack      auth.test failed: invalid_auth"
    )
    skipped = Check("llm", False, "no LLM configured: degraded mode", configured=False)
    assert skipped.line() == "SKIP  llm        not configured: no LLM configured: degraded mode"
    assert not skipped.failed and Check("slack", False, "x").failed and not Check("redis", True, "x").failed


def test_not_configured_is_not_a_failure():
    checks = [
        Check("postgres", True, "ok"),
        Check("slack", False, "demo mode", configured=False),
        Check("llm", False, "degraded mode", configured=False),
    ]
    assert exit_code(checks) == 0
    assert summary(checks) == "1 passed, 0 failed, 2 not configured"
    broken = [*checks, Check("redis", False, "cannot connect")]
    assert exit_code(broken) == 1
    assert summary(broken) == "1 passed, 1 failed, 2 not configured"
    assert summary([Check("postgres", True, "ok")]) == "1 passed, 0 failed"
