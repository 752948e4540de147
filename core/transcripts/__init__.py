"""Meeting transcripts from files and pasted text: WebVTT, SRT, plain text, JSON and Word ``.docx``.

Pure: bytes (or a string) in, a :class:`~core.meetings.records.Transcript` out; no files, network, environment or
clock. Every word of what was said is kept, including the corpora's disfluency markers (``{vocalsound}``,
``<pause>``); only formatting markup, cue ids and timing lines are dropped. Whatever was odd about the input
(malformed timestamps, mixed encodings, no speaker names) is reported in ``Transcript.notes``.

Modules, one concept each: :mod:`~core.transcripts.sniff` (is it text, Word, or something else?),
:mod:`~core.transcripts.decode` (bytes to text, never failing), :mod:`~core.transcripts.cues` (WebVTT and SRT),
:mod:`~core.transcripts.plain` (``Name: text`` and paragraphs), :mod:`~core.transcripts.json_export`,
:mod:`~core.transcripts.docx_text`, :mod:`~core.transcripts.speakers` (what a speaker label looks like),
:mod:`~core.transcripts.turns` (markup, whitespace, merging) and :mod:`~core.transcripts.parse` (the entry points).

Exceptions; each carries ``reason``, one sentence fit to show in Slack::

    ValueError
    └── TranscriptError            .reason: str
        ├── EmptyTranscript        no bytes, or only blank space ("The file is empty.")
        ├── NotATranscript         a PDF, image, recording, archive, damaged .docx, invalid .json...
        └── NoTurns                a known format, but no spoken words in it
"""

from __future__ import annotations

from core.transcripts.errors import EmptyTranscript, NotATranscript, NoTurns, TranscriptError
from core.transcripts.parse import SUPPORTED_EXTENSIONS, parse_text, parse_transcript

__all__ = [
    "SUPPORTED_EXTENSIONS",
    "EmptyTranscript",
    "NoTurns",
    "NotATranscript",
    "TranscriptError",
    "parse_text",
    "parse_transcript",
]
