"""Sentence patterns for model-free notes: commitments, decisions and open questions.

Each function looks at one tidied sentence (``core.meetings.text.tidy``) and says what it is. Owners:

- first person ("I'll …", "I will …", "I'm going to …", "let me …"): the speaker;
- a named person ("Sarah will …", "so Sarah is going to …", "Sarah, can you …", "can you …, Sarah?"):
  that name, if it looks like a name (see :class:`Names`);
- "can you …" with no name: whoever answers next with "sure" / "yes" / "I will" (``addressee``);
  otherwise it is not an action item;
- "we need to / we'll / let's …": nobody (``None``), and only when a due date is said, since "we
  need to think about it" without a date is talk, not a task;
- "action item: …" / "todo: …" / "follow-up: …": the name it starts with ("Bob to …"), else nobody.

Commitments about the meeting itself ("I'll start", "I'll show you", "can you see it?") are dropped,
as are tasks with fewer than two content words and no due date ("I'll do that").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from core.dates import find_due
from core.meetings.records import ActionItem, Evidence
from core.meetings.text import clip, content_words

__all__ = ["TASK_LIMIT", "Names", "Sentence", "affirms", "is_decision", "is_open_question", "match_action"]

#: Longest task text, in characters.
TASK_LIMIT = 150


@dataclass(frozen=True)
class Sentence:
    """One sentence of one turn: ``quote`` as spoken (markers removed), ``text`` tidied."""

    turn: int
    speaker: str | None
    quote: str
    text: str
    at: float | None = None

    def evidence(self) -> Evidence:
        return Evidence(quote=self.quote, turn=self.turn, at=self.at)


@dataclass(frozen=True)
class Names:
    """Tells a person's name from a capitalised word: a word counts as a name when it is a speaker's first
    name, or when it is capitalised, not a known non-name, and never written in lower case in the transcript
    (so "Production will cost more" is not an action for someone called Production)."""

    lower_case_words: frozenset[str]
    speaker_first_names: frozenset[str] = frozenset()

    def is_name(self, words: str) -> bool:
        first = words.split()[0]
        if not first[:1].isupper() or any(word.lower() in _NOT_NAMES for word in words.split()):
            return False
        return first.lower() in self.speaker_first_names or first.lower() not in self.lower_case_words


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_NOT_NAMES = _words(
    """i we you they he she it that this there these those which what who everyone everybody somebody someone
    nobody anyone anybody maybe then so and but okay ok yeah yes no well people nothing something everything all
    each the our your their his her my also now here today tomorrow monday tuesday wednesday thursday friday
    saturday sunday january february march april may june july august september october november december
    one two three four five six seven eight nine ten next last first second another other"""
)
_NAME = r"[A-Z][a-z'’-]+(?:\s+[A-Z][a-z'’-]+)?"
_REST = r"(?P<rest>[^.?!]+)"
_LEAD = r"(?:(?i:\b(?:so|and|then|okay|ok|now)\s+)|^|[,;:—]\s+)"
_FIRST_PERSON = re.compile(
    r"\b(?:I(?:'ll|\s+will|\s+shall|'m\s+going\s+to|\s+am\s+going\s+to|'m\s+gonna|\s+am\s+gonna)|let\s+me)\s+" + _REST,
    re.IGNORECASE,
)
_NAMED = re.compile(
    _LEAD + rf"(?P<name>{_NAME})(?:'ll|\s+(?:will|is\s+going\s+to|is\s+gonna|is\s+to|has\s+to|needs\s+to))\s+" + _REST
)
_VOCATIVE = re.compile(
    rf"^(?P<name>{_NAME}),\s+(?i:(?:can|could|would|will)\s+you|you'll|you\s+will|you\s+need\s+to|please)\s+" + _REST
)
_REQUEST = re.compile(
    r"^(?i:(?:and|so|okay|ok|then|now),?\s+)*(?i:(?:can|could|would|will)\s+you)\s+"
    rf"(?P<rest>[^.?!]+?)(?:,\s*(?P<name>{_NAME}))?\s*[?.!]?$"
)
_GROUP = re.compile(
    r"\b(?:we\s+(?:need\s+to|have\s+to|'ve\s+got\s+to|got\s+to|must|should|'ll|will|are\s+going\s+to|'re\s+going\s+to)"
    r"|let's|let\s+us)\s+" + _REST,
    re.IGNORECASE,
)
_EXPLICIT = re.compile(r"\b(?:action\s+items?|action|to-?do|follow[-\s]?up)\s*[:—-]\s*" + _REST, re.IGNORECASE)
_EXPLICIT_OWNER = re.compile(rf"^(?P<name>{_NAME})(?:\s*:\s*|\s+(?:to|will|'ll|is\s+going\s+to)\s+)" + _REST)
_ANY_ACTION = (_EXPLICIT, _VOCATIVE, _REQUEST, _FIRST_PERSON, _NAMED, _GROUP)
_HEDGE_BEFORE = re.compile(r"\b(?:if|when|whether|unless|think|should|would|what|how)\s+(?:\w+\s+)?$", re.IGNORECASE)
_CUT = re.compile(
    r"\s+—\s*|;\s+|,?\s+(?:and\s+then|but|because|'cause|so\s+that|so|if|unless|which|whereas|or\s+something)\b"
    r"|,\s+(?:and\s+)?(?:we|you|I|they)\b",
    re.IGNORECASE,
)
_LEADING = re.compile(
    r"^(?:(?:just|also|then|probably|definitely|quickly|actually|maybe|still|again|first|now|please|go\s+ahead\s+and"
    r"|have\s+to|need\s+to|try\s+to|try\s+and|be\s+able\s+to|make\s+sure\s+to|I'll|I\s+will|I'm\s+going\s+to"
    r"|I'm\s+gonna),?\s+)+",
    re.IGNORECASE,
)
#: Verbs of running the meeting itself: "I'll start", "I'll show you", "can you see it?".
_META = _words(
    """start begin go continue show tell explain introduce say talk pass sit stop wait see hear be let keep
    leave come read repeat answer move step speak wrap give end finish open close switch guess think bet
    assume suppose do not"""
)
# Words a clipped task must not end on ("Present the blueprint of").
_DANGLING = _words("a an the of to and or with for from by about like my your our their")
_AFFIRMATIVE = re.compile(
    r"^(?:sure|yes|yeah|yep|will\s+do|i\s+will|i'll|i\s+can|no\s+problem|of\s+course|absolutely|definitely)\b",
    re.IGNORECASE,
)
_DECISION = re.compile(
    r"\b(?:we(?:'ve|\s+have)?\s+(?:all\s+)?decided|(?:it's|it\s+is|it\s+was|that's)\s+(?:been\s+)?decided"
    r"|decided\s+(?:to|that|on)|(?:we(?:'ll|\s+will|'re|\s+are)(?:\s+going\s+to)?\s+|let's\s+)go\s+(?:with|for)"
    r"|we(?:'re|\s+are)\s+going\s+(?:with|for)|(?:we\s+)?(?:all\s+)?agreed?\s+(?:on|that|to)\b|^agreed\b"
    r"|(?:the|our|a|final)\s+decision\s+(?:is|was|has\s+been)|final\s+decision|(?:that's|it's|so\s+that's)\s+settled)",
    re.IGNORECASE,
)
# Before a decision cue, these words make it a hope or a plan rather than a decision made.
_NOT_DECIDED = re.compile(
    r"\b(?:not|never|no|haven't|hasn't|didn't|don't|doesn't|isn't|wasn't|weren't|aren't|yet|if|whether|before"
    r"|has\s+to|have\s+to|need\s+to|needs\s+to|must|should|make|reach|come\s+to)\b",
    re.IGNORECASE,
)
_QUESTION = re.compile(
    r"\b(?:should\s+we|do\s+we|shall\s+we|can\s+we|are\s+we(?:\s+going\s+to)?|what\s+about|what\s+if"
    r"|how\s+(?:do|will|can|should|are)\s+we|what\s+(?:do|should|will)\s+we|who\s+(?:will|is\s+going\s+to|should)"
    r"|when\s+(?:do|will|should|are)\s+we|is\s+it\s+possible|how\s+much\s+(?:will|would|does))\b",
    re.IGNORECASE,
)


def affirms(reply: str) -> bool:
    """True if a reply accepts a request ("Sure.", "Yes, I will.", "Will do")."""
    return bool(_AFFIRMATIVE.match(reply.strip()))


def _task(rest: str, due_text: str | None) -> str | None:
    task = _CUT.split(rest, maxsplit=1)[0]
    task = _LEADING.sub("", task.strip(" ,—-"))
    if due_text and due_text.lower() in task.lower():
        start = task.lower().index(due_text.lower())
        task = (task[:start] + task[start + len(due_text) :]).strip(" ,")
    words = task.split()
    if not words or words[0].lower().strip(",") in _META:
        return None
    if len(set(content_words(task))) < (1 if due_text else 2):
        return None
    while words and words[-1].lower().strip(",") in _DANGLING:
        words.pop()
    task = " ".join(words).rstrip(" ,;:")
    return clip(task[:1].upper() + task[1:], TASK_LIMIT)


def match_action(
    sentence: Sentence, *, meeting_date: date, names: Names, addressee: str | None = None
) -> tuple[ActionItem, int] | None:
    """The action item ``sentence`` states and how strong the signal is (higher is surer), or ``None``."""
    text = sentence.text
    if not any(pattern.search(text) for pattern in _ANY_ACTION):
        return None  # most sentences: skip the (slower) due-date search
    due = find_due(text, meeting_date)
    due_date, due_text = (due[0], due[1]) if due else (None, None)
    found: tuple[str | None, str, int] | None = None  # (owner, rest, strength)
    if m := _EXPLICIT.search(text):
        rest, owner = m["rest"], None
        if (named := _EXPLICIT_OWNER.match(rest)) and names.is_name(named["name"]):
            rest, owner = named["rest"], named["name"]
        found = (owner, rest, 4)
    elif (m := _VOCATIVE.match(text)) and names.is_name(m["name"]):
        found = (m["name"], m["rest"], 2)
    elif m := _REQUEST.match(text):
        owner = m["name"] if m["name"] and names.is_name(m["name"]) else addressee
        found = (owner, m["rest"], 2) if owner else None
    else:
        for m in _FIRST_PERSON.finditer(text):
            if not _HEDGE_BEFORE.search(text[: m.start()]) and _task(m["rest"], due_text):
                found = (sentence.speaker, m["rest"], 1)
                break
        if found is None:
            for m in _NAMED.finditer(text):
                if names.is_name(m["name"]):
                    found = (m["name"], m["rest"], 2)
                    break
        # "We'll have a talk today" is the meeting's agenda, not a task: group tasks need a later due date.
        if found is None and due_date and due_date > meeting_date and (m := _GROUP.search(text)):
            found = (None, m["rest"], 1)
    if found is None or (text.rstrip().endswith("?") and found[2] < 2):
        return None
    owner, rest, strength = found
    task = _task(rest, due_text)
    if task is None:
        return None
    item = ActionItem(task=task, owner_name=owner, due=due_date, due_text=due_text, evidence=sentence.evidence())
    return item, strength + (1 if due else 0)


def is_decision(text: str) -> bool:
    """True if the (tidied) sentence reports a decision: "we decided …", "let's go with …", "agreed"."""
    if text.rstrip().endswith("?"):
        return False
    m = _DECISION.search(text)
    return m is not None and not _NOT_DECIDED.search(text[: m.start()])


def is_open_question(text: str) -> bool:
    """True if the sentence asks the group something substantive ("should we …?", "what about …?")."""
    return text.rstrip().endswith("?") and bool(_QUESTION.search(text)) and len(set(content_words(text))) >= 3
