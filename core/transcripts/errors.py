"""Why a transcript could not be read: one exception tree, each with a reason fit to show in Slack.

The tree is drawn in the package docstring (:mod:`core.transcripts`). Every ``reason`` is one short,
specific sentence saying what Baton saw and, where it helps, what to send instead.
"""

from __future__ import annotations

#: The formats named in every "send something else" reason; keep in step with ``SUPPORTED_EXTENSIONS``.
ACCEPTED = "Baton reads transcripts as .vtt, .srt, .txt, .md, .json or .docx."


class TranscriptError(ValueError):
    """A transcript could not be read; ``reason`` is a short sentence for the person who sent it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class EmptyTranscript(TranscriptError):
    """There is nothing to read: no bytes at all, or only blank space."""


class NotATranscript(TranscriptError):
    """The input is not text Baton can read: a PDF, an image, a recording, an archive, bad JSON..."""

    @classmethod
    def looks_like(cls, what: str) -> NotATranscript:
        """The usual reason: "This looks like <what>; Baton reads transcripts as ..."."""
        return cls(f"This looks like {what}; {ACCEPTED}")


class NoTurns(TranscriptError):
    """The input is readable text in a known format, but no spoken words came out of it."""
