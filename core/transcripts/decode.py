"""Bytes to text without ever failing: BOMs, UTF-8, BOM-less UTF-16, Windows-1252, and a mix of them.

Transcripts arrive from Windows tools as often as from web apps, so a file may be UTF-16 with a BOM, plain
Windows-1252, or (after someone pasted into it) mostly UTF-8 with a few Windows-1252 lines. Decoding never
raises: a byte nothing can read becomes the Latin-1 character of the same value, which the binary check
in :mod:`core.transcripts.sniff` then counts as a control character.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

_BOMS = (
    # UTF-32 first: its little-endian BOM starts with the UTF-16 one.
    (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16"),
)
_CP1252_UNDEFINED = frozenset(b"\x81\x8d\x8f\x90\x9d")
# How much of the file the BOM-less UTF-16 guess looks at.
_SAMPLE = 4096


@dataclass(frozen=True)
class Decoded:
    """Text and how it was read: ``encoding`` is "utf-8", "utf-16", "utf-32", "cp1252" or "mixed"."""

    text: str
    encoding: str
    notes: tuple[str, ...] = ()


def decode(data: bytes) -> Decoded:
    """Decode transcript bytes, trying in turn: a BOM, strict UTF-8, BOM-less UTF-16, then line by line."""
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            return Decoded(data[len(bom) :].decode(codec, errors="replace"), name)
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    utf16 = _utf16_without_bom(data)
    if utf16 is not None:
        return Decoded(data.decode(utf16, errors="replace"), "utf-16")
    return _decode_lines(data)


def _utf16_without_bom(data: bytes) -> str | None:
    """The UTF-16 codec when the bytes look like mostly-ASCII UTF-16 (every other byte NUL), else None."""
    sample = data[:_SAMPLE]
    if len(sample) < 4:
        return None
    evens, odds = sample[0::2], sample[1::2]
    for codec, high, low in (("utf-16-le", odds, evens), ("utf-16-be", evens, odds)):
        # Latin-script text in UTF-16 has mostly NUL high bytes and no NUL or control low bytes; binary data
        # with 16-bit integers in it has NULs on both sides or control bytes in the low half.
        controls = sum(1 for byte in low if byte < 32 and byte not in b"\t\n\r")
        if high.count(0) > 0.7 * len(high) and low.count(0) == 0 and controls <= 0.1 * len(low):
            return codec
    return None


def _decode_lines(data: bytes) -> Decoded:
    """UTF-8 line by line; lines that are not UTF-8 are read as Windows-1252 ("mixed" when both occur)."""
    parts: list[str] = []
    utf8_lines = cp1252_lines = 0
    for line in data.splitlines(keepends=True):
        try:
            text = line.decode("utf-8")
            utf8_lines += not text.isascii()
        except UnicodeDecodeError:
            text = _cp1252(line)
            cp1252_lines += 1
        parts.append(text)
    text = "".join(parts)
    if not utf8_lines:
        return Decoded(text, "cp1252")
    lines, was = ("line", "was") if cp1252_lines == 1 else ("lines", "were")
    note = f"{cp1252_lines} {lines} {was} not valid UTF-8 and {was} read as Windows-1252 (cp1252)."
    return Decoded(text, "mixed", (note,))


def _cp1252(line: bytes) -> str:
    try:
        return line.decode("cp1252")
    except UnicodeDecodeError:
        # Five byte values are undefined in Windows-1252; only those fall back to Latin-1 (which maps every byte).
        return "".join(chr(byte) if byte in _CP1252_UNDEFINED else bytes([byte]).decode("cp1252") for byte in line)
