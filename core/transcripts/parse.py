"""From bytes or pasted text to a :class:`~core.meetings.records.Transcript`: sniff, decode, detect the format, parse.

The format is decided by content; the file name's extension only breaks ties (an unlabelled cue file with
``.srt`` is SRT) and makes errors more specific (a ``.json`` file that is not JSON says so).
"""

from __future__ import annotations

import re
from typing import Any, Literal

from core.meetings.records import Transcript, Turn
from core.transcripts.cues import parse_cues
from core.transcripts.decode import decode
from core.transcripts.docx_text import docx_lines
from core.transcripts.errors import EmptyTranscript, NotATranscript, NoTurns
from core.transcripts.json_export import load_json, parse_json
from core.transcripts.plain import parse_plain
from core.transcripts.sniff import check_text, sniff_bytes

Format = Literal["vtt", "srt", "json", "text"]

#: File extensions Baton reads transcripts from (the format itself is detected from the content).
SUPPORTED_EXTENSIONS = (".vtt", ".srt", ".txt", ".md", ".json", ".docx")

# A cue timing line: digits, an arrow, digits ("00:00:01,000 --> 00:00:04,000").
_TIMING_LINE = re.compile(r"^[ \t]*\d[\d:.,]*[ \t]*-->[ \t]*\d", re.MULTILINE)
_SRT_TIMING_LINE = re.compile(r"^[ \t]*\d[\d:]*,\d+[ \t]*-->", re.MULTILINE)
_NAMES = {"vtt": "WebVTT", "srt": "SRT", "json": "JSON", "text": "text", "docx": "Word"}


def parse_transcript(data: bytes, *, filename: str | None = None) -> Transcript:
    """Parse an uploaded transcript file (WebVTT, SRT, plain text, JSON or Word ``.docx``).

    Raises :class:`~core.transcripts.TranscriptError` (with a ``reason`` to show the user) when the bytes
    are empty, are not a transcript (a PDF, an image, a zip...) or hold no spoken words.
    """
    if not data:
        raise EmptyTranscript("The file is empty.")
    if sniff_bytes(data) == "docx":
        lines = docx_lines(data)
        if not any(line.strip() for line in lines):
            raise EmptyTranscript("This Word document has no text.")
        text = "\n".join(lines)
        if _TIMING_LINE.search(text):
            # Old Teams exports: "0:0:0.0 --> 0:0:4.4", the speaker's name, then the words.
            cues = parse_cues(text, webvtt=False, name_lines=True)
            return _transcript(cues.turns, "docx", "utf-8", cues.notes)
        plain = parse_plain(text)
        return _transcript(plain.turns, "docx", "utf-8", plain.notes)
    decoded = decode(data)
    check_text(decoded.text)
    if not decoded.text.strip():
        raise EmptyTranscript("The file has no text; it is only blank space.")
    turns, fmt, notes = _parse_decoded(decoded.text, extension=_extension(filename))
    return _transcript(turns, fmt, decoded.encoding, decoded.notes + notes)


def parse_text(text: str) -> Transcript:
    """Parse pasted transcript text (e.g. ``/baton summarize <text>``): any of the text formats, never ``.docx``."""
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise EmptyTranscript("There is no transcript text to read.")
    turns, fmt, notes = _parse_decoded(text, extension=None)
    return _transcript(turns, fmt, "utf-8", notes)


def _parse_decoded(text: str, *, extension: str | None) -> tuple[tuple[Turn, ...], Format, tuple[str, ...]]:
    fmt, value = _detect(text, extension)
    if fmt == "json":
        parsed_json = parse_json(value)
        return parsed_json.turns, fmt, parsed_json.notes
    if fmt in ("vtt", "srt"):
        cues = parse_cues(text, webvtt=fmt == "vtt")
        return cues.turns, fmt, cues.notes
    plain = parse_plain(text)
    return plain.turns, fmt, plain.notes


def _detect(text: str, extension: str | None) -> tuple[Format, Any]:
    """The text format, and the decoded JSON value when it is JSON (so it is parsed once)."""
    head = text.lstrip("\ufeff \t\r\n")
    if head.startswith("WEBVTT"):
        return "vtt", None
    if head.startswith(("{", "[")):
        # "[00:01:02] Name: text" and "{vocalsound} okay" are text too, so invalid JSON only fails a .json file.
        try:
            return "json", load_json(text)
        except NotATranscript:
            if extension == ".json":
                raise
    if _TIMING_LINE.search(text):
        if extension in (".vtt", ".srt"):
            return ("vtt" if extension == ".vtt" else "srt"), None
        return ("srt" if _SRT_TIMING_LINE.search(text) else "vtt"), None
    return "text", None


def _extension(filename: str | None) -> str | None:
    if not filename or "." not in filename:
        return None
    return "." + filename.rsplit(".", 1)[1].lower()


def _transcript(turns: tuple[Turn, ...], fmt: str, encoding: str, notes: tuple[str, ...]) -> Transcript:
    if not turns:
        raise NoTurns(f"This {_NAMES[fmt]} transcript has no spoken words in it.")
    return Transcript(turns=turns, format=fmt, encoding=encoding, notes=notes)
