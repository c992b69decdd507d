"""A writer that indexed a few documents into a fresh collection of a real `chroma run` server, with its
records in a real PostgreSQL: the fixture of the scale-out tests (a reader, a second writer, a restore)."""

from __future__ import annotations

import shutil
import uuid

import pytest

from advisor.indexing import CorpusIndex
from advisor.settings import Settings
from support.corpus import CORPUS

DOCS = (
    "ai-architect-career-ladder.md",
    "ai-engineering-architect-career-guide.md",
    "ai-engineer-vs-ai-architect-which-role-to-target-2026.md",
)


@pytest.fixture
def shared(tmp_path, chroma_server, postgres_url, embedder):
    """A writer that indexed three documents into a fresh collection of the shared server."""
    corpus = tmp_path / "writer" / "corpus"
    corpus.mkdir(parents=True)
    for name in DOCS:
        shutil.copy(CORPUS / name, corpus / name)
    writer = Settings.from_env(
        {},
        corpus_dir=corpus,
        data_dir=tmp_path / "writer" / "index",
        chroma_url=chroma_server,
        records_url=postgres_url,
        collection=f"t{uuid.uuid4().hex[:10]}",
        poll_seconds=1,
    )
    report = CorpusIndex(writer, embedder).update(progress=False)
    assert report.added == report.chunks > 30
    return writer, report
