"""Redaction before embedding, long-term memory and the LLM (core.redaction)."""

from __future__ import annotations

import dataclasses
import json
import random
import time
from pathlib import Path

import pytest

from core.redaction import DEFAULT_REDACTOR, KINDS, MARKER, Finding, Redaction, Redactor, redact_all

CASES_PATH = Path(__file__).resolve().parents[1] / "data" / "redaction_cases.jsonl"


def redacted(text: str) -> str:
    return DEFAULT_REDACTOR.redact(text).text


def found(text: str) -> list[tuple[str, str]]:
    """(kind, original value) of every finding."""
    return [(f.kind, text[f.start : f.end]) for f in DEFAULT_REDACTOR.redact(text).findings]


def luhn_digit(body: str) -> str:
    """The check digit that makes ``body`` + digit Luhn-valid (computed here, not taken from the module)."""
    for check in "0123456789":
        digits = [int(c) for c in body + check][::-1]
        total = sum(d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2) for i, d in enumerate(digits))
        if total % 10 == 0:
            return check
    raise AssertionError("unreachable")


def iban_with_check(country: str, bban: str) -> str:
    number = int("".join(str(int(c, 36)) for c in bban + country + "00"))
    return f"{country}{98 - number % 97:02d}{bban}"


VISA = "4" + "53920184466701"
VISA += luhn_digit(VISA)
IBAN_DE = iban_with_check("DE", "210501700012345678")


# -- per kind --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("write to ana.lima@example.com.br today", "ana.lima@example.com.br"),
        ("<mailto:ops+alerts@acme.io|ops+alerts@acme.io>", "ops+alerts@acme.io"),
        ("josé@exämple.de", "josé@exämple.de"),
    ],
)
def test_email(text, value):
    assert ("email", value) in found(text)


@pytest.mark.parametrize(
    "text",
    ["@channel ship it", "send to user@ later", "npm i left-pad@1.3.0", "icon@2x.png", "out = x@self.weight",
     "git@github.com:acme/baton.git", "root@localhost"],
)
def test_not_email(text):
    assert found(text) == []


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("call +44 20 7946 0321 now", "+44 20 7946 0321"),
        ("US: (212) 555-0188", "(212) 555-0188"),
        ("1-888-555-0100 toll free", "1-888-555-0100"),
        ("Paris 01 45 67 89 10", "01 45 67 89 10"),
        ("Büro 030 98765432", "030 98765432"),
        ("+33 (0)6 12 34 56 78", "+33 (0)6 12 34 56 78"),
        ("ring me on 555-0111", "555-0111"),
    ],
)
def test_phone(text, value):
    assert ("phone", value) in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "released 2024-03-15 at 14:30:05",
        "on 15.03.2024 and 03/15/2024",
        "version 4.2.1 and build 10.0.22631.3296",
        "order ORD-555-123-4567 and ticket #5551234567",
        "hosts 10.20.30.40 and 172.16.254.1",
        "years 1999-2024",
        "cost $1,299,000.00 (€ 1 150 000)",
        "thread_ts 1700000000.000100",
        "+1 from me",
    ],
)
def test_not_phone(text):
    assert found(text) == []


@pytest.mark.parametrize(
    "text",
    [VISA, f"{VISA[:4]} {VISA[4:8]} {VISA[8:12]} {VISA[12:]}", f"{VISA[:4]}-{VISA[4:8]}-{VISA[8:12]}-{VISA[12:]}"],
)
def test_card_with_or_without_separators(text):
    assert found(f"card {text} please") == [("card", text)]


def test_card_must_pass_luhn():
    broken = VISA[:-1] + str((int(VISA[-1]) + 1) % 10)
    assert found(f"card {broken}") == []


def test_card_leaves_a_trailing_cvv_alone():
    spaced = f"{VISA[:4]} {VISA[4:8]} {VISA[8:12]} {VISA[12:]}"
    assert found(f"{spaced} 123") == [("card", spaced)]


@pytest.mark.parametrize("text", [IBAN_DE, " ".join(IBAN_DE[i : i + 4] for i in range(0, 22, 4))])
def test_iban_with_or_without_spaces(text):
    assert found(f"IBAN {text} EUR") == [("iban", text)]


def test_iban_may_be_lower_case_but_not_mixed_case():
    iban_gb = iban_with_check("GB", "NWBK60161331926819")  # letters in the account part
    assert found(f"iban {iban_gb.lower()}") == [("iban", iban_gb.lower())]
    mixed = iban_gb[:4] + "NwBk" + iban_gb[8:]  # valid once upper-cased, but typed like a word
    assert found(f"code {mixed}") == []


def test_iban_must_pass_mod_97():
    wrong = IBAN_DE[:2] + f"{(int(IBAN_DE[2:4]) + 1) % 100:02d}" + IBAN_DE[4:]
    assert found(f"IBAN {wrong}") == []


SECRETS = [
    ("sk-" + "Q2x9" * 12, "sk-" + "Q2x9" * 12),
    ("key=sk-proj-" + "a1B2_c3D4-" * 5, "sk-proj-" + "a1B2_c3D4-" * 5),
    ("xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp", "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp"),
    ("xapp-1-A012BCDEF-1234567890-abcdef0123456789", "xapp-1-A012BCDEF-1234567890-abcdef0123456789"),
    ("ghp_" + "aB3" * 12, "ghp_" + "aB3" * 12),
    ("github_pat_" + "11AB22CD33_" + "x9Y" * 20, "github_pat_" + "11AB22CD33_" + "x9Y" * 20),
    ("id AKIA2Z7QK5TESTABCD12 end", "AKIA2Z7QK5TESTABCD12"),
    ("aws_secret_access_key = " + "w9/K+z" * 6 + "AbCd", "w9/K+z" * 6 + "AbCd"),
    ("AIza" + "Sy9_x-" * 5 + "Qw7Er", "AIza" + "Sy9_x-" * 5 + "Qw7Er"),
    ("sk_" + "live_" + "4eC39HqLyjWDarjtT1zdp7dc", "sk_" + "live_" + "4eC39HqLyjWDarjtT1zdp7dc"),
    ("rk_" + "live_" + "9xY8wV7uT6sR5qP4oN3mL2kJ", "rk_" + "live_" + "9xY8wV7uT6sR5qP4oN3mL2kJ"),
    ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlXzEyMzQ1Ng",
     "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlXzEyMzQ1Ng"),
    ("Authorization: Bearer opaque-Token_1234.abcd", "opaque-Token_1234.abcd"),
    ("postgres://app:S3cr3t!@db:5432/app", "S3cr3t!"),
    ("password=hunter2", "hunter2"),
    ("passwd: 'x7#Rq!'", "x7#Rq!"),
    ("secret=0f9e8d7c6b5a4f3e2d1c", "0f9e8d7c6b5a4f3e2d1c"),
    ("api_key=\"k3y-V4lue-XYZ\"", "k3y-V4lue-XYZ"),
    ("token=abc123def456ghi7", "abc123def456ghi7"),
]


@pytest.mark.parametrize(("text", "value"), SECRETS)
def test_secret(text, value):
    assert found(text) == [("secret", value)]


def test_pem_private_key_block_is_redacted_whole():
    block = (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAq1w2e3r4t5y6\nZmFrZWtleWJvZHk=\n"
        "-----END RSA PRIVATE KEY-----"
    )
    assert redacted(f"key:\n{block}\nthanks") == "key:\n[redacted secret]\nthanks"


def test_pem_block_without_end_line_is_redacted_up_to_its_body():
    text = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nAAAAABG5vbmUAAAAEbm9uZQ\n\nbye"
    assert redacted(text) == "[redacted secret]\n\nbye"


def test_url_password_only_the_password_part():
    assert redacted("redis://:pw-123@cache:6379/0") == "redis://:[redacted secret]@cache:6379/0"
    assert redacted("https://example.com:8443/path") == "https://example.com:8443/path"


@pytest.mark.parametrize(
    "text",
    [
        "password=${DB_PASSWORD}",
        "token = os.environ['SLACK_TOKEN']",
        "api_key=settings.openai_api_key",
        "password: ********",
        "max_tokens=4096",
        "the password is wrong",
        "sk-this-is-not-a-key-at-all-really",
        "xoxb-your-token-here",
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
    ],
)
def test_not_secret(text):
    assert found(text) == []


# -- replacement, offsets, merging -----------------------------------------------------------------
def test_replacement_format_and_offsets_on_the_original_text():
    text = "mail bob@example.com or call +44 20 7946 0321, key password=hunter2."
    result = DEFAULT_REDACTOR.redact(text)
    assert result.text == "mail [redacted email] or call [redacted phone], key password=[redacted secret]."
    assert [(f.kind, text[f.start : f.end]) for f in result.findings] == [
        ("email", "bob@example.com"),
        ("phone", "+44 20 7946 0321"),
        ("secret", "hunter2"),
    ]
    assert result.kinds == ("email", "phone", "secret")
    assert result.findings == tuple(sorted(result.findings, key=lambda f: f.start))


def test_nothing_found_returns_the_text_unchanged():
    assert DEFAULT_REDACTOR.redact("all good here") == Redaction(text="all good here", findings=())
    assert DEFAULT_REDACTOR.redact("").kinds == ()


def test_results_are_frozen_and_hold_no_original_value():
    result = DEFAULT_REDACTOR.redact("password=hunter2")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.text = "x"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.findings[0].kind = "x"  # type: ignore[misc]
    assert "hunter2" not in repr(result)


def test_overlapping_findings_merge_into_one_of_the_longest_kind():
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlXzEyMzQ1Ng"
    result = DEFAULT_REDACTOR.redact(f"Authorization: Bearer {jwt}")  # bearer and JWT: the same span
    assert result.text == "Authorization: Bearer [redacted secret]"
    assert len(result.findings) == 1

    redactor = Redactor([("customer", r"cust:[\w@.]+"), ("domain", r"example\.com")])
    text = "ref cust:ann@example.com!"
    result = redactor.redact(text)
    # customer (16 chars) beats email (15) and domain (11); the merged finding covers their union.
    assert result.findings == (Finding("customer", 4, 24),)
    assert result.text == "ref [redacted customer]!"


def test_partly_overlapping_findings_cover_their_union():
    redactor = Redactor([("left", r"aaa bb"), ("right", r"bb cccc")])
    result = redactor.redact("x aaa bb cccc y")
    assert result.findings == (Finding("right", 2, 13),)
    assert result.text == "x [redacted right] y"


def test_redact_all_and_the_default_redactor():
    results = redact_all(["a@example.com", "nothing", "+44 20 7946 0321"])
    assert [r.kinds for r in results] == [("email",), (), ("phone",)]
    assert DEFAULT_REDACTOR.redact_all(["a@example.com"]) == results[:1]
    assert set(KINDS) == {"email", "phone", "card", "iban", "secret"}


# -- extra patterns --------------------------------------------------------------------------------
def test_extra_patterns_add_kinds():
    redactor = Redactor([("employee_id", r"\bEMP-\d{6}\b")])
    result = redactor.redact("EMP-004211 mailed hr@example.com")
    assert result.text == "[redacted employee_id] mailed [redacted email]"
    assert result.kinds == ("email", "employee_id")
    assert MARKER.findall(result.text) == ["employee_id", "email"]


def test_extra_pattern_with_a_value_group_redacts_only_that_group():
    redactor = Redactor([("badge", r"badge #(?P<value>\d{4,})")])
    assert redactor.redact("my badge #88213 at the door").text == "my badge #[redacted badge] at the door"


def test_extra_patterns_do_not_change_the_default_redactor():
    Redactor([("word", r"hello")])
    assert redacted("hello") == "hello"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("ticket", "TICKET-("), "'TICKET-(' is not a valid regular expression"),
        (("anything", r"x*"), "'x*' matches the empty string"),
        (("Not A Kind", r"x"), "kind 'Not A Kind'"),
        (("", r"x"), "kind ''"),
    ],
)
def test_bad_extra_pattern_is_a_clear_error(extra, message):
    with pytest.raises(ValueError, match=message.replace("*", r"\*").replace("(", r"\(")):
        Redactor([extra])


# -- robustness ------------------------------------------------------------------------------------
JUNK_POOL = (
    "0123456789" * 3 + "+-. ()/:@=#_" * 2 + "abcxyzABCXYZ"
    + "😀👍🏽👨\u200d👩\u200d👧🇩🇪"  # emoji, ZWJ sequences, flags
    + "\u202e\u202a\u202b\u202c\u200f\u200e"  # bidi controls
    + "مرحبا" + "שלום" + "日本語中文한국어"  # RTL and CJK
    + "e\u0301a\u0308\u0327\u20dd"  # combining marks
    + "\x00\x01\x07\x1b\x7f\r\n\t\u2028\u00a0\ufeff"  # NUL, controls, odd spaces
    + "\ud800\udfff"  # lone surrogates (valid in a Python str)
    + "٠١٢٣٤٥٦٧٨٩０１２３"  # non-ASCII digits
)


def junk(rng: random.Random, length: int) -> str:
    parts = []
    while sum(map(len, parts)) < length:
        if rng.random() < 0.1:
            parts.append(rng.choice(["a@b.com", "+44 20 7946 0321", VISA, IBAN_DE, "password=", "sk-", "://u:p@h",
                                     "[redacted secret]", "-----BEGIN PRIVATE KEY-----"]))
        else:
            parts.append(rng.choice(JUNK_POOL))
    return "".join(parts)


def test_any_unicode_and_binary_junk_is_safe():
    rng = random.Random(7)
    for _ in range(300):
        text = junk(rng, rng.randint(0, 400))
        result = DEFAULT_REDACTOR.redact(text)
        cursor = 0
        for finding in result.findings:
            assert cursor <= finding.start < finding.end <= len(text)
            cursor = finding.end
        rebuilt, cursor = [], 0
        for finding in result.findings:
            rebuilt += [text[cursor : finding.start], f"[redacted {finding.kind}]"]
            cursor = finding.end
        assert result.text == "".join(rebuilt) + text[cursor:]


def test_non_ascii_digits_are_not_read_as_numbers():
    assert found("٠٧٧٠٠ ٩٠٠١٢٣ and ０９０-１２３４-５６７８") == []


def test_bytes_decoded_with_replacement_characters_are_safe():
    text = bytes(range(256)).decode("utf-8", errors="replace") * 20 + "a@example.com"
    assert redacted(text).endswith("[redacted email]")


def test_redacting_redacted_text_changes_nothing():
    texts = [json.loads(line)["text"] for line in CASES_PATH.read_text(encoding="utf-8").splitlines() if line]
    rng = random.Random(11)
    texts += [junk(rng, 300) for _ in range(100)]
    for text in texts:
        once = DEFAULT_REDACTOR.redact(text)
        twice = DEFAULT_REDACTOR.redact(once.text)
        assert twice.text == once.text, text
        assert twice.findings == ()


def test_existing_markers_are_left_alone():
    text = "password=[redacted secret] and [redacted email], [redacted phone]"
    assert DEFAULT_REDACTOR.redact(text).findings == ()


ADVERSARIAL_UNITS = [
    "a", "1", "1 ", "0 ", "+1 ", "a@", "a.", "a@b.", "sk-", "a1", "eyJ", "eyJabcdefgh1.",
    "-----BEGIN RSA PRIVATE KEY-----\n", "password=", "password: ", "a_password", "http://a:", "a:", "b@",
    "DE89", " 1", "4111 ", "4111-1111-", "555-555-", "020 ", ".12", "call 1", "1-", "Bearer ",
    "Authorization: Bearer ", "x@y.z 1-2 +3 sk- eyJ password= ://a:b@ ", "é日本😀\u202e\u0301\x00",
    "[redacted secret] ", " ", "\n", "hooks.slack.com/services/", "phone ", "ghp_", "AKIA", "--password ",
    "password is ", "token:", "1.2.", "(0", " (1)", "a" * 63 + "@", "password for ", "token=$", "x_token=get(",
]  # fmt: skip


@pytest.mark.parametrize("unit", ADVERSARIAL_UNITS)
def test_100_kb_of_adversarial_input_is_fast(unit):
    text = (unit * (100_000 // len(unit) + 1))[:100_000]
    started = time.perf_counter()
    DEFAULT_REDACTOR.redact(text)
    assert time.perf_counter() - started < 2.0


def test_unterminated_private_keys_are_fast():
    text = "-----BEGIN PRIVATE KEY-----" + " " * 100_000 + "-----BEGIN PRIVATE KEY-----\n" + "A" * 100_000
    started = time.perf_counter()
    result = DEFAULT_REDACTOR.redact(text)
    assert time.perf_counter() - started < 2.0
    assert result.kinds == ("secret",)
