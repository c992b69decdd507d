"""The indexing pipeline's entry points for the layers above it: what the faces may ask of the corpus
folder (through the `Advisor` facade) without importing `ingest` themselves."""

from __future__ import annotations

from pathlib import Path

from advisor.ingest.load import UnreadableDocument, load_document
from advisor.ingest.profile import derive_profile
from advisor.schema import Chunk, Profile


def read_document(corpus_dir: Path, source: str) -> str | None:
    """The whole text of the corpus document `source` ("corpus/<relative path>") as indexing reads it,
    or None when it lies outside `corpus_dir`, is gone or cannot be read."""
    corpus = corpus_dir.resolve()
    rel = source.split("/", 1)[1] if "/" in source else source
    path = (corpus / rel).resolve()
    if not (path.is_relative_to(corpus) and path.is_file()):
        return None
    try:
        return load_document(path, source).text
    except UnreadableDocument:
        return None


def profile_of(chunks: list[Chunk]) -> Profile:
    """The profile derived from indexed chunks alone (an index published before profiles existed)."""
    return derive_profile([], chunks)
