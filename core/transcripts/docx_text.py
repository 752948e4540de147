"""The text of a Word (``.docx``) transcript, in reading order, as lines for the text parsers.

Body paragraphs and tables are read in document order (headers, footers and text boxes are not part of
what was said). A table row that is a transcript line (``Name | text`` or ``Name | 0:03 | text`` in any
order) becomes ``Name (0:03): text``; a header row such as ``Speaker | Text`` is dropped.
"""

from __future__ import annotations

import io
import re

import docx
from docx.table import Table
from docx.text.paragraph import Paragraph

from core.transcripts.errors import NotATranscript
from core.transcripts.speakers import looks_like_name
from core.transcripts.timestamps import CLOCK, parse_clock

_HEADER_CELLS = frozenset(
    {"speaker", "name", "time", "timestamp", "start", "end", "text", "transcript", "content", "what was said"}
)


def docx_lines(data: bytes) -> list[str]:
    """Lines of text of the ``.docx`` in ``data``; :class:`NotATranscript` if Word cannot open it."""
    try:
        document = docx.Document(io.BytesIO(data))
        blocks = list(document.iter_inner_content())
    except Exception:  # python-docx raises many types (KeyError, lxml errors, ...) for a damaged file
        raise NotATranscript("This Word document could not be opened; it may be damaged.") from None
    lines: list[str] = []
    for block in blocks:
        if isinstance(block, Paragraph):
            lines.extend(block.text.splitlines() or [""])
        elif isinstance(block, Table):
            lines.extend(_table_lines(block))
    return lines


def _table_lines(table: Table) -> list[str]:
    lines: list[str] = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = cell.text.strip()
            # A merged cell is returned once per grid column it spans; read it once.
            if text and (not cells or cells[-1] != text):
                cells.append(text)
        if cells and all(cell.lower() in _HEADER_CELLS for cell in cells):
            continue
        lines.extend(_row_lines(cells))
        lines.append("")
    return lines


def _row_lines(cells: list[str]) -> list[str]:
    clocks = [cell for cell in cells if parse_clock(cell) is not None]
    names = [cell for cell in cells if cell not in clocks and looks_like_name(cell)]
    if names and len(cells) - len(clocks) == 2 and len(clocks) <= 1:
        name = names[0]
        text = next(cell for cell in cells if cell != name and cell not in clocks)
        # Only a time the text parser reads back goes in the label ("0:0:3" would break it; the time is dropped).
        clock = clocks[0] if clocks and re.fullmatch(CLOCK, clocks[0]) else None
        return [f"{name} ({clock}): {text}" if clock else f"{name}: {text}"]
    return [line for cell in cells for line in cell.splitlines()]
