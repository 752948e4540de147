"""The degraded-mode planner: a few common requests understood by rules, no language model.

Used when no model is configured or the model keeps failing. The first words pick one intent and
only that intent's rule runs, so a request is never reinterpreted as something else:

- post:      ``post <text> to <#C…>``, ``post to <#C…>: <text>``, ``say <text> in <#C…>``,
             ``announce in <#C…> that <text>``, ``send <@U…> a message saying <text>``, ``dm <@U…>: <text>``,
             ``tell <@U…> that <text>`` (also ``send``; ``here`` / ``this channel``; a user is a DM). A lead-in
             (``saying``, ``saying that``, ``that``, ``:``) introduces the text and is not part of it.
- task:      ``create a task for <@U…> to <title> by <date>``, ``task for me: <title> due <date>``
- reminder:  ``remind <@U…>|me to <text> at 3pm | tomorrow at 9am | on friday at 10 | in 2 hours``,
             ``remind <@U…> tomorrow at 9am saying <text>`` (or ``that``, ``about``, ``:``)
- remember:  ``remember (that) <fact>``, ``remember for everyone that <fact>``

Slack's wire format is expected: users arrive as ``<@U123>`` or ``<@U123|name>`` and channels as
``<#C123>`` or ``<#C123|general>``; a bare ``#general`` has no id and is not guessed at. Whenever
the intent is clear but a part is not (a date, a time, a target), :func:`plan_by_rules` returns
``None`` and the caller says honestly that it cannot plan this without the model.
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo

from core.planning.rule_dates import parse_date, parse_when
from core.types import PlanDraft, RequestOrigin, StepDraft

_USER = r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>"
_CHANNEL = r"<#[CGD][A-Z0-9]+(?:\|[^>]*)?>"
_TARGET = rf"(?:{_CHANNEL}|{_USER}|here|this\s+channel)"
_FLAGS = re.IGNORECASE | re.DOTALL

_LEADING_MENTIONS = re.compile(rf"^(?:{_USER}[\s,:]*)+(?=\S)")
_POLITE_START = re.compile(r"^(?:(?:please|pls|plz|hey|hi|ok|okay)\b[\s,]*)+", re.IGNORECASE)
_QUESTION_START = re.compile(r"^(?:can|could|would|will)\s+you\s+(?:please\s+)?", re.IGNORECASE)
_POLITE_END = re.compile(r"[\s,]*\b(?:please|pls|thanks|thank\s+you|thx)[.!]*$", re.IGNORECASE)

# post / send / say / share / announce, target first or text first.
_POST_VERB = r"(?:post|send|say|share|announce)(?:\s+(?:a|the)\s+message|\s+message)?"
_POST_TARGET_FIRST = re.compile(
    rf"^{_POST_VERB}\s+(?:to|in|on)\s+(?P<target>{_TARGET})(?P<sep>\s*[:\-–]\s*|\s+that\s+|,?\s+)(?P<text>\S.*)$",
    _FLAGS,
)
_POST_TEXT_FIRST = re.compile(
    rf"^{_POST_VERB}\s+(?P<text>\S.*?)\s+(?:(?:to|in|on)\s+(?P<target>{_TARGET})|(?P<here>here))[.!]?$", _FLAGS
)
# Whom first, no preposition: "send <@U…> a message saying …", "dm <@U…>: …", "tell <@U…> that …".
_POST_WHOM_FIRST = re.compile(
    rf"^(?:(?:send|write)\s+(?=<)(?P<target>{_CHANNEL}|{_USER})\s+(?:a\s+)?(?:message|note|dm)\b"
    rf"|(?:dm|message|tell)\s+(?P<whom>{_CHANNEL}|{_USER}))(?P<sep>[\s,:\-–]*)(?P<text>.*)$",
    _FLAGS,
)
# What introduces a message without being part of it: "saying", "saying that", "that". Only looked for when
# nothing else set the text apart: after "to <#C…>:" or "in <#C…> that" the text is taken as written.
_LEAD_IN = re.compile(
    r"^(?:(?:saying|that\s+says|which\s+says|with\s+the\s+(?:text|message))(?:\s+that)?(?=[\s:,]|$)[\s:,\-–]*"
    r"|that\s+)",
    re.IGNORECASE,
)

_TASK = re.compile(
    r"^(?:(?:create|add|make|open|new)\s+(?:(?:a|an|new|one)\s+){0,2})?(?:task|todo|to-do)\b\s*(?P<rest>.*)$", _FLAGS
)
_OWNER = rf"(?:{_USER}|me|myself)"
_TASK_OWNER_FIRST = re.compile(rf"^for\s+(?P<owner>{_OWNER})(?:\s*[:\-–]\s*|\s+to\s+|\s+)(?P<rest>\S.*)$", _FLAGS)
_TASK_OWNER_LAST = re.compile(rf"^(?P<rest>\S.*?)\s+for\s+(?P<owner>{_OWNER})[.!]?$", _FLAGS)
_TASK_DUE = re.compile(
    r"^(?P<title>\S.*)(?<!\sdue)\s+(?P<keyword>due(?:\s+(?:by|on))?|by|on)\s+(?P<date>\S.*?)[.!]?$", _FLAGS
)
# Words that show the phrase after "by"/"on" was meant as a date even if it did not parse.
_DATE_WORDS = re.compile(
    r"\d|\b(?:today|tomorrow|tonight|eom|(?:week|month|year)s?)\b"
    r"|\b(?:mon|tues?|wed(?:nes)?|thu(?:rs?)?|fri|sat(?:ur)?|sun)(?:day)?\b"
    r"|\b(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b",
    re.IGNORECASE,
)

_REMIND = re.compile(rf"^remind\s+(?P<who>me|{_USER}|{_CHANNEL})\s+(?P<rest>\S.*)$", _FLAGS)
_WHAT_FIRST = re.compile(r"^(?:to|that|about)\s+(?P<what>\S.*)$", _FLAGS)
_WHEN_FIRST = re.compile(
    r"^(?P<when>\S.*?)(?:\s+(?:to|that|about|saying(?:\s+that)?)\s*:?|\s*:)\s+(?P<what>\S.*)$", _FLAGS
)

_DANGLING = re.compile(r"\b(?:next|this|last|every|each|before|after|until|by|from)$", re.IGNORECASE)

_REMEMBER = re.compile(r"^remember\s+(?P<rest>\S.*)$", _FLAGS)
_SCOPE_WORDS = {
    "workspace": r"for\s+everyone|for\s+the\s+(?:whole\s+)?workspace|workspace[-\s]wide|across\s+the\s+workspace"
    r"|globally",
    "user": r"(?:just\s+|only\s+)?for\s+me(?:\s+only)?|privately",
    "channel": r"for\s+this\s+channel|in\s+this\s+channel|for\s+here|here",
}
_SCOPE_FIRST = {
    scope: re.compile(rf"^(?:{words})\s*[:,]?\s*(?P<rest>\S.*)$", _FLAGS) for scope, words in _SCOPE_WORDS.items()
}
# At the end, a qualifier must be set apart ("…, for everyone" or "… (workspace-wide)"): "lunch is free for
# everyone" is a fact about lunch, not a request to remember it workspace-wide.
_SCOPE_LAST = {
    scope: re.compile(rf"^(?P<rest>\S.*?)\s*(?:[,;\-–]\s*(?:{words})|\((?:{words})\))[.!]?$", _FLAGS)
    for scope, words in _SCOPE_WORDS.items()
}

_RATIONALE = "Read as {what} by Baton's simple rules (the language model was not used for this plan)."


def plan_by_rules(text: str, *, origin: RequestOrigin, now: datetime, tz: tzinfo) -> PlanDraft | None:
    """A one-step plan for a common request, or ``None`` when no rule understands it for sure.

    ``now`` must be timezone-aware; dates and times in ``text`` are read in ``tz``.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    request = _clean(text)
    first = request.split(maxsplit=1)[0].lower() if request else ""
    if first == "remind":
        return _reminder(request, origin, now, tz)
    if first == "remember":
        return _remember(request)
    if first in ("post", "send", "say", "share", "announce", "dm", "message", "tell", "write"):
        return _post(request, origin)
    if _TASK.match(request):
        return _task(request, origin, now, tz)
    return None


def _clean(text: str) -> str:
    request = _LEADING_MENTIONS.sub("", text.strip())
    request = _POLITE_START.sub("", request)
    asked = _QUESTION_START.match(request)
    if asked:
        request = request[asked.end() :].rstrip().removesuffix("?")
    return _POLITE_END.sub("", request).strip()


# -- post ------------------------------------------------------------------------------------------


def _post(request: str, origin: RequestOrigin) -> PlanDraft | None:
    m = _POST_WHOM_FIRST.match(request) or _POST_TARGET_FIRST.match(request) or _POST_TEXT_FIRST.match(request)
    if m is None:
        return None
    found = m.groupdict()
    channel = origin.channel_id if found.get("here") else _target_id(found.get("whom") or m["target"], origin)
    sep = found.get("sep") or ""
    # A colon, dash or "that" already set the text apart; otherwise it may start with a lead-in.
    message = _unquote(m["text"] if sep.strip(" \t\n,") else _LEAD_IN.sub("", m["text"].strip(), count=1))
    if channel is None or not message:
        return None
    where = f"<@{channel}> (a direct message)" if channel.startswith(("U", "W")) else f"<#{channel}>"
    step = StepDraft(
        action="slack.post_message",
        args={"channel": channel, "text": message},
        description=_short(f"Post “{message}” in {where}", 300),
    )
    return _draft(f"Post a message in {where}", "a request to post a message", step)


def _target_id(target: str, origin: RequestOrigin) -> str | None:
    lowered = " ".join(target.lower().split())
    if lowered in ("here", "this channel"):
        return origin.channel_id
    return _slack_id(target)


# -- tasks -----------------------------------------------------------------------------------------


def _task(request: str, origin: RequestOrigin, now: datetime, tz: tzinfo) -> PlanDraft | None:
    m = _TASK.match(request)
    assert m is not None  # the caller matched it
    rest, owner = m["rest"].strip(), None
    if first := _TASK_OWNER_FIRST.match(rest):
        owner, rest = first["owner"], first["rest"]
    elif re.match(r"for\s", rest, re.IGNORECASE):
        return None  # "for" someone we have no id for
    else:
        rest = re.sub(r"^(?:[:\-–]\s*|to\s+)", "", rest, flags=re.IGNORECASE)
    if owner is None and (last := _TASK_OWNER_LAST.match(rest)):
        owner, rest = last["owner"], last["rest"]
    title, due = rest, None
    if due_match := _TASK_DUE.match(rest):
        due = parse_date(due_match["date"], now.astimezone(tz).date())
        explicit = due_match["keyword"].lower().startswith("due")
        if due is None and (explicit or _DATE_WORDS.search(due_match["date"])):
            return None  # meant as a date but not one we can read for sure
        if due is not None:
            title = due_match["title"]
    if owner is None and due is not None and (last := _TASK_OWNER_LAST.match(title)):
        owner, title = last["owner"], last["rest"]
    title = _capitalise(_unquote(title.rstrip(" .,:")))
    owner_id = _owner_id(owner, origin)
    if not title or (owner is not None and owner_id is None):
        return None
    args = {"title": title, "owner": owner_id, "due_date": due.isoformat() if due else None}
    for_whom = f" for <@{owner_id}>" if owner_id else ""
    by_when = f", due {due.isoformat()}" if due else ""
    step = StepDraft(
        action="tasks.create", args=args, description=_short(f"Create the task “{title}”{for_whom}{by_when}", 300)
    )
    return _draft(_short(f"Task: {title}", 150), "a request to create a task", step)


def _owner_id(owner: str | None, origin: RequestOrigin) -> str | None:
    if owner is None:
        return None
    if owner.lower() in ("me", "myself"):
        return origin.user_id
    return _slack_id(owner)


# -- reminders -------------------------------------------------------------------------------------


def _reminder(request: str, origin: RequestOrigin, now: datetime, tz: tzinfo) -> PlanDraft | None:
    m = _REMIND.match(request)
    if m is None:
        return None
    target = origin.user_id if m["who"].lower() == "me" else _slack_id(m["who"])
    split = _split_when(m["rest"], now, tz)
    if target is None or split is None:
        return None
    what, moment = split
    what = _unquote(what.rstrip(" .,"))
    if not what:
        return None
    if target == origin.user_id:
        text, whom = f"Reminder: {what}", "you"
    else:
        text = f"Reminder from <@{origin.user_id}>: {what}"
        whom = f"<@{target}>" if target.startswith(("U", "W")) else f"<#{target}>"
    at = moment.strftime("%a %d %b %Y %H:%M %Z").strip()
    step = StepDraft(
        action="slack.schedule_message",
        args={"channel": target, "text": text, "post_at": moment.isoformat()},
        description=_short(f"Remind {whom} at {at}: “{what}”", 300),
    )
    return _draft(_short(f"Reminder: {what}", 150), "a request for a reminder", step)


def _split_when(rest: str, now: datetime, tz: tzinfo) -> tuple[str, datetime] | None:
    """Split ``to <what> <when>`` or ``<when> to <what>`` into what and the moment; None if unclear."""
    if what_first := _WHAT_FIRST.match(rest):
        words = list(re.finditer(r"\S+", what_first["what"]))
        # Longest suffix first: "call Bob at the office at 3pm" is "call Bob at the office" at 3pm.
        for word in words[1:]:
            moment = parse_when(what_first["what"][word.start() :], now, tz)
            if moment is not None:
                what = what_first["what"][: word.start()].strip()
                # "call Bob next | friday at 10": a dangling qualifier means the moment was not read whole.
                return None if _DANGLING.search(what) else (what, moment)
        return None
    if when_first := _WHEN_FIRST.match(rest):
        moment = parse_when(when_first["when"], now, tz)
        return None if moment is None else (when_first["what"], moment)
    return None


# -- memory ----------------------------------------------------------------------------------------


def _remember(request: str) -> PlanDraft | None:
    m = _REMEMBER.match(request)
    if m is None:
        return None
    fact, scope = m["rest"].strip(), "channel"
    for candidate, pattern in _SCOPE_FIRST.items():
        if found := pattern.match(fact):
            fact, scope = found["rest"], candidate
            break
    fact = re.sub(r"^that\b\s*", "", fact, flags=re.IGNORECASE)
    if re.match(r"^to\s", fact, re.IGNORECASE):
        return None  # "remember to X" asks for a reminder, not a fact
    if scope == "channel":
        for candidate, pattern in _SCOPE_LAST.items():
            if found := pattern.match(fact):
                fact, scope = found["rest"], candidate
                break
    fact = _unquote(fact.strip())
    if not fact:
        return None
    where = {"workspace": "for the whole workspace", "channel": "for this channel", "user": "for you only"}[scope]
    step = StepDraft(
        action="memory.remember",
        args={"text": fact, "scope": scope},
        description=_short(f"Remember {where}: “{fact}”", 300),
    )
    return _draft(_short(f"Remember: {fact}", 150), "a request to remember a fact", step)


# -- helpers ---------------------------------------------------------------------------------------


def _draft(title: str, what: str, step: StepDraft) -> PlanDraft:
    return PlanDraft(title=title, rationale=_RATIONALE.format(what=what), steps=(step,), planner="rules")


def _slack_id(token: str) -> str | None:
    m = re.fullmatch(r"<[@#]([A-Z0-9]+)(?:\|[^>]*)?>", token.strip())
    return None if m is None else m[1]


def _unquote(text: str) -> str:
    text = text.strip()
    for left, right in (('"', '"'), ("'", "'"), ("“", "”"), ("‘", "’"), ("`", "`")):
        if len(text) >= 2 and text.startswith(left) and text.endswith(right):
            return text[1:-1].strip()
    return text


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
