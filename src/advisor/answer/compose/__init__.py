"""Answer composers ("generators"). Each implements one method, `generate(question, passages,
query_vector, history)`, which yields the answer text in pieces (so the UI can stream it) with `[n]`
markers that refer to `passages[n-1]`. Chosen by name in settings; `extractive` is the default."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

import numpy as np

from advisor.schema import Passage, Turn

GENERATORS = ("extractive",)


class Generator(Protocol):
    name: str

    def generate(
        self, question: str, passages: list[Passage], query_vector: np.ndarray, history: Sequence[Turn] = ()
    ) -> Iterator[str]: ...


def make_generator(name: str, sentences: Callable[[str], tuple[list[str], np.ndarray]]) -> Generator:
    """The generator named in settings."""
    if name == "extractive":
        from advisor.answer.compose.extractive import ExtractiveGenerator

        return ExtractiveGenerator(sentences)
    raise ValueError(f"unknown generator {name!r} (available: {', '.join(GENERATORS)})")
