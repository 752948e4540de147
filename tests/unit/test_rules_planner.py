"""The degraded-mode rules planner: many phrasings, one fixed moment, and every "don't guess" case."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from core.planning.rule_dates import parse_date, parse_time, parse_when
from core.planning.rules import plan_by_rules
from core.types import RequestOrigin

TZ = ZoneInfo("Europe/Berlin")
# Wednesday 12 March 2025, 14:07:30 in Berlin (UTC+1).
NOW = datetime(2025, 3, 12, 14, 7, 30, tzinfo=TZ)
TODAY = NOW.date()
ORIGIN = RequestOrigin(team_id="T1", channel_id="CHERE", user_id="UME", thread_ts="1700000000.000100")


def plan(text: str, *, now: datetime = NOW):
    return plan_by_rules(text, origin=ORIGIN, now=now, tz=TZ)


def only_step(text: str):
    draft = plan(text)
    assert draft is not None, text
    assert draft.planner == "rules"
    assert len(draft.steps) == 1
    assert draft.title and len(draft.title) <= 150
    assert draft.steps[0].description and len(draft.steps[0].description) <= 300
    return draft.steps[0]


# -- posting -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "channel", "message"),
    [
        ("post Deploy is done to <#C123|general>", "C123", "Deploy is done"),
        ("post to <#C123>: hello", "C123", "hello"),
        ("post to <#C123> - hello", "C123", "hello"),
        ("Post a message to <#C123|general>: standup moved to 10", "C123", "standup moved to 10"),
        ("say hi everyone in <#C123>", "C123", "hi everyone"),
        ("say in <#C123>: hi", "C123", "hi"),
        ("announce in <#C123|general> that the release is out", "C123", "the release is out"),
        ("announce in <#C123>: v2 shipped", "C123", "v2 shipped"),
        ("send “lunch is here” to <#G42ABC>", "G42ABC", "lunch is here"),
        ("post hello here", "CHERE", "hello"),
        ("say hi in this channel", "CHERE", "hi"),
        ("post to here: hi", "CHERE", "hi"),
        ("send a message to <@U22|bob>: are you free?", "U22", "are you free?"),
        ("<@UBATON> please post hi to <#C1>", "C1", "hi"),
        ("can you post 'done' to <#C1>?", "C1", "done"),
        ("post hello to everyone in <#C9>", "C9", "hello to everyone"),
        # A lead-in ("saying", "that", ":") introduces the message; it is not part of it.
        ("post a message to <#C123|general> saying hi", "C123", "hi"),
        ("post to <#C1> saying that the build is green", "C1", "the build is green"),
        ("post to <#C1>, saying: hi", "C1", "hi"),
        ("post to <#C1> saying “hi there”", "C1", "hi there"),
        ("announce in <#C1> saying v2 shipped", "C1", "v2 shipped"),
        ("post a message saying hi to <#C1>", "C1", "hi"),
        ("post that the build is green to <#C1>", "C1", "the build is green"),
        ("send a message to <@U22> saying: lunch is here", "U22", "lunch is here"),
        ("send a message saying lunch is here to <@U0BOB>", "U0BOB", "lunch is here"),
        ("send lunch is here to <@U0BOB>", "U0BOB", "lunch is here"),
        ("send <@U22> a message saying lunch is here", "U22", "lunch is here"),
        ("send <#C1> a message: deploy done", "C1", "deploy done"),
        ("dm <@U22>: are you free?", "U22", "are you free?"),
        ("message <@U22|bob> saying the build is green", "U22", "the build is green"),
        ("tell <@U22> that lunch is here", "U22", "lunch is here"),
        ("say that's done in <#C1>", "C1", "that's done"),  # "that's" is the message, not a lead-in
        ("post sayings of the week to <#C1>", "C1", "sayings of the week"),
        ("post to <#C1>: that is odd", "C1", "that is odd"),  # after a colon the text is taken as written
        ("announce in <#C1> that that is fine", "C1", "that is fine"),
    ],
)
def test_posts_a_message(text, channel, message):
    step = only_step(text)
    assert step.action == "slack.post_message"
    assert dict(step.args) == {"channel": channel, "text": message}


def test_post_keeps_line_breaks():
    step = only_step("post to <#C1>: line one\nline two")
    assert step.args["text"] == "line one\nline two"


@pytest.mark.parametrize(
    "text",
    [
        "post hi to #general",  # a bare channel name has no id: not guessed
        "post to <#C1>",  # nothing to post
        "post hi",  # nowhere to post
        "post hi to <#C1> at 3pm",  # scheduling is not a rule
        "post to <#C1> saying",  # a lead-in and nothing to post
        "send a message saying: to <#C1>",
        "tell <@U22>",
    ],
)
def test_post_declines_when_unclear(text):
    assert plan(text) is None


# -- tasks -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "title", "owner", "due"),
    [
        ("create a task for <@U1> to write the report by friday", "Write the report", "U1", "2025-03-14"),
        ("task for <@U1|ann>: ship it due 2025-04-01", "Ship it", "U1", "2025-04-01"),
        ("create a task for me to review the PR by Dec 5", "Review the PR", "UME", "2025-12-05"),
        ("add a task for <@U2> to renew the domain by 5 Dec", "Renew the domain", "U2", "2025-12-05"),
        ("create a task to update the docs", "Update the docs", None, None),
        ("new task: file taxes by end of month", "File taxes", None, "2025-03-31"),
        ("create a new task for me: book travel by next week", "Book travel", "UME", "2025-03-21"),  # core.dates
        ("todo: call the bank by tomorrow", "Call the bank", None, "2025-03-13"),
        ("make a task to order laptops by today", "Order laptops", None, "2025-03-12"),
        ("create a task to review the doc for <@U2> by wednesday", "Review the doc", "U2", "2025-03-12"),
        ("create a task to fix login due on monday", "Fix login", None, "2025-03-17"),
        ("create a task to send invoices by march 1", "Send invoices", None, "2026-03-01"),
        ("create a task to plan Q3 due 2025-06-30 for <@U3>", "Plan Q3", "U3", "2025-06-30"),
        ("create a task: review PR by Bob", "Review PR by Bob", None, None),  # "Bob" is no date
        ("create task: work on the API", "Work on the API", None, None),
        ("create a task to update marketing copy", "Update marketing copy", None, None),
    ],
)
def test_creates_a_task(text, title, owner, due):
    step = only_step(text)
    assert step.action == "tasks.create"
    assert dict(step.args) == {"title": title, "owner": owner, "due_date": due}


@pytest.mark.parametrize(
    "text",
    [
        "create a task to plan the sprint by next friday",  # this Friday or the one after?
        "create a task for <@U1> to pay rent by 5/3",  # 5 March or 3 May?
        "create a task to fix it due someday",  # "due" promises a date
        "create a task to renew the cert by Feb 30",  # no such date
        "create a task",  # nothing to do
        "task for #ops: restart",  # a bare name is no owner id
    ],
)
def test_task_declines_ambiguous_dates_and_owners(text):
    assert plan(text) is None


# -- reminders ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "channel", "message", "post_at"),
    [
        ("remind me to call Bob at 3pm", "UME", "Reminder: call Bob", "2025-03-12T15:00:00+01:00"),
        ("remind me to stretch at 15:30", "UME", "Reminder: stretch", "2025-03-12T15:30:00+01:00"),
        ("remind me at 3:30 pm to stretch", "UME", "Reminder: stretch", "2025-03-12T15:30:00+01:00"),
        ("remind me to water plants at 9am", "UME", "Reminder: water plants", "2025-03-13T09:00:00+01:00"),
        (
            "remind <@U2> to submit the report tomorrow at 9am",
            "U2",
            "Reminder from <@UME>: submit the report",
            "2025-03-13T09:00:00+01:00",
        ),
        (
            "remind <@U2|sam> tomorrow at 9am to submit the report",
            "U2",
            "Reminder from <@UME>: submit the report",
            "2025-03-13T09:00:00+01:00",
        ),
        (
            "remind me on friday at 10 to send the invoice",
            "UME",
            "Reminder: send the invoice",
            "2025-03-14T10:00:00+01:00",
        ),
        (
            "remind me to send the invoice on friday at 10",
            "UME",
            "Reminder: send the invoice",
            "2025-03-14T10:00:00+01:00",
        ),
        ("remind me on wednesday at 9am to plan", "UME", "Reminder: plan", "2025-03-19T09:00:00+01:00"),
        ("remind me in 2 hours to check the build", "UME", "Reminder: check the build", "2025-03-12T16:07:30+01:00"),
        ("remind me to check the build in 30 minutes", "UME", "Reminder: check the build", "2025-03-12T14:37:30+01:00"),
        ("remind me in an hour to eat", "UME", "Reminder: eat", "2025-03-12T15:07:30+01:00"),
        ("remind me about the demo at noon", "UME", "Reminder: the demo", "2025-03-13T12:00:00+01:00"),
        (
            "remind me that the demo is at 3pm at 2pm",
            "UME",
            "Reminder: the demo is at 3pm",
            "2025-03-13T14:00:00+01:00",
        ),
        (
            "remind me to call Bob at the office at 3pm",
            "UME",
            "Reminder: call Bob at the office",
            "2025-03-12T15:00:00+01:00",
        ),
        ("remind me on Dec 5 at 10am to renew", "UME", "Reminder: renew", "2025-12-05T10:00:00+01:00"),
        ("remind me next week at 9am to plan", "UME", "Reminder: plan", "2025-03-17T09:00:00+01:00"),
        ("remind me on sat at 10am to shop", "UME", "Reminder: shop", "2025-03-15T10:00:00+01:00"),
        ("remind me sun at 10am to call mum", "UME", "Reminder: call mum", "2025-03-16T10:00:00+01:00"),
        (
            "remind <#C7|ops> to rotate keys at 17:00",
            "C7",
            "Reminder from <@UME>: rotate keys",
            "2025-03-12T17:00:00+01:00",
        ),
        ("can you remind me to stand up in 30 minutes?", "UME", "Reminder: stand up", "2025-03-12T14:37:30+01:00"),
        ("remind me at 3pm: stretch", "UME", "Reminder: stretch", "2025-03-12T15:00:00+01:00"),
        (
            "remind <@U2> tomorrow at 9am saying submit the report",
            "U2",
            "Reminder from <@UME>: submit the report",
            "2025-03-13T09:00:00+01:00",
        ),
        (
            "remind me tomorrow at 9am saying that the demo is at 10",
            "UME",
            "Reminder: the demo is at 10",
            "2025-03-13T09:00:00+01:00",
        ),
        ("remind me at 3:30 pm that: standup moved", "UME", "Reminder: standup moved", "2025-03-12T15:30:00+01:00"),
    ],
)
def test_schedules_a_reminder(text, channel, message, post_at):
    step = only_step(text)
    assert step.action == "slack.schedule_message"
    assert dict(step.args) == {"channel": channel, "text": message, "post_at": post_at}


def test_reminder_across_a_dst_change_keeps_wall_clock_and_elapsed_time():
    before_dst = datetime(2025, 3, 29, 20, 0, tzinfo=TZ)  # clocks go forward at 02:00 on 30 March
    tomorrow = plan("remind me tomorrow at 9am to jog", now=before_dst)
    assert tomorrow is not None
    assert tomorrow.steps[0].args["post_at"] == "2025-03-30T09:00:00+02:00"
    later = plan("remind me in 10 hours to jog", now=before_dst)
    assert later is not None
    assert later.steps[0].args["post_at"] == "2025-03-30T07:00:00+02:00"


@pytest.mark.parametrize(
    "text",
    [
        "remind me to call Bob at 3",  # 3 in the morning or the afternoon?
        "remind me tomorrow to call",  # no time
        "remind me to call Bob",  # no time at all
        "remind me to call Bob next friday at 10am",  # which Friday?
        "remind me today at 9am to call",  # already past
        "remind me at 3pm at 4pm to call",  # two times
        "remind #ops to deploy at 3pm",  # no channel id
        "remind me in 0 minutes to blink",
        "remind me at 25:00 to sleep",
    ],
)
def test_reminder_declines_instead_of_guessing(text):
    assert plan(text) is None


# -- memory ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fact", "scope"),
    [
        ("remember that the wifi password is on the fridge", "the wifi password is on the fridge", "channel"),
        ("remember the deploy freeze starts friday", "the deploy freeze starts friday", "channel"),
        ("remember for everyone that standup is at 10", "standup is at 10", "workspace"),
        ("remember workspace-wide: office closed on May 1", "office closed on May 1", "workspace"),
        ("remember that the VPN changed, for everyone", "the VPN changed", "workspace"),
        ("remember that lunch is free (workspace-wide)", "lunch is free", "workspace"),
        ("remember that lunch is free for everyone", "lunch is free for everyone", "channel"),
        ("remember for me that I prefer email", "I prefer email", "user"),
    ],
)
def test_remembers_a_fact(text, fact, scope):
    step = only_step(text)
    assert step.action == "memory.remember"
    assert dict(step.args) == {"text": fact, "scope": scope}


@pytest.mark.parametrize("text", ["remember to buy milk", "remember", "remember that"])
def test_remember_declines_reminders_and_empty_facts(text):
    assert plan(text) is None


# -- everything else ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["", "   ", "what's the status of the deploy?", "summarise this thread", "complete task 12", "hello"],
)
def test_unknown_requests_give_none(text):
    assert plan(text) is None


def test_naive_now_is_rejected():
    with pytest.raises(ValueError, match="timezone-aware"):
        plan_by_rules("post hi here", origin=ORIGIN, now=datetime(2025, 3, 12, 14, 0), tz=TZ)


def test_rationale_says_no_model_was_used():
    draft = plan("post hi here")
    assert draft is not None
    assert "the language model was not used" in draft.rationale


# -- the date and time reader ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("today", date(2025, 3, 12)),
        ("tomorrow", date(2025, 3, 13)),
        ("friday", date(2025, 3, 14)),
        ("Fri", date(2025, 3, 14)),
        ("this friday", date(2025, 3, 14)),
        ("wednesday", date(2025, 3, 12)),  # the next occurrence includes today
        ("tuesday", date(2025, 3, 18)),
        ("next week", date(2025, 3, 21)),  # Friday of next week, as in meetings (core.dates)
        ("end of month", date(2025, 3, 31)),
        ("the end of the month", date(2025, 3, 31)),
        ("2025-04-01", date(2025, 4, 1)),
        ("Dec 5", date(2025, 12, 5)),
        ("December 5th", date(2025, 12, 5)),
        ("5 Dec", date(2025, 12, 5)),
        ("5th of December", date(2025, 12, 5)),
        ("Mar 12", date(2025, 3, 12)),
        ("Mar 11", date(2026, 3, 11)),  # already past this year
        ("Sept 3, 2026", date(2026, 9, 3)),
        ("in 3 days", date(2025, 3, 15)),
        ("in 2 weeks", date(2025, 3, 26)),
        ("next friday", None),
        ("12/5", None),
        ("2025-02-30", None),
        ("soon", None),
    ],
)
def test_parse_date(text, expected):
    assert parse_date(text, TODAY) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3pm", time(15, 0)),
        ("3 PM", time(15, 0)),
        ("3:30 p.m.", time(15, 30)),
        ("12am", time(0, 0)),
        ("12pm", time(12, 0)),
        ("15:30", time(15, 30)),
        ("9", time(9, 0)),
        ("10", time(10, 0)),
        ("noon", time(12, 0)),
        ("at 9:15", time(9, 15)),
        ("3", None),
        ("3:30", None),
        ("13pm", None),
        ("24:00", None),
        ("9:75", None),
    ],
)
def test_parse_time(text, expected):
    assert parse_time(text) == expected


def test_parse_when_time_already_past_means_tomorrow():
    assert parse_when("at 9am", NOW, TZ) == datetime(2025, 3, 13, 9, 0, tzinfo=TZ)
    assert parse_when("at 2:07pm", NOW, TZ) == datetime(2025, 3, 13, 14, 7, tzinfo=TZ)
    assert parse_when("at 2:08pm", NOW, TZ) == datetime(2025, 3, 12, 14, 8, tzinfo=TZ)


def test_parse_when_reads_in_the_given_time_zone():
    utc_now = NOW.astimezone(ZoneInfo("UTC"))
    moment = parse_when("at 3pm", utc_now, ZoneInfo("America/New_York"))  # 09:07 in New York
    assert moment is not None
    assert moment.isoformat() == "2025-03-12T15:00:00-04:00"
