"""Shared fixtures: one real embedding model and one real index of the real corpus per session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from advisor.advisor import Advisor
from advisor.settings import Settings
from advisor.store.embedding import OnnxEmbedder
from advisor.store.index import CorpusIndex

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"


@pytest.fixture(scope="session")
def embedder(tmp_path_factory) -> OnnxEmbedder:
    """The real all-MiniLM-L6-v2 on the default (ONNX) backend, exported and loaded once, shared."""
    return OnnxEmbedder(tmp_path_factory.mktemp("models"))


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
    # subprocesses on this data dir find the exported model where the default settings look
    (settings.data_dir / "models").mkdir(exist_ok=True)
    shutil.copy(embedder.path, settings.data_dir / "models" / embedder.path.name)
    return settings


@pytest.fixture(scope="session")
def advisor(built, embedder) -> Advisor:
    return Advisor(built, CorpusIndex(built, embedder))
