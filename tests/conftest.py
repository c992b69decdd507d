"""Shared fixtures: one real embedding model and one real index of the real corpus per session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from advisor.advisor import Advisor
from advisor.embedding import SentenceTransformerEmbedder
from advisor.index import CorpusIndex
from advisor.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    """The real all-MiniLM-L6-v2, loaded once and shared (loading is the slow part)."""
    return SentenceTransformerEmbedder()


def make_settings(tmp: Path, corpus: Path | None = None, **overrides) -> Settings:
    """Settings with the corpus copied into `tmp` and the index under `tmp/index`."""
    target = tmp / "corpus"
    if not target.exists():
        shutil.copytree(corpus or CORPUS, target)
    return Settings.from_env({}, corpus_dir=target, data_dir=tmp / "index", **overrides)


@pytest.fixture(scope="session")
def built(tmp_path_factory, embedder) -> Settings:
    """Settings of a real index of the real corpus, built once for the session (read-only for tests)."""
    settings = make_settings(tmp_path_factory.mktemp("real"))
    CorpusIndex(settings, embedder).update(progress=False)
    return settings


@pytest.fixture(scope="session")
def advisor(built, embedder) -> Advisor:
    return Advisor(built, CorpusIndex(built, embedder))
