"""Text helpers for reading transcripts without a model: cleaning, sentences, content words.

Transcripts arrive messy: corpus markers (``{vocalsound}``, ``{disfmarker}``, ``<pause>``), fillers
("um", "uh", "mm-hmm"), stutters ("the the"), tokenised punctuation ("it 's here ."). Two levels of
cleaning:

- :func:`tidy_quote` keeps every spoken word and only removes markers and fixes spacing (a restart
  marker becomes a dash); it is what evidence quotes show.
- :func:`tidy` also drops fillers and repeated words; it is what summary bullets, tasks and
  decisions show.

:func:`content_words` gives the lowercased, stemmed words that carry meaning (stop words, fillers and
contractions removed), for scoring and for comparing two texts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["FILLERS", "STOP_WORDS", "clip", "content_words", "overlap", "sentences", "stem", "tidy", "tidy_quote"]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: Sounds people make while thinking; never content.
FILLERS = _words("um umm uh uhm uh-huh hmm hm mm mmm mm-hmm mm-mm er erm ah eh huh oh ooh ha")
#: Function words and meeting chatter ("yeah", "okay", "gonna") that say nothing about the topic.
STOP_WORDS = _words(
    """a about above after again against all also am an and any are as at be because been before being below
    between both but by can could did do does doing done down during each either else even ever every few for
    from further get gets getting go goes going gone gonna got had has have having he her here hers herself him
    himself his how however i if in into is it its itself just kind know let like lot lots maybe me might mine
    more most much must my myself need needs no nor not now of off oh ok okay on once one only or other ought our
    ours ourselves out over own per perhaps probably quite rather re really right same say says said see seem
    seems shall she should so some something sort still such sure than that the their theirs them themselves
    then there these they thing things think this those though through thus to too under until up upon us very
    want wanna was way we well were what when where whether which while who whom whose why will with would
    yeah yep yes yet you your yours yourself yourselves alright anyway actually basically bit gotta mean stuff
    thank thanks hello hi bye"""
)

_MARKER = re.compile(r"[{<](?P<name>[a-z_]+)[}>]", re.IGNORECASE)
_RESTART = frozenset({"disfmarker"})
_SPACE_BEFORE = re.compile(r"\s+(?=[.,?!;:%])|(?<=\$)\s+")
_CONTRACTION = re.compile(r"\s+(?='(?:s|m|re|ve|ll|d)\b|n't\b)", re.IGNORECASE)
_ACRONYM = re.compile(r"\b(?:[A-Z]_)+")  # AMI spells letters out: C_D_, T_V_, L_E_D_
_SPLIT_FILLER = re.compile(r"\b(mm|uh|um)\s+-\s+(hmm|huh|mm)\b", re.IGNORECASE)  # ICSI writes "Mm - hmm"
_DASHES = re.compile(r"(?:\s*—\s*)+")
_FILLER = re.compile(r"\b(?:" + "|".join(sorted(FILLERS, key=len, reverse=True)) + r")\b[,.]?\s*", re.IGNORECASE)
_REPEAT = re.compile(r"\b(\w+(?:'\w+)?)(?:\s*,?\s+\1\b)+", re.IGNORECASE)
# A lone lower-case letter is a cut-off word ("m maybe w we agree"); "a", "i" and "o" are words.
_FRAGMENT = re.compile(r"(?<![\w'’-])[b-hj-np-z](?![\w'’-])")
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+(?=\S)")
_TOKEN = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")


def tidy_quote(text: str) -> str:
    """``text`` with corpus markers removed (a restart marker becomes " — ") and spacing fixed; words kept."""
    text = _MARKER.sub(lambda m: " — " if m["name"].lower() in _RESTART else " ", text)
    text = text.replace("\xa0", " ")
    text = _ACRONYM.sub(lambda m: m[0].replace("_", ""), _SPLIT_FILLER.sub(r"\1-\2", text))
    text = _CONTRACTION.sub("", _SPACE_BEFORE.sub("", " ".join(text.split())))
    text = _DASHES.sub(" — ", text)
    text = re.sub(r"\s—\s(?=[.,?!;:]|$)", "", text)  # a dash before punctuation or at the end says nothing
    return text.strip(" —,;")


def tidy(text: str) -> str:
    """:func:`tidy_quote`, then without fillers and stutters, first letter capitalised."""
    text = _REPEAT.sub(r"\1", _FRAGMENT.sub("", _FILLER.sub("", tidy_quote(text))))
    text = re.sub(r"\s*,(?:\s*,)+", ",", text)
    text = re.sub(r"(?:^|(?<=[.?!—]\s))[,;]\s*", "", text)
    text = _SPACE_BEFORE.sub("", " ".join(text.split())).strip(" —,;")
    return text[:1].upper() + text[1:]


def sentences(text: str) -> list[str]:
    """``text`` (already tidied) split after ``.``, ``?`` and ``!``."""
    return [part for part in _SENTENCE_END.split(text) if part.strip(" .?!—-")]


def stem(word: str) -> str:
    """A tiny suffix stripper, enough to make "buttons"/"button" and "decided"/"decide" meet."""
    for suffix, replacement, min_length in (("ies", "y", 5), ("ing", "", 6), ("ed", "", 5), ("s", "", 4)):
        if word.endswith(suffix) and len(word) >= min_length and not word.endswith("ss"):
            word = word[: len(word) - len(suffix)] + replacement
            if suffix in ("ing", "ed") and len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
                word = word[:-1]  # putting -> put, stopped -> stop
            break
    return word[:-1] if len(word) > 3 and word.endswith("e") else word


def content_words(text: str) -> list[str]:
    """Stemmed, lowercased words of ``text`` that carry meaning, in order (repeats kept)."""
    words: list[str] = []
    for token in _TOKEN.findall(_MARKER.sub(" ", text).lower()):
        token = token.replace("’", "'")
        if token.endswith("'s"):
            token = token[:-2]
        elif "'" in token:
            continue  # contractions are function words: don't, it's, we'll
        if len(token) < 2 or token in STOP_WORDS or token in FILLERS:
            continue
        words.append(stem(token))
    return words


def overlap(first: Iterable[str], second: Iterable[str]) -> float:
    """Jaccard similarity of two word collections (0 when both are empty)."""
    a, b = set(first), set(second)
    return len(a & b) / len(a | b) if a or b else 0.0


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters at a word boundary, with "…" when cut."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    space = head.rfind(" ")
    if space > limit // 2:
        head = head[:space]
    return head.rstrip(" ,;:—-") + "…"
