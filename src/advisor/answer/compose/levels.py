"""The asked level of a role in a figure question (pure): "a principal X" is answered by the row naming the
principal X before the figures of X's other levels.

Nothing here knows a corpus: the levels are the corpus profile's own subjects ("senior X", "principal X").
"""

from __future__ import annotations

from collections.abc import Sequence

from advisor.profile import subject_words

LEVEL = 0.1  # score a figure sentence gains for naming the asked level itself when the passages name others; dev
# score a sentence loses under another heading than the one the question names among its document's parallel ones
# ("Staff X" when "Senior X" is named, `Passage.heading_asked`); the named one gains nothing, so its sentences do
# not outrank other documents' for it; dev
HEADING = 0.2


def heading_weight(asked: bool | None) -> float:
    """What a sentence's place costs it: `HEADING` under a parallel heading to the one the question names (pure)."""
    return -HEADING if asked is False else 0.0


def names_asked_level(named: Sequence[str], asked: str, elsewhere: Sequence[str]) -> bool:
    """A sentence naming the subjects `named` names the asked one itself, and the passages (`elsewhere`: the
    subjects all candidate sentences name) name another level of it, more general or more specific
    ("principal X" asked; "X" or "senior X" named elsewhere): the row for the asked level (pure)."""
    own = subject_words(asked)
    if not own or not any(subject_words(n) == own for n in named):
        return False
    return any(subject_words(o) != own and (subject_words(o) < own or own < subject_words(o)) for o in elsewhere)
