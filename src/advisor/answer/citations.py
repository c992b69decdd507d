"""Citation markers `[n]`: parsing and enforcing that every marker points at a real passage."""

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


def cited_numbers(text: str) -> list[int]:
    """The distinct marker numbers in `text`, in order of first use."""
    seen: list[int] = []
    for m in MARKER.finditer(text):
        n = int(m.group(1))
        if n not in seen:
            seen.append(n)
    return seen


def markers_valid(text: str, n_passages: int) -> bool:
    """True when every marker in `text` refers to one of `n_passages` passages."""
    return all(1 <= n <= n_passages for n in cited_numbers(text))


def drop_invalid_markers(text: str, n_passages: int) -> str:
    """`text` without markers that refer to no passage (an LLM may invent them)."""
    return MARKER.sub(lambda m: m.group(0) if 1 <= int(m.group(1)) <= n_passages else "", text)


def attach_marker(sentence: str, n: int) -> str:
    """`sentence` ending with `[n]`, placed before its final full stop."""
    s = sentence.rstrip()
    if s.endswith((".", "!")):
        return f"{s[:-1]} [{n}]{s[-1]}"
    return f"{s} [{n}]"
