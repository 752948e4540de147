"""Telling a transcript from everything else people upload: PDFs, images, recordings, archives, binaries.

Detection is by content (magic numbers, then the decoded text), never by file name alone: a ``.txt`` that is
really a PDF is refused as a PDF, and a ``.docx`` is only read as Word if the zip holds ``word/document.xml``.
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import Literal

from core.transcripts.errors import NotATranscript

# (offset, magic bytes, what it looks like); checked in order.
_MAGIC: tuple[tuple[int, bytes, str], ...] = (
    (0, b"%PDF", "a PDF"),
    (0, b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (0, b"\xff\xd8\xff", "a JPEG image"),
    (0, b"GIF87a", "a GIF image"),
    (0, b"GIF89a", "a GIF image"),
    (0, b"II*\x00", "a TIFF image"),
    (0, b"MM\x00*", "a TIFF image"),
    (8, b"WEBP", "a WebP image"),
    (8, b"WAVE", "an audio recording (WAV); Baton needs the transcript, not the recording"),
    (4, b"ftyp", "an audio or video recording (MP4, MOV or M4A); Baton needs the transcript, not the recording"),
    (0, b"ID3", "an audio recording (MP3); Baton needs the transcript, not the recording"),
    (0, b"OggS", "an audio recording (Ogg); Baton needs the transcript, not the recording"),
    (0, b"fLaC", "an audio recording (FLAC); Baton needs the transcript, not the recording"),
    (0, b"\x1aE\xdf\xa3", "a video recording (WebM or MKV); Baton needs the transcript, not the recording"),
    (0, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Office file (.doc, .xls or .ppt); save it as .docx or .txt"),
    (0, b"{\\rtf", "an RTF document; save it as .docx or .txt"),
    (0, b"\x1f\x8b", "a gzip archive"),
    (0, b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (0, b"Rar!\x1a\x07", "a RAR archive"),
    (0, b"\x7fELF", "a program, not a document"),
)
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
# Other zip-based formats worth naming, by a member only they have.
_ZIP_KINDS = (
    ("xl/workbook.xml", "an Excel spreadsheet (.xlsx)"),
    ("ppt/presentation.xml", "a PowerPoint presentation (.pptx)"),
    ("content.xml", "an OpenDocument file (.odt); save it as .docx or .txt"),
)
# A real Word transcript's document.xml is a few MB at most; far more is a zip bomb, not a meeting.
_MAX_DOCUMENT_XML = 64 * 1024 * 1024
# Text has essentially no control characters besides whitespace; binary decoded as Windows-1252 has ~10%.
# A stray byte or two (a Windows-1252 byte with no character) does not make a short file binary.
_MAX_CONTROL_SHARE = 0.02
_MIN_CONTROLS = 3
_CONTROL = re.compile("[\x01-\x08\x0e-\x1f\x7f-\x9f\ufffd]")  # C0/C1 controls except whitespace, and U+FFFD


def sniff_bytes(data: bytes) -> Literal["docx", "text"]:
    """``"docx"`` for a Word document, ``"text"`` for anything that may be text; known non-text raises.

    Raises :class:`NotATranscript` naming what the bytes look like (a PDF, an image, a recording...).
    """
    for offset, magic, what in _MAGIC:
        if data[offset : offset + len(magic)] == magic:
            raise NotATranscript.looks_like(what)
    if data.startswith(_ZIP_MAGIC):
        _check_docx_zip(data)
        return "docx"
    return "text"


def _check_docx_zip(data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            document = archive.getinfo("word/document.xml") if "word/document.xml" in names else None
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        raise NotATranscript.looks_like("a damaged zip archive") from None
    if document is None:
        what = next((kind for member, kind in _ZIP_KINDS if member in names), "a zip archive without a Word document")
        raise NotATranscript.looks_like(what)
    if document.file_size > _MAX_DOCUMENT_XML:
        raise NotATranscript("This Word document is far too large to be a meeting transcript.")


def check_text(text: str) -> None:
    """Raise :class:`NotATranscript` if decoded ``text`` is really binary (NUL bytes, many control characters)."""
    if "\x00" in text:
        raise NotATranscript.looks_like("a binary file, not text")
    controls = len(_CONTROL.findall(text))
    if controls >= _MIN_CONTROLS and controls > _MAX_CONTROL_SHARE * len(text):
        raise NotATranscript.looks_like("a binary file, not text")
