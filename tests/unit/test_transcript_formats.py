"""core.transcripts, one format at a time, with small inline samples: WebVTT (Zoom, Teams), SRT, text, JSON, .docx."""

from __future__ import annotations

import io
import json

import docx
import pytest

from core.meetings.records import Transcript, Turn
from core.transcripts import NotATranscript, parse_text, parse_transcript


def pairs(transcript: Transcript) -> list[tuple[str | None, str]]:
    return [(turn.speaker, turn.text) for turn in transcript.turns]


# --- WebVTT ----------------------------------------------------------------------------------------------

ZOOM_VTT = """WEBVTT

1
00:00:01.000 --> 00:00:04.000
Alice Smith: Good morning, everyone.

2
00:00:04.000 --> 00:00:06.500
Alice Smith: Let's start with the budget.

3
00:00:06.500 --> 00:00:09.000
Bob Jones (he/him): Sounds good: I have the numbers.

4
00:00:09.000 --> 00:00:10.000
Alice Smith: Great.
"""


def test_zoom_vtt():
    transcript = parse_transcript(ZOOM_VTT.encode(), filename="GMT20240115-100003_Recording.transcript.vtt")

    assert transcript.format == "vtt"
    assert transcript.turns == (
        Turn("Alice Smith", "Good morning, everyone. Let's start with the budget.", 1.0, 6.5),
        Turn("Bob Jones (he/him)", "Sounds good: I have the numbers.", 6.5, 9.0),
        Turn("Alice Smith", "Great.", 9.0, 10.0),
    )
    assert transcript.notes == ()
    assert transcript.duration_seconds == 9.0


TEAMS_VTT = """WEBVTT
Kind: captions
Language: en-US

NOTE
Exported by Microsoft Teams.
These words are not part of the meeting.

STYLE
::cue { color: yellow }

REGION
id:left width:40%

0b3f8c1e-2b7a-4a1c-9f7e-1d2c3b4a5e6f/12-0
00:00:01.000 --> 00:00:04.500 align:start position:10%
<v Smith, John>Hello &amp; welcome, <c.yellow>everyone</c>.
We start with <i>Q&amp;A</i> &lt;3</v>

0b3f8c1e-2b7a-4a1c-9f7e-1d2c3b4a5e6f/13-0
00:00:04.500 --> 00:00:06.000
<v Smith, John>Second <00:00:05.000>cue <b>here</b></v>

0b3f8c1e-2b7a-4a1c-9f7e-1d2c3b4a5e6f/14-0
00:00:06.000 --> 00:00:08.000
<v Doe, Jane>No closing tag
on two lines

0b3f8c1e-2b7a-4a1c-9f7e-1d2c3b4a5e6f/15-0
00:00:08.000 --> 00:00:09.000
<v.loud Smith, John>Two voices</v> <v Doe, Jane>in one cue</v>

16
00:09.500 --> 00:10.000
<v Doe, Jane>&lt;b&gt;escaped tags are text&lt;/b&gt; &gt; 5</v>
"""


def test_teams_vtt_voice_tags_entities_and_skipped_blocks():
    transcript = parse_transcript(TEAMS_VTT.encode(), filename="meeting.vtt")

    assert transcript.format == "vtt"
    assert pairs(transcript) == [
        ("Smith, John", "Hello & welcome, everyone. We start with Q&A <3 Second cue here"),
        ("Doe, Jane", "No closing tag on two lines"),
        ("Smith, John", "Two voices"),
        ("Doe, Jane", "in one cue <b>escaped tags are text</b> > 5"),
    ]
    assert [(turn.start, turn.end) for turn in transcript.turns] == [(1.0, 6.0), (6.0, 8.0), (8.0, 9.0), (8.0, 10.0)]
    assert "Exported" not in " ".join(turn.text for turn in transcript.turns)
    assert transcript.notes == ()


def test_vtt_header_metadata_is_not_text():
    text = " ".join(turn.text for turn in parse_text(TEAMS_VTT).turns)

    assert "captions" not in text
    assert "en-US" not in text


def test_text_after_a_blank_line_inside_a_cue_continues_it():
    transcript = parse_text(
        "1\n00:00:01,000 --> 00:00:02,000\nAlice: one\n\ncontinued after a blank line\n\n"
        "2\n00:00:03,000 --> 00:00:04,000\nBob: two\n"
    )

    assert transcript.turns == (
        Turn("Alice", "one continued after a blank line", 1.0, 2.0),
        Turn("Bob", "two", 3.0, 4.0),
    )
    assert transcript.notes == ()


def test_vtt_cue_right_after_the_header_without_a_blank_line():
    transcript = parse_text("WEBVTT\n00:00:01.000 --> 00:00:02.000\n<v Ann>Hi there</v>\n")

    assert transcript.turns == (Turn("Ann", "Hi there", 1.0, 2.0),)


def test_vtt_without_speakers_keeps_one_turn_per_cue():
    transcript = parse_text("WEBVTT\n\n00:01.000 --> 00:02.000\nfirst cue\n\n00:02.000 --> 00:03.000\nsecond cue\n")

    assert pairs(transcript) == [(None, "first cue"), (None, "second cue")]
    assert not transcript.has_speakers


# --- SRT -------------------------------------------------------------------------------------------------

SRT = """1
00:00:01,000 --> 00:00:02,000
Alice: <i>Hello</i> there
and a second line

2
00:00:02,000 --> 00:00:03,500
Alice: again
3
00:00:03,500 --> 00:00:04,000
Bob: <font color="#ffff00">Yes</font> &amp; no

4
00:00:04,000 --> 00:00:05,000
A line with no speaker
"""


def test_srt_with_speakers_markup_and_a_missing_blank_line():
    transcript = parse_transcript(SRT.encode(), filename="meeting.srt")

    assert transcript.format == "srt"
    assert transcript.turns == (
        Turn("Alice", "Hello there and a second line again", 1.0, 3.5),
        Turn("Bob", "Yes &amp; no", 3.5, 4.0),  # SRT does not escape, so "&amp;" is what was written
        Turn(None, "A line with no speaker", 4.0, 5.0),
    )


def test_cue_file_without_extension_is_detected_by_its_timing_lines():
    assert parse_text(SRT).format == "srt"
    assert parse_text("1\n00:00:01.000 --> 00:00:02.000\nAnn: hi\n").format == "vtt"


# --- plain text ------------------------------------------------------------------------------------------

PLAIN = """Weekly sync, 12 May
Alice: Hello everyone.
I have two things.

Both are short.
Bob (00:01:02): Timestamp after the name.
[00:01:05] Carol: Timestamp in brackets first.
00:01:10 Dave: Timestamp first.
00:01:15 - Erin: Timestamp and a dash.
**Frank:** Markdown bold.
- **Grace**: A Markdown bullet.
Agenda: a heading is not a speaker.
00:02:00
Heidi: After a line that is only a time.
Ivan Petrov   0:03:10
Teams-style: the words come on the next line.
and the one after.
Smith, John (Guest)   1:02:03
A guest speaks.
jsmith: a lower-case handle.
"""


def test_plain_text_variants():
    transcript = parse_transcript(PLAIN.encode(), filename="notes.txt")

    assert transcript.format == "text"
    assert [(turn.speaker, turn.text, turn.start) for turn in transcript.turns] == [
        (None, "Weekly sync, 12 May", None),
        ("Alice", "Hello everyone. I have two things. Both are short.", None),
        ("Bob", "Timestamp after the name.", 62.0),
        ("Carol", "Timestamp in brackets first.", 65.0),
        ("Dave", "Timestamp first.", 70.0),
        ("Erin", "Timestamp and a dash.", 75.0),
        ("Frank", "Markdown bold.", None),
        ("Grace", "A Markdown bullet. Agenda: a heading is not a speaker.", None),
        ("Heidi", "After a line that is only a time.", 120.0),
        ("Ivan Petrov", "Teams-style: the words come on the next line. and the one after.", 190.0),
        ("Smith, John (Guest)", "A guest speaks.", 3723.0),
        ("jsmith", "a lower-case handle.", None),
    ]
    assert transcript.notes == ()


def test_line_after_a_teams_speaker_line_is_always_words():
    transcript = parse_text("Ann Lee  0:03\nYes: we agreed.\nBen Ode  0:09\nGood.")

    assert [(turn.speaker, turn.text, turn.start) for turn in transcript.turns] == [
        ("Ann Lee", "Yes: we agreed.", 3.0),
        ("Ben Ode", "Good.", 9.0),
    ]


def test_plain_text_merges_consecutive_lines_of_one_speaker():
    transcript = parse_text("Ann: one\nAnn: two\nBen: three\nAnn: four")

    assert pairs(transcript) == [("Ann", "one two"), ("Ben", "three"), ("Ann", "four")]


def test_name_speaker_line_then_a_name_colon_line():
    transcript = parse_text("Speaker:\nThe words on the next line.\nOther: Hi")

    assert pairs(transcript) == [("Speaker", "The words on the next line."), ("Other", "Hi")]


@pytest.mark.parametrize(
    "line",
    [
        "So here's the thing: we ship Friday.",
        "We meet at 10:30 tomorrow.",
        "Note: the deadline moved.",
        "see https://example.com/a:b for details",
        "What about this? Maybe: later.",
    ],
)
def test_prose_is_not_mistaken_for_a_speaker(line: str):
    transcript = parse_text(line)

    assert pairs(transcript) == [(None, line)]


def test_youtube_style_times_split_speakerless_paragraphs():
    transcript = parse_text("0:03\nHello there\n0:07\nGeneral Kenobi\n")

    assert [(turn.speaker, turn.text, turn.start) for turn in transcript.turns] == [
        (None, "Hello there", 3.0),
        (None, "General Kenobi", 7.0),
    ]


def test_text_starting_with_a_bracket_or_brace_is_not_json():
    assert pairs(parse_text("[00:00:01] Ann: hi\n[00:00:02] Ben: yo")) == [("Ann", "hi"), ("Ben", "yo")]
    assert pairs(parse_transcript(b"{vocalsound} Okay . {disfmarker} Right .")) == [
        (None, "{vocalsound} Okay . {disfmarker} Right .")
    ]


def test_markdown_file_is_text():
    transcript = parse_transcript(b"# Standup\n\n**Ann:** done\n\n**Ben:** blocked", filename="standup.md")

    assert (transcript.format, pairs(transcript)) == (
        "text",
        [(None, "# Standup"), ("Ann", "done"), ("Ben", "blocked")],
    )


# --- JSON ------------------------------------------------------------------------------------------------


def test_json_list_of_turns():
    data = json.dumps(
        [
            {"speaker": "Ann", "text": "Hello <b>there</b>", "start": 0, "end": 1.5},
            {"speaker": "Ann", "text": "again", "start": 1.5, "end": 2},
            {"speaker": "Ben", "text": "Hi {vocalsound}", "start": "2.5", "end": "00:00:03.250"},
        ]
    ).encode()

    transcript = parse_transcript(data, filename="export.json")

    assert transcript.format == "json"
    assert transcript.turns == (Turn("Ann", "Hello there again", 0.0, 2.0), Turn("Ben", "Hi {vocalsound}", 2.5, 3.25))
    assert transcript.notes == ()


def test_json_object_with_turns_and_key_aliases():
    data = json.dumps(
        {
            "id": "weekly",
            "turns": [
                {"name": "Ann", "content": "one", "start_time": 1, "end_time": 2},
                {"speaker_name": "Ben", "content": "two", "startTime": 3, "endTime": 4},
                {"speaker": {"name": "Cy"}, "transcript": "three"},
                {"speaker": 2, "text": "four"},
                {"text": "five"},
            ],
        }
    ).encode()

    transcript = parse_transcript(data)

    assert [(turn.speaker, turn.text, turn.start, turn.end) for turn in transcript.turns] == [
        ("Ann", "one", 1.0, 2.0),
        ("Ben", "two", 3.0, 4.0),
        ("Cy", "three", None, None),
        ("Speaker 2", "four", None, None),
        (None, "five", None, None),
    ]


def test_json_segments_and_bad_entries_are_noted():
    data = json.dumps(
        {
            "text": "ignored: the segments are read",
            "segments": [
                {"start": 0.0, "end": 2.0, "text": " Whisper style"},
                {"start": "soon", "end": 3.0, "text": "bad time"},
                {"start": 4.0, "end": 5.0},
                "not an object",
            ],
        }
    ).encode()

    transcript = parse_transcript(data, filename="whisper.json")

    assert [(turn.text, turn.start) for turn in transcript.turns] == [("Whisper style", 0.0), ("bad time", None)]
    assert transcript.notes == (
        "2 entries were skipped: no text in them.",
        "1 turn had unreadable times; the text was kept.",
    )


def test_json_object_with_the_whole_transcript_as_one_string():
    transcript = parse_transcript(json.dumps({"transcript": "Ann: hi\nBen: hello"}).encode())

    assert (transcript.format, pairs(transcript)) == ("json", [("Ann", "hi"), ("Ben", "hello")])


def test_invalid_json_without_the_extension_is_read_as_text():
    transcript = parse_transcript(b'{"speaker": "Ann", "text": "unterminated')

    assert transcript.format == "text"
    assert transcript.words == 4


# --- .docx -----------------------------------------------------------------------------------------------


def make_docx(paragraphs: list[str], table: list[list[str]] | None = None) -> bytes:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, text in enumerate(row):
                grid.cell(r, c).text = text
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_docx_with_name_colon_paragraphs():
    data = make_docx(["Ann: Hello there", "Ben: Hi & welcome", "still Ben", "", "Ann: Bye"])

    transcript = parse_transcript(data, filename="meeting.docx")

    assert (transcript.format, transcript.encoding) == ("docx", "utf-8")
    assert pairs(transcript) == [("Ann", "Hello there"), ("Ben", "Hi & welcome still Ben"), ("Ann", "Bye")]


def test_docx_teams_export_with_speaker_and_time_lines():
    data = make_docx(
        [
            "Weekly sync-20240115_100003-Meeting Recording",
            "January 15, 2024, 3:00PM",
            "45m 3s",
            "Alice Smith   0:00:03",
            "Hello everyone.",
            "Bob Jones\t0:10",
            "Hi.",
            "Alice Smith   1:02",
            "Back to the plan.",
        ]
    )

    transcript = parse_transcript(data)  # detected by content: a zip holding word/document.xml

    assert [(turn.speaker, turn.text, turn.start) for turn in transcript.turns] == [
        (None, "Weekly sync-20240115_100003-Meeting Recording January 15, 2024, 3:00PM 45m 3s", None),
        ("Alice Smith", "Hello everyone.", 3.0),
        ("Bob Jones", "Hi.", 10.0),
        ("Alice Smith", "Back to the plan.", 62.0),
    ]


def test_docx_old_teams_export_with_cue_timings():
    data = make_docx(
        [
            "0:0:0.0 --> 0:0:4.430",
            "Smith, John",
            "Good morning everyone.",
            "",
            "0:0:5.0 --> 0:0:6.5",
            "Doe, Jane",
            "Hi.",
        ]
    )

    transcript = parse_transcript(data, filename="Meeting Transcript.docx")

    assert transcript.format == "docx"
    assert transcript.turns == (
        Turn("Smith, John", "Good morning everyone.", 0.0, 4.43),
        Turn("Doe, Jane", "Hi.", 5.0, 6.5),
    )


def test_docx_table_rows():
    data = make_docx(
        ["Transcript"],
        table=[["Speaker", "Time", "Text"], ["Ann", "0:03", "From a table"], ["0:09", "Ben", "Reply"]],
    )

    transcript = parse_transcript(data, filename="table.docx")

    assert [(turn.speaker, turn.text, turn.start) for turn in transcript.turns] == [
        (None, "Transcript", None),
        ("Ann", "From a table", 3.0),
        ("Ben", "Reply", 9.0),
    ]


def test_docx_without_text_is_empty():
    from core.transcripts import EmptyTranscript

    with pytest.raises(EmptyTranscript, match="Word document has no text"):
        parse_transcript(make_docx([]), filename="blank.docx")


def test_docx_is_not_read_from_pasted_text():
    with pytest.raises(NotATranscript):
        parse_transcript(make_docx(["Ann: hi"])[:200], filename="cut.docx")
