"""Retrieval: finding the passages for a standalone question in the published index.

`hybrid` holds the retriever (dense search in Chroma plus BM25 over the same chunks, the snapshot of the published
version, polled and swapped live); `fusion` the pure functions that fuse and adjust its rankings.
"""

from advisor.retrieval.fusion import (
    asked_section,
    cover_sides,
    cover_subject,
    name_pattern,
    near_duplicate,
    prefer_section,
    promote,
    promote_advice,
    promote_one_of,
    rrf,
    subject_queries,
    zfuse,
)
from advisor.retrieval.hybrid import HybridRetriever, Mode, Retriever, corpus_words, unknown_words

__all__ = [
    "HybridRetriever",
    "Mode",
    "Retriever",
    "asked_section",
    "corpus_words",
    "cover_sides",
    "cover_subject",
    "name_pattern",
    "near_duplicate",
    "prefer_section",
    "promote",
    "promote_advice",
    "promote_one_of",
    "rrf",
    "subject_queries",
    "unknown_words",
    "zfuse",
]
