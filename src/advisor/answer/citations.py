"""Citation markers `[n]`: parsing and enforcing that every marker points at a real passage."""

from __future__ import annotations

from advisor.markers import MARKER, WORD_JOINER, neutral_markers

__all__ = [
    "MARKER",
    "WORD_JOINER",
    "attach_marker",
    "cited_numbers",
    "drop_invalid_markers",
    "markers_valid",
    "neutral_markers",
]


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
