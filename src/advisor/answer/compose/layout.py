"""How the extractive answer's cited lines are laid out, and the framing line before them (pure): no line
here states a fact of its own."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from advisor.answer.intent import Intent

CONFLICT = "The sources give different figures, so each is shown with its own source:"
CONFLICT_AFTER = "The sources give different figures: each is shown with its own source."


def lay_out(lines: Sequence[str], conflict: bool) -> Iterator[str]:
    """The cited lines in reading order (pure): three or more as bullets, the note on different figures after
    the first (the answer first, then each source's figure under the note); one or two as one paragraph, the
    note after it, so it never stands alone between two sentences."""
    if len(lines) >= 3:
        for i, line in enumerate(lines):
            yield f"- {line}\n"
            if i == 0 and conflict:
                yield "\n" + CONFLICT + "\n\n"
        return
    yield " ".join(lines)
    if conflict and len(lines) > 1:
        yield "\n\n" + CONFLICT_AFTER


def framing(intent: Intent) -> str | None:
    """A framing line that states no fact of its own (pure)."""
    if intent.decision:
        return "Here is what the sources say that bears on your decision:"
    if intent.comparison and len(intent.subjects) >= 2:
        return f"How the sources compare {', '.join(intent.subjects[:-1])} and {intent.subjects[-1]}:"
    if intent.comparison:
        return "How the sources compare them:"
    return None
