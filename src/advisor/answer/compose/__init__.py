"""Answer composers ("generators"). Each implements one method, `generate(question, passages,
query_vector, history)`, which yields the answer text in pieces (so the UI can stream it) with `[n]`
markers that refer to `passages[n-1]`, optionally followed by one `Composition` (the final text, which
generator wrote it, notices, verification). Chosen by name in settings; `extractive` is the default,
`llm` drafts with a chat model and checks every sentence (`compose/llm.py`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

import numpy as np

from advisor.schema import Composition, Passage, Turn
from advisor.settings import Settings

GENERATORS = ("extractive", "llm")


class Generator(Protocol):
    name: str

    def generate(
        self, question: str, passages: list[Passage], query_vector: np.ndarray, history: Sequence[Turn] = ()
    ) -> Iterator[str | Composition]: ...

    def close(self) -> None:
        """Release what the generator holds (a local model server); optional: `Advisor.close` calls it only
        when a generator has it (a rule-based one holds nothing)."""
        ...


def make_generator(
    name: str,
    sentences: Callable[[str], tuple[list[str], np.ndarray]],
    settings: Settings | None = None,
    embed: Callable[[Sequence[str]], np.ndarray] | None = None,
    subjects: Callable[[str], list[str]] | None = None,
    measure: Callable[[str], str | None] | None = None,
) -> Generator:
    """The generator named in settings (`llm` needs the settings and the sentence embedder);
    `subjects` finds the corpus's subjects in a text and `measure` the kind of figure its words ask for
    (both from the corpus profile)."""
    from advisor.answer.compose.extractive import ExtractiveGenerator
    from advisor.answer.intent import no_measure, no_subjects

    extractive = ExtractiveGenerator(
        sentences, subjects=subjects or no_subjects, measure=measure or no_measure, embed=embed
    )
    if name == "extractive":
        return extractive
    if name == "llm" and settings is not None and embed is not None:
        from advisor.answer.compose.llm import LLMGenerator

        return LLMGenerator(settings, sentences, embed, extractive)
    raise ValueError(f"unknown generator {name!r} (available: {', '.join(GENERATORS)})")
