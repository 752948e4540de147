"""Redaction of personal data and secrets before text is embedded, remembered or sent to a model.

:class:`Redactor` finds e-mail addresses, phone numbers, payment card numbers (Luhn-checked),
IBANs (mod-97-checked) and secrets (API keys and tokens, JWTs, bearer tokens, PEM private keys,
passwords in URLs and ``password=...``-style assignments), and replaces each finding with
``[redacted <kind>]``. Findings carry offsets into the original text, never the matched value,
so a :class:`Redaction` can be logged without leaking what it removed.

Every built-in pattern starts at a token boundary (a negative look-behind on its own character
class) and uses bounded or possessive quantifiers, so the scan is linear in the text length;
anything the regular expressions cannot express (checksums, date shapes, context words) is checked
in Python on the candidate.

Redaction is idempotent: an existing ``[redacted ...]`` marker is never redacted again, and the
output is scanned again until nothing new turns up, so ``redact(redact(x).text)`` changes nothing.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

EMAIL = "email"
PHONE = "phone"
CARD = "card"
IBAN = "iban"
SECRET = "secret"
#: Built-in kinds, in the order that breaks ties when overlapping findings have the same length.
KINDS = (SECRET, IBAN, CARD, EMAIL, PHONE)

_KIND_NAME = re.compile(r"[a-z][a-z0-9_\-]{0,39}")
#: What a finding is replaced with; group 1 is the kind. Redacted text is never redacted again.
MARKER = re.compile(r"\[redacted ([a-z][a-z0-9_\-]{0,39})\]")


@dataclass(frozen=True)
class Finding:
    """One redacted stretch: ``text[start:end]`` of the original text was of ``kind``."""

    kind: str
    start: int
    end: int


@dataclass(frozen=True)
class Redaction:
    """The redacted text and where its findings were in the original."""

    text: str
    findings: tuple[Finding, ...]

    @property
    def kinds(self) -> tuple[str, ...]:
        """The kinds found, sorted, each once."""
        return tuple(sorted({finding.kind for finding in self.findings}))


Detector = Callable[[str], Iterator[Finding]]


class Redactor:
    """Finds and replaces personal data and secrets; safe to share between threads.

    ``extra_patterns`` are ``(kind, regex)`` pairs searched after the built-in detectors. The whole
    match is redacted, or only the group named ``value`` when the pattern has one. Kinds are short
    lowercase names (``employee_id``); a pattern that does not compile or can match the empty string
    raises :class:`ValueError` naming it. Extra patterns are trusted to be free of catastrophic
    backtracking.
    """

    def __init__(self, extra_patterns: Sequence[tuple[str, str]] = ()) -> None:
        self._detectors: list[Detector] = [*_BUILT_IN]
        self._priority = {kind: rank for rank, kind in enumerate(KINDS)}
        for kind, pattern in extra_patterns:
            self._detectors.append(_extra_detector(kind, pattern))
            self._priority.setdefault(kind, len(self._priority))

    def redact(self, text: str) -> Redaction:
        """``text`` with every finding replaced by ``[redacted <kind>]``; never raises on a ``str``.

        The redacted text is scanned again until nothing new turns up: replacing a finding changes its
        neighbourhood (``+44 20 7946 0321a@b.com`` loses the digits the address took), and redacting
        a redacted text must change nothing.
        """
        findings: tuple[Finding, ...] = ()
        redacted = text
        for _ in range(_MAX_PASSES):
            found = self._detect(redacted)
            if not found:
                break
            findings = self._merge([*findings, *_to_original(found, findings)])
            redacted = _replace(text, findings)
        return Redaction(text=redacted, findings=findings)

    def _detect(self, text: str) -> list[Finding]:
        return _outside_markers(text, [finding for detect in self._detectors for finding in detect(text)])

    def redact_all(self, texts: Iterable[str]) -> list[Redaction]:
        """:meth:`redact` applied to each text, in order."""
        return [self.redact(text) for text in texts]

    def _merge(self, found: list[Finding]) -> tuple[Finding, ...]:
        """Overlapping findings become one covering their union, of the kind of the longest."""
        merged: list[Finding] = []
        group: list[Finding] = []
        group_end = -1
        for finding in sorted(found, key=lambda f: (f.start, -f.end)):
            if group and finding.start >= group_end:
                merged.append(self._winner(group, group_end))
                group = []
            group_end = max(group_end, finding.end) if group else finding.end
            group.append(finding)
        if group:
            merged.append(self._winner(group, group_end))
        return tuple(merged)

    def _winner(self, group: list[Finding], end: int) -> Finding:
        best = min(group, key=lambda f: (f.start - f.end, self._priority[f.kind], f.start))
        return Finding(best.kind, group[0].start, end)


def redact_all(texts: Iterable[str]) -> list[Redaction]:
    """Redact each text with :data:`DEFAULT_REDACTOR`."""
    return DEFAULT_REDACTOR.redact_all(texts)


#: Scans of one text at most; each scan after the first runs only if the previous one found something new.
_MAX_PASSES = 8


def _replace(text: str, findings: tuple[Finding, ...]) -> str:
    pieces: list[str] = []
    cursor = 0
    for finding in findings:
        pieces.append(text[cursor : finding.start])
        pieces.append(f"[redacted {finding.kind}]")
        cursor = finding.end
    pieces.append(text[cursor:])
    return "".join(pieces)


def _to_original(found: list[Finding], replaced: tuple[Finding, ...]) -> list[Finding]:
    """Offsets in the text redacted with ``replaced`` (sorted, disjoint) mapped back to the original text.

    ``found`` never overlaps a marker, so each offset lies in original text and shifts by the length
    difference of the markers before it.
    """
    marker_starts: list[int] = []
    shifts: list[int] = []  # total shift after each marker
    shift = 0
    for finding in replaced:
        marker_starts.append(finding.start + shift)
        shift += len(f"[redacted {finding.kind}]") - (finding.end - finding.start)
        shifts.append(shift)

    def original(offset: int) -> int:
        index = bisect.bisect_left(marker_starts, offset) - 1  # markers wholly before the offset
        return offset - (shifts[index] if index >= 0 else 0)

    return [Finding(f.kind, original(f.start), original(f.end)) for f in found]


def _outside_markers(text: str, found: list[Finding]) -> list[Finding]:
    """Drop empty findings and those overlapping a ``[redacted ...]`` marker (redacted text stays as it is)."""
    if "[redacted " not in text:
        return [f for f in found if f.end > f.start]
    markers = [(m.start(), m.end()) for m in MARKER.finditer(text)]
    starts = [start for start, _ in markers]
    kept = []
    for finding in found:
        index = bisect.bisect_left(starts, finding.end) - 1
        overlaps = index >= 0 and markers[index][1] > finding.start
        if finding.end > finding.start and not overlaps:
            kept.append(finding)
    return kept


def _extra_detector(kind: str, pattern: str) -> Detector:
    if not isinstance(kind, str) or not _KIND_NAME.fullmatch(kind):
        raise ValueError(
            f"extra pattern {pattern!r}: kind {kind!r} must be lowercase letters, digits, '_' or '-' "
            "(at most 40, starting with a letter)"
        )
    try:
        regex = re.compile(pattern)
    except (re.error, TypeError) as err:
        raise ValueError(f"extra pattern {kind!r} {pattern!r} is not a valid regular expression: {err}") from err
    if regex.match("") is not None:
        raise ValueError(f"extra pattern {kind!r} {pattern!r} matches the empty string; it would redact nothing")
    group: int | str = "value" if "value" in regex.groupindex else 0

    def detect(text: str) -> Iterator[Finding]:
        for match in regex.finditer(text):
            start, end = match.span(group)
            if end > start:
                yield Finding(kind, start, end)

    return detect


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# -- e-mail ----------------------------------------------------------------------------------------
# Unicode-aware on purpose: internationalised addresses (josé@exämple.de) are personal data too, also
# when the accent is a separate combining mark (U+0300-U+036F), which \w does not match. Top-level
# domains are ASCII, so an address glued to the next word of CJK text still ends at its TLD.
_EMAIL = re.compile(
    r"(?<![\w\u0300-\u036f.%+\-])\w[\w\u0300-\u036f.%+'\-]{0,63}@"
    r"(?:[^\W_][\w\u0300-\u036f\-]{0,62}\.){1,8}(?P<tld>[A-Za-z]{2,24})(?![A-Za-z0-9\-]|:[\w~/])"
)
# Generic top-level domains accepted besides every two-letter country code. A closed list keeps code
# such as ``out = x@self.weight`` from reading as an address.
_GENERIC_TLDS = _word_set(
    "com org net edu gov mil int info biz name pro dev app io ai tech cloud online site xyz email mail page "
    "store shop blog news team work life live today world global digital agency company solutions services "
    "systems network media studio design art club inc ltd llc group capital finance bank money law health "
    "care zone space tools codes software engineering science academy social chat link click host website "
    "ninja rocks guru museum travel jobs mobi asia tel aero coop corp internal local lan example test"
)
# Two-letter file extensions that are no country's code (``bundle@v2.js`` is a file, not a person).
_FILE_EXTENSIONS = _word_set("js ts rb go gz db kt hs cs mm")
_NON_ASCII_PREFIX = re.compile(r"[^\x00-\x7f]+(?=[\x00-\x7f]+$)")
_URL_USERINFO_BEFORE = re.compile(r"://(?:[^\s/@:]{0,128}:)?$")


def _emails(text: str) -> Iterator[Finding]:
    for match in _EMAIL.finditer(text):
        tld = match.group("tld").lower()
        if tld not in _GENERIC_TLDS and (len(tld) != 2 or tld in _FILE_EXTENSIONS):
            continue
        if _URL_USERINFO_BEFORE.search(text, max(0, match.start() - 140), match.start()):
            continue  # user:password@host of a URL: the password detector handles it
        start = match.start()
        # "連絡先はalice@example.com": words of a script without spaces run into an ASCII address.
        glued = _NON_ASCII_PREFIX.match(text, start, text.index("@", start))
        yield Finding(EMAIL, glued.end() if glued else start, match.end())


# -- phone -----------------------------------------------------------------------------------------
_NOT_BEFORE_NUMBER = r"(?<![\w#/.@$€£¥+\-])"
_NOT_AFTER_NUMBER = r"(?![\w@]|[.\-/][0-9])"
_PHONE_INTERNATIONAL = re.compile(
    r"(?<![\w+])(?:\+[1-9][0-9]*+|\(\+[1-9][0-9]{0,2}\))(?:(?:[ .\-]|[ ]?\([0-9]{1,4}\)[ ]?)[0-9]++){0,7}+"
    + _NOT_AFTER_NUMBER,
    re.ASCII,
)
_PHONE_NANP = re.compile(
    _NOT_BEFORE_NUMBER
    + r"(?:1[ .\-])?(?:\([2-9][0-9]{2}\)[ ]?|[2-9][0-9]{2}[ .\-])[2-9][0-9]{2}[ .\-][0-9]{4}"
    + _NOT_AFTER_NUMBER,
    re.ASCII,
)
# National numbers with a trunk prefix (020 7946 0958, 06 12 34 56 78, 0171/1234567, 0044 20 ...):
# one separator used throughout, so a date followed by a time does not chain into a number.
_PHONE_NATIONAL = re.compile(
    _NOT_BEFORE_NUMBER
    + r"(?:0[0-9]{1,4}(?P<sep>[ .\-/])[0-9]{2,8}(?:(?P=sep)[0-9]{2,8}){0,5}+"
    + r"|\(0[0-9]{1,4}\)[ ]?[0-9]{2,8}(?:[ \-][0-9]{2,8}){0,3}+)"
    + _NOT_AFTER_NUMBER,
    re.ASCII,
)
# Any digits right after a word that says "this is a phone number".
_PHONE_AFTER_WORD = re.compile(
    r"(?i)(?:\b(?:phone|tel|telephone|mobile|cell|cellphone|call|ring|whatsapp|sms|text|fax|dial|landline)"
    r"(?:\s+(?:me|him|her|them|us|back))?(?:\s+(?:number|no\.?|nr\.?))?"
    r"|\b(?:my|his|her|their|your|our)\s+(?:number|digits))"
    r"(?:\s+(?:is|was))?(?:\s+(?:at|on))?\s{0,3}[:#]?\s{0,3}"
    r"(?P<value>[0-9](?:[ .\-]?[0-9]){6,14})" + _NOT_AFTER_NUMBER,
    re.ASCII,
)
_DATE_SHAPE = re.compile(r"[0-9]{4}[.\-/ ][0-9]{1,2}[.\-/ ][0-9]{1,2}|[0-9]{1,2}[.\-/ ][0-9]{1,2}[.\-/ ][0-9]{2,4}")
# A marker counts as a digit group: what it replaced may have ended in a digit (keeps redaction idempotent).
_DIGIT_GROUP_BEFORE = re.compile(r"(?:[0-9]|\[redacted [a-z][a-z0-9_\-]{0,39}\])[ .\-/]$")
_ID_CONTEXT = re.compile(
    r"(?i)\b(?:order|ticket|invoice|case|ref|reference|id|account|acct|tracking|build|job|run|issue|incident|"
    r"serial|sku|po|pr|version|ver|release|zip|postcode|meeting|room)s?\s*(?:no\.?|number|nr\.?)?"
    r"(?:\s+(?:is|was))?\s*[:#]?\s*$",
    re.ASCII,
)


def _digit_count(value: str) -> int:
    return sum(ch.isdigit() for ch in value)


def _phones(text: str) -> Iterator[Finding]:
    for match in _PHONE_INTERNATIONAL.finditer(text):
        value = match.group()
        if 8 <= _digit_count(value.replace("(0)", "")) <= 15:
            yield Finding(PHONE, match.start(), match.end())
    for regex in (_PHONE_NANP, _PHONE_NATIONAL):
        for match in regex.finditer(text):
            if _national_number(match.group()) and _stands_alone(text, match.start()):
                yield Finding(PHONE, match.start(), match.end())
    for match in _PHONE_AFTER_WORD.finditer(text):
        value = match.group("value")
        if 7 <= _digit_count(value) <= 15 and not _DATE_SHAPE.fullmatch(value):
            yield Finding(PHONE, match.start("value"), match.end("value"))


def _stands_alone(text: str, start: int) -> bool:
    """Not an order/ticket/... number, nor the tail of a longer run of digit groups (3704 0044 0532 0130 87)."""
    id_word = _ID_CONTEXT.search(text, max(0, start - 30), start)
    return not (id_word or _DIGIT_GROUP_BEFORE.search(text, max(0, start - 60), start))


def _national_number(value: str) -> bool:
    digits = _digit_count(value)
    groups = re.split(r"[ .\-/()]+", value.strip("()"))
    if _DATE_SHAPE.fullmatch(value):
        return False
    if [len(group) for group in groups] == [5, 4] and "-" in value:
        return False  # a US ZIP+4 code
    if value.startswith("00"):
        if value[2:3] in ("0", " ", "-", ".", "/"):
            return False  # no country code starts with 0
        mac_like = len(groups) >= 6 and all(len(group) == 2 for group in groups)
        return 10 <= digits <= 17 and not mac_like
    return 9 <= digits <= 12


# -- payment cards ---------------------------------------------------------------------------------
_CARD = re.compile(
    r"(?<![\w.\-/+])(?:[0-9]{13,19}+|[0-9]{4}(?:[ \-][0-9]{3,6}){2,4}+)(?![\w]|[.\-/][0-9])", re.ASCII
)


def _cards(text: str) -> Iterator[Finding]:
    for match in _CARD.finditer(text):
        value = match.group()
        separators = set(re.findall(r"[ \-]", value))
        if len(separators) > 1:
            continue
        groups = re.split(r"[ \-]", value)
        if len(groups) == 1 and not _stands_alone(text, match.start()):
            continue  # "ids: 4532015112830366": a bare number after an id-ish word is an id
        # A trailing group may be something else (a CVV, an expiry): try the longest prefix first.
        for count in range(len(groups), 0 if len(groups) == 1 else 2, -1):
            digits = "".join(groups[:count])
            if _card_network_length(digits) and _luhn_valid(digits):
                end = match.start() + len(" ".join(groups[:count]))
                yield Finding(CARD, match.start(), end)
                break


def _card_network_length(digits: str) -> bool:
    """A length some card network issues for this prefix (an IMEI starting with 4 is 15 digits: no Visa)."""
    length = len(digits)
    if digits[0] == "4":  # Visa
        return length in (13, 16, 19)
    if digits[:2] in ("34", "37"):  # American Express
        return length == 15
    if digits[0] == "3":  # JCB, Diners Club
        return 14 <= length <= 19
    if digits[0] == "2":  # Mastercard 2-series
        return length == 16 and 2221 <= int(digits[:4]) <= 2720
    return digits[0] in "56" and 16 <= length <= 19  # Mastercard, Maestro, Discover, UnionPay


def _luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


# -- IBAN ------------------------------------------------------------------------------------------
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}[0-9]{2}(?:[ ]?[A-Za-z0-9]){10,32}+", re.ASCII)
#: IBAN length of each country that issues them (ISO 13616 registry).
_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29,
    "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29,
    "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28,
    "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
    "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29,
    "RO": 24, "RS": 22, "SA": 24, "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip


def _ibans(text: str) -> Iterator[Finding]:
    for match in _IBAN.finditer(text):
        length = _IBAN_LENGTHS.get(match.group()[:2].upper())
        if length is None or len(match.group().replace(" ", "")) < length:
            continue
        # The match may run on into the next words ("... 0130 00 EUR"): cut at the country's length.
        end = match.start()
        taken = 0
        while taken < length:
            taken += text[end] != " "
            end += 1
        if end < len(text) and text[end].isalnum():
            continue
        iban = text[match.start() : end]
        if not (iban.isupper() or iban.islower()):
            continue  # mixed case is a word or an identifier, not a pasted IBAN
        if _iban_checksum_valid(iban.replace(" ", "").upper()):
            yield Finding(IBAN, match.start(), end)


def _iban_checksum_valid(iban: str) -> bool:
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


# -- secrets ---------------------------------------------------------------------------------------
# (pattern, must contain both letters and digits): real keys do; "sk-this-is-a-placeholder" does not.
_TOKEN_PATTERNS = [
    (r"(?<![\w\-])sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,256}+", True),  # OpenAI and compatible
    (r"(?<![\w\-])(?:xox[abposr]|xapp)-[A-Za-z0-9\-]{10,256}+", True),  # Slack tokens
    (r"(?<![\w\-])gh[pousr]_[A-Za-z0-9]{30,255}+", True),  # GitHub tokens
    (r"(?<![\w\-])github_pat_[A-Za-z0-9_]{22,255}+", True),
    (r"(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])", True),  # AWS access key ids
    (r"(?<![\w\-])AIza[A-Za-z0-9_\-]{35}(?![\w\-])", True),  # Google API keys
    (r"(?<![\w\-])(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,247}+", True),  # Stripe secret and restricted keys
    (r"(?<![\w\-])whsec_[A-Za-z0-9+/=]{24,256}+", True),  # Stripe webhook signing secrets
    (r"(?<![\w\-])eyJ[A-Za-z0-9_\-]{8,8192}+\.[A-Za-z0-9_\-]{8,8192}+\.[A-Za-z0-9_\-]{8,8192}+", True),  # JWTs
    (r"hooks\.slack\.com/(?:services|workflows|triggers)/(?P<value>[A-Za-z0-9_\-]+/[A-Za-z0-9_\-/]{8,256}+)", False),
    # Authorization headers and bare bearer tokens: the credential only.
    (
        r"(?i)(?<![\w\-])authorization[\"']?\s{0,3}[:=]\s{0,3}[\"']?(?:bearer|token|basic)\s{1,3}"
        r"(?P<value>[A-Za-z0-9._~+/\-]{8,8192}+=*)",
        False,
    ),
    (r"(?i)(?<![\w\-])bearer\s{1,3}(?P<value>[A-Za-z0-9._~+/\-]{20,8192}+=*)", True),
    # The password of scheme://user:password@host (it may contain '@'; the host follows the last one).
    (
        r"(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]{1,30}://[^\s:/?#@<>|\"'`]{0,128}:"
        r"(?P<value>[^\s/?#<>|\"'`]{1,256})@(?=[\w\[])",
        False,
    ),
]
_TOKENS = [(re.compile(pattern, re.ASCII), mixed) for pattern, mixed in _TOKEN_PATTERNS]
_MIXED = re.compile(r"(?=.*[0-9])(?=.*[A-Za-z])", re.ASCII | re.DOTALL)

_PEM_BEGIN = re.compile(r"-----BEGIN (?:[A-Z0-9]{1,20} ){0,3}PRIVATE KEY(?: BLOCK)?-----")
_PEM_END = re.compile(r"-----END (?:[A-Z0-9]{1,20} ){0,3}PRIVATE KEY(?: BLOCK)?-----")
_PEM_BODY = re.compile(r"(?:\s*+(?:[A-Za-z0-9+/=]{8,}+|[\w\-]++: [^\n]*+))*+")

_SECRET_WORDS = (
    r"(?:passw(?:or)?d|passphrase|pwd|secret|api[_\-]?key|apikey|access[_\-]?key|private[_\-]?key|token"
    r"|(?<![a-z])pass|(?<![a-z])pw)"  # bare "pass"/"pw" only as a whole word part: not bypass, compass
)
_ASSIGNMENT = re.compile(
    r"(?i)(?<![\w.\-])(?P<key>(?P<dash>--)?[\w.\-]{0,40}?" + _SECRET_WORDS + r")[\"']?"
    r"(?:\s{0,3}(?P<op>=>|:=|=|:)\s{0,3}|(?(dash)[ ]{1,3}|(?!)))"
    r"(?P<value>\"(?P<dq>[^\"\r\n]{1,256})\"|'(?P<sq>[^'\r\n]{1,256})'|`(?P<bq>[^`\r\n]{1,256})`"
    r"|(?P<bare>[^\s\"'`,;&<>]{1,256}))",
    re.ASCII,
)
_PASSWORD_IS = re.compile(
    r"(?i)\b(?:password|passcode|passphrase|passwd|pwd)(?:\s+(?:for|of|on|to)\s+[^\n]{1,40}?)?\s+(?:is|was)\s{1,3}:?"
    r"\s{0,3}[\"'`]?(?P<value>[^\s\"'`]{4,128})",
    re.ASCII,
)
# "password Gu3st!Wifi": with no verb, only a value that could be nothing but a password counts.
_PASSWORD_SPACE = re.compile(
    r"(?i)\b(?:password|passcode|passphrase|passwd)\s{1,3}[\"'`]?(?P<value>[^\s\"'`]{8,128})", re.ASCII
)
_STRONG_PASSWORD = re.compile(
    r"(?=.*[0-9])(?=.*[A-Za-z])(?=.*[^A-Za-z0-9]|.*[a-z].*[A-Z]|.*[A-Z].*[a-z]).{8,}", re.ASCII | re.DOTALL
)
_TRAILING_PUNCTUATION = ".,;:)]}"
_PLACEHOLDER_START = tuple("$%{<([*=")
_PLACEHOLDER_WORDS = _word_set(
    "none null nil undefined true false yes no required optional string str bytes int secretstr hidden "
    "redacted masked sensitive empty unset enabled disabled changeit todo tbd n/a"
)
# A dotted name of code (settings.api_key, os.environ, config.SECRET_KEY), not a dotted token (ya29.a0Af...).
_ATTRIBUTE_PATH = re.compile(
    r"(?:[a-z_][a-z0-9_]*|[A-Z_][A-Z0-9_]*|[A-Z][A-Za-z]*)(?:\.(?:[a-z_][a-z0-9_]*|[A-Z_][A-Z0-9_]*))+"
)
_SHORT_WORD_KEY = re.compile(r"(?i)(?<![a-z])(?:pass|pw)$")
_WORD_KEYWORD = re.compile(r"(?i)" + _SECRET_WORDS, re.ASCII)


def _secrets(text: str) -> Iterator[Finding]:
    for regex, mixed in _TOKENS:
        group: int | str = "value" if "value" in regex.groupindex else 0
        for match in regex.finditer(text):
            start, end = match.span(group)
            if not mixed or _MIXED.match(text, start, end):
                yield Finding(SECRET, start, end)
    yield from _pem_blocks(text)
    yield from _values(_ASSIGNMENT, text, _assignment)
    yield from _values(_PASSWORD_IS, text, _password_is)
    yield from _values(_PASSWORD_SPACE, text, _password_space)


def _pem_blocks(text: str) -> Iterator[Finding]:
    """Whole PEM private key blocks; a block without its END line runs to the end of its body."""
    position = 0
    ends_exhausted = False
    while (begin := _PEM_BEGIN.search(text, position)) is not None:
        end = None if ends_exhausted else _PEM_END.search(text, begin.end())
        if end is None:
            ends_exhausted = True  # no END after here, so none after any later BEGIN either
            body = _PEM_BODY.match(text, begin.end())
            stop = body.end() if body else begin.end()
        else:
            stop = end.end()
        yield Finding(SECRET, begin.start(), stop)
        position = stop


def _values(regex: re.Pattern[str], text: str, accept: Callable[[re.Match[str]], Finding | None]) -> Iterator[Finding]:
    """The findings ``accept`` makes of ``regex``'s matches.

    After a rejected match the search resumes at its ``value`` group, not after it: a long rejected value
    (``token=get_token()...``) must not hide a real ``password=...`` inside it.
    """
    position = 0
    while (match := regex.search(text, position)) is not None:
        finding = accept(match)
        if finding is not None:
            yield finding
        position = match.end() if finding is not None else max(match.start("value"), match.start() + 1)


def _assignment(match: re.Match[str]) -> Finding | None:
    text = match.string
    name = next(group for group in ("dq", "sq", "bq", "bare") if match.group(group) is not None)
    start, end = match.span(name)
    if name == "bare":
        start, end = _strip_trailing(text, start, end)
    value, after = text[start:end], text[end : end + 3]
    return Finding(SECRET, start, end) if _looks_like_secret_value(match["key"], value, name != "bare", after) else None


def _password_is(match: re.Match[str]) -> Finding | None:
    start, end = _strip_trailing(match.string, *match.span("value"))
    value = match.string[start:end]
    ok = len(value) >= 4 and not value.isalpha() and not value.startswith(_PLACEHOLDER_START)
    return Finding(SECRET, start, end) if ok else None


def _password_space(match: re.Match[str]) -> Finding | None:
    start, end = _strip_trailing(match.string, *match.span("value"))
    return Finding(SECRET, start, end) if _STRONG_PASSWORD.match(match.string, start, end) else None


def _strip_trailing(text: str, start: int, end: int) -> tuple[int, int]:
    while end > start and text[end - 1] in _TRAILING_PUNCTUATION:
        end -= 1
    return start, end


def _looks_like_secret_value(key: str, value: str, quoted: bool, text_after: str) -> bool:
    """Tell a credential from a placeholder, a code reference, a type annotation or prose."""
    is_password = re.search(r"(?i)passw|pwd|passphrase", key) is not None
    if len(value) < (4 if is_password else 6 if _SHORT_WORD_KEY.search(key) else 8):
        return False
    if value.lower() in _PLACEHOLDER_WORDS or (not is_password and value.isdigit()):
        return False
    if value.startswith(_PLACEHOLDER_START) or set(value) <= set("*xX.#-_•"):
        return False  # ${VAR}, <your-token>, ****, xxxx
    if not quoted and ("(" in value or "[" in value or _ATTRIBUTE_PATH.fullmatch(value)):
        return False  # get_token(), os.environ["X"], settings.api_key
    if re.fullmatch(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+", value):
        return False  # an environment variable's name: api_key=OPENAI_API_KEY
    if re.fullmatch(r"[a-z_][a-z0-9_]*", value) and (value == key.lower() or "_" in value) and (
        _WORD_KEYWORD.search(value)
    ):
        return False  # password=password, token=slack_token
    if not quoted and value.isalpha():
        if re.fullmatch(r"(?:[A-Z][a-z]+){2,}", value):
            return False  # a type annotation: secret: SecretStr
        if re.match(r"\s+[A-Za-z]", text_after):
            return False  # prose: "Password: reset it from the admin page"
    return True


_BUILT_IN: tuple[Detector, ...] = (_secrets, _ibans, _cards, _emails, _phones)

#: A redactor with the built-in detectors only.
DEFAULT_REDACTOR = Redactor()
