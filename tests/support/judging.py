"""What the judge tests of every folder share: a profile of trades and passages and retrievals made by hand."""

from __future__ import annotations

import numpy as np

from advisor.schema import Chunk, Passage, Profile, Retrieval

TRADES = Profile(
    name="Trades advisor",
    description="Documents about electricians, plumbers and UX designers.",
    subjects=(
        "electrician",
        "master electrician",
        "plumber",
        "UX designer",
        "senior UX designer",
        "principal designer",
    ),
    examples=(
        "How long does an electrical apprenticeship take?",
        "Do I need a college degree to become an electrician?",
        "What does a plumber earn?",
        "How many case studies should a UX portfolio have?",
        "Can I move into UX from graphic design?",
    ),
)


def passage(text: str, rank: int = 1, section: str | None = None, title: str = "Guide") -> Passage:
    return Passage(Chunk(f"c{rank}", "corpus/x.md", title, section, text, rank), 0.6, rank)


def retrieval(texts: list[str], unknown: list[str] = (), top: float = 0.5, coverage: float = 1.0) -> Retrieval:
    return Retrieval(
        query="q",
        passages=[passage(t, i + 1) for i, t in enumerate(texts)],
        query_vector=np.zeros(3, dtype=np.float32),
        top_dense=top,
        term_coverage=coverage,
        unknown_terms=list(unknown),
    )
