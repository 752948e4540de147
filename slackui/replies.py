"""Every user-facing string, in one place."""

from __future__ import annotations

from collections.abc import Iterable

from slackui.limits import clip

#: Why a plan or notes were made without the model when none is configured (a card's degraded reason).
NO_MODEL_CONFIGURED = "no language model is configured"
DEGRADED_NOTICE = (
    "_Degraded mode: no language model is configured, so I can only handle simple requests. "
    "An operator can set OPENAI_API_KEY (or OPENAI_BASE_URL) to enable planning._"
)


def quote(text: str, *, limit: int = 500) -> str:
    """Quote user text safely for a reply: bounded length, no pings, block-quoted."""
    clipped = text if len(text) <= limit else text[: limit - 1] + "…"
    clipped = clipped.replace("<!channel>", "@channel").replace("<!here>", "@here").replace("<!everyone>", "@everyone")
    return "\n".join("> " + line for line in clipped.splitlines() or [""])


# -- intake ------------------------------------------------------------------------------------------
EMPTY_REQUEST = "Tell me what you need after the mention, for example `@Baton post the release notes to #general`."
CHANNEL_NOT_ENABLED = (
    "I'm not set up to act in this channel. An admin can enable it with the approval policy "
    "(`allowed_channels`), or you can ask me in a DM."
)
REQUEST_CLIPPED = "_Your message was very long; I read the first {limit:,} characters._"
#: Posted once in the thread of a request still planning after ``BATON_PLANNING_INTERIM`` seconds; removed when
#: the plan card or the answer arrives. It names the model and says what happens at the deadline.
PLANNING_SLOW_START = ":hourglass_flowing_sand: Still working"
PLANNING_SLOW = (
    PLANNING_SLOW_START + ": the model ({model}) has not answered yet. The plan (or my answer) will replace this "
    "message; if the model gives no usable answer within {deadline}s, I'll plan with simple rules and say why."
)


def planning_slow(*, model: str, deadline_seconds: int) -> str:
    """The "still working" message of a request whose model ``model`` is slow."""
    return PLANNING_SLOW.format(model=model, deadline=deadline_seconds)


COMMAND_ACK = "Got it — I'm planning that now. The plan will appear in this channel."
SHORTCUT_ACK = "Got it — I'll reply in the message's thread."
COMMAND_HELP = (
    "*Baton* turns requests into plans you approve.\n"
    "• `/baton <what you need>` — plan a request in this channel\n"
    "• `/baton run <action> key=value …` — one action directly, no model (quote values with spaces: "
    '`text="two words"`)\n'
    "• `/baton audit <plan-id>` — the full timeline of a plan\n"
    "• `/baton memory` — what I remember for this channel (with delete buttons)\n"
    "• `/baton summarize <pasted transcript>` — meeting notes and action items (or upload the file and mention me)\n"
    "• `/baton digest daily 09:00` / `weekdays 08:30` / `off` / `now`, or `/baton digest me …` for yours by DM\n"
    "• `/baton status` — queues, failed jobs, pending approvals, today's spend · `/baton plans` — pending plans\n"
    "• `/baton budget` — model spend against each budget\n"
    "• `/baton tools` — every action I can take: source, risk, idempotency class, policy\n"
    "• `/baton policy` — this channel's approval policy (admins: `/baton policy set …`)\n"
    "• `@Baton <request>` in a channel, or a DM, works too"
)


def planning_failed(reason: str) -> str:
    return f"I couldn't plan that: {reason}"


# -- stale or unknown interactions ---------------------------------------------------------------------
STALE_BUTTON = "That button is no longer valid, so nothing was done. If you still need it, ask me again."
STALE_FORM = "This form is no longer valid, so nothing was saved. Close it and start again."
STALE_SHORTCUT = "That shortcut is no longer valid, so nothing was done."
UNKNOWN_COMMAND = "I don't know that command. Try `/baton help`."


# -- approval ----------------------------------------------------------------------------------------
def already_decided(status: str, decided_by: str | None) -> str:
    who = f" by <@{decided_by}>" if decided_by and decided_by != "policy" else ""
    return {
        "approved": f"This plan was already approved{who}.",
        "running": f"This plan was already approved{who} and is running.",
        "succeeded": f"This plan was already approved{who} and has finished.",
        "failed": f"This plan was already approved{who}; it has finished (with a failure).",
        "compensated": f"This plan was already approved{who}; it failed and was undone.",
        "rejected": f"This plan was already rejected{who}.",
        "expired": "This plan has expired; nothing was run. Ask again if it's still needed.",
    }.get(status, "This plan can no longer be decided.")


def not_allowed(reason: str) -> str:
    return f"You can't approve this plan: {reason}."


def not_allowed_to(verb: str, reason: str) -> str:
    """Refusal of a step button (``verb``: "decide", "re-plan") to someone who may not approve the plan."""
    return f"You can't {verb} this: only someone who may approve the plan can ({reason})."


#: What the step buttons recorded (``memory.step_settlement``), for whoever clicked after the decision.
_SETTLED_AS = {"happened": "confirmed it happened", "rerun": "asked to run it again", "skipped": "skipped it"}


def step_already_settled(settled_as: str | None, settled_by: str | None) -> str:
    """To someone whose step button lost: who decided and what (or that the question is no longer open)."""
    if settled_as and settled_by:
        return f"Already decided: <@{settled_by}> {_SETTLED_AS.get(settled_as, settled_as)}. Nothing else was done."
    return "That question is no longer open, so nothing was done."


ALREADY_REPLANNED = "A new plan for this request was already asked for; it is in this thread."
WRONG_WORKSPACE = "That plan belongs to another workspace; nothing was changed."
PLAN_NOT_FOUND = "I can't find that plan."
#: To the person whose click, form or command reached Baton while its database was unavailable: nothing was
#: decided or saved, and the card (if any) is unchanged.
DATABASE_UNAVAILABLE = (
    ":warning: I couldn't record that: my database is unavailable right now, so nothing was decided or saved. "
    "Please try again in a moment."
)
NO_STEPS_SELECTED = "Select at least one step, or reject the plan instead."


# -- execution reports -------------------------------------------------------------------------------
def gave_up_retrying(error: str, *, seconds: int, attempts: int) -> str:
    """A step's failure after an outage outlasted its ``attempts`` in-job tries and the ``seconds`` of parking."""
    if seconds <= 0:
        return f"{error} (gave up after {attempts} attempts)"
    minutes = max(1, round(seconds / 60))
    span = f"{minutes} minute{'s' if minutes != 1 else ''}" if minutes < 120 else f"{round(minutes / 60)} hours"
    return f"{error} (still failing after retrying for {span})"


OUTCOME_UNKNOWN_LABEL = "Outcome unknown (it may have happened: check before asking again; I won't repeat it)"
#: A step whose MCP tool is described differently now than when the plan was approved.
TOOL_CHANGED = (
    "the tool {action} changed since this plan was approved, so I did not run it; Re-plan (in this thread) plans "
    "the request again with the tool as it is now"
)
#: A step whose worker stopped during an at-most-once call.
INTERRUPTED_CALL = "{action} was interrupted (the worker stopped during the call)"
#: How much of a tool's result the report shows (the effects ledger and the audit keep more).
TOOL_RESULT_CHARS = 300


def tool_result(text: str) -> str:
    """A tool's (redacted) result for the report, clipped."""
    flat = " ".join(text.split())
    return f" — result: {clip(flat, TOOL_RESULT_CHARS)}" if flat else ""


def run_report(*, title: str, done: list[str], failed: list[str], undone: list[str], skipped: list[str],
               unknown: list[str] | None = None) -> str:
    lines = [f"*{title}*"]
    if not failed and not unknown:
        lines[0] = f":white_check_mark: Done: *{title}*"
    else:
        lines[0] = f":x: Failed: *{title}*"
    sections = (("Ran", done), ("Failed", failed), (OUTCOME_UNKNOWN_LABEL, unknown or []), ("Undone", undone),
                ("Not run", skipped))
    for label, items in sections:
        if items:
            lines.append(f"*{label}:*")
            lines += [f"• {item}" for item in items]
    return "\n".join(lines)


# -- audit -------------------------------------------------------------------------------------------
AUDIT_USAGE = "Usage: `/baton audit <plan-id>` (the number on the plan card)."


# -- memory ------------------------------------------------------------------------------------------
MEMORY_SCOPE = {"channel": "this channel", "user": "you only", "workspace": "the whole workspace"}


def remembered(*, text: str, scope: str, merged: bool, superseded: int | None, redacted: list[str]) -> str:
    where = MEMORY_SCOPE.get(scope, scope)
    if merged:
        line = f":brain: I already knew that (for {where}): “{text}”"
    elif superseded:
        line = f":brain: Updated (for {where}): “{text}” — it replaces memory #{superseded}."
    else:
        line = f":brain: I'll remember that for {where}: “{text}”"
    if redacted:
        line += "\n_I removed " + ", ".join(sorted(set(redacted))) + " details before storing it._"
    return line


def nothing_to_forget(what: str) -> str:
    return f"I don't remember anything matching “{what}”. `/baton memory` lists what I remember here."


FORGET_PROMPT = "I found these memories. Forget them?"
KNOW_NOTHING = (
    "I don't know anything about that yet. If there's something I should know, tell me with `@Baton remember …`."
)
RECALL_HEADER = "Here's what I remember:"
RECALL_FULLTEXT_NOTE = "_(matched by words only: the embedding service is unavailable)_"


def forgot(count: int, user_id: str) -> str:
    return f":wastebasket: Forgot {count} memor{'y' if count == 1 else 'ies'} (asked by <@{user_id}>)."


def kept(user_id: str) -> str:
    return f"Kept — nothing was forgotten (<@{user_id}>)."


MEMORY_EMPTY = "I don't remember anything for this channel yet."


def fact_too_long(length: int, limit: int) -> str:
    return (
        f"That's too long to remember as one fact ({length:,} characters; the limit is {limit:,}). "
        "Tell me the key point in a sentence or two."
    )


# -- meetings ------------------------------------------------------------------------------------------
SUMMARIZE_USAGE = (
    "Usage: `/baton summarize <transcript>` with the transcript pasted after the command, or upload the file "
    "(.vtt, .srt, .txt, .json or .docx) and mention me in the upload's message."
)
SUMMARIZE_ACK = "Got it — I'm reading the transcript. The notes will appear in this channel."
TRANSCRIPT_NOT_READABLE = "I couldn't download that file from Slack ({error}); nothing was summarised."
TRANSCRIPT_FORMATS = ".vtt, .srt, .txt, .md, .json or .docx"
MEETING_WORKING = "Reading the transcript: {turns} turns from {speakers} speakers. Notes follow in a moment."


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"


def transcript_too_big(name: str, size: int, limit: int, *, at_least: bool = False) -> str:
    """Refusal for a file over the size limit (said before it is downloaded whole)."""
    size_text = ("more than " if at_least else "") + _megabytes(size)
    return (f"*{name}* is {size_text}; I read transcripts up to {_megabytes(limit)} "
            "(an operator can raise BATON_TRANSCRIPT_MAX_BYTES). Nothing was summarised.")


def transcript_wrong_kind(name: str, kind: str) -> str:
    return (f"*{name}* looks like {kind}, not a transcript. I read transcripts as {TRANSCRIPT_FORMATS} files; "
            "nothing was summarised.")


def transcript_unusable(reason: str) -> str:
    return f"I couldn't read that transcript: {reason} Nothing was summarised."


def already_summarised(link: str | None, meeting_id: int) -> str:
    where = f"<{link}|here>" if link else f"as meeting #{meeting_id}"
    return f"I already summarised this transcript {where}; I didn't do it twice."


def owner_only(action: str) -> str:
    return f"Only the item's owner, the person who uploaded the meeting, or an admin can {action} it."


def snoozed(task: str, due: str) -> str:
    return f"Snoozed “{task}” until {due}."


ITEM_ALREADY_DONE = "That item is already done."
ITEM_NOT_OPEN = "That item isn't open any more."
FOLLOWUPS_NOT_READY = "Follow-ups for that item haven't been created yet."
NO_ITEMS_SELECTED = "Tick at least one action item to follow up, or leave the card to expire."


# -- digests -------------------------------------------------------------------------------------------
DIGEST_OFF = "Digest switched off. `/baton digest daily 09:00` switches it on again."
DIGEST_NOW = "Sending a digest now; it covers what happened since the last one."


def no_digest(where: str) -> str:
    return (f"No digest is set up {where}. Try `/baton digest daily 09:00` (or `weekdays 08:30`, "
            "with an optional time zone).")


def digest_set(description: str) -> str:
    return f"Digest set: {description}"


# -- admin: status, plans, policy ----------------------------------------------------------------------
STATUS_USAGE = "Usage: `/baton status` (queues, failed jobs, approvals waiting, today's model spend)."
PLANS_USAGE = ("Usage: `/baton plans` lists the plans waiting for approval in this channel; "
               "`/baton plans all` lists the whole workspace's.")
POLICY_IN_DM = ("A DM has no channel policy to change. Add `--workspace` to change the workspace's policy, "
                "or run the command in the channel.")
ADMIN_ONLY = ("Only Baton admins can change the approval policy. Ask one of them (see `/baton policy`), "
              "or an operator can use `baton policy` on the server.")


def policy_changed(scope: str, key: str | None, *, changed: bool) -> str:
    """The first line after ``policy set`` / ``reset``; ``scope`` reads "this channel" or "the workspace"."""
    if not changed:
        if key is None:
            return f"Nothing to reset: {scope} has no settings of its own."
        return f"Nothing changed: the policy for {scope} already says so."
    if key is None:
        return f"Reset: {scope} now follows " + ("the defaults." if scope == "the workspace" else
                                                 "the workspace's policy.")
    return f"Updated `{key}` for {scope}."


# -- streamed answers (workers/assistant_answer.py) -----------------------------------------------------------
#: Appended to an answer whose stream the model broke off.
ANSWER_CUT_SHORT = "\n\n_The model stopped before finishing this answer; ask again for the rest._"


def answer_sources(links: Iterable[str | None]) -> str:
    """The context line under a streamed answer: links to the messages its memories came from (none: empty)."""
    seen = [link for link in dict.fromkeys(links) if link and link.startswith("http")]
    return "Sources: " + " · ".join(f"<{link}|{n}>" for n, link in enumerate(seen[:5], 1)) if seen else ""
