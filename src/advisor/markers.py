"""The citation marker `[n]` and how a text is kept from holding one: shared by indexing (documents
are loaded with their own "[2]" made inert) and answering (which alone writes markers)."""

from __future__ import annotations

import re

MARKER = re.compile(r"\[(\d+)\]")
WORD_JOINER = "\u2060"  # invisible: "[\u20602]" reads as "[2]" but is no marker


def neutral_markers(text: str) -> str:
    """`text` with every `[n]` it holds made inert (a word joiner after the bracket).

    Only the answer step writes markers: a document's own "[2]" (a footnote, a reference link) quoted
    in an answer would otherwise cite passage 2, another document. Applied to documents as they are
    loaded and to questions as they are asked; Markdown links and references keep working.
    """
    return MARKER.sub(lambda m: f"[{WORD_JOINER}{m.group(1)}]", text)
