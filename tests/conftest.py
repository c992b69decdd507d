"""Shared fixtures: one real embedding model, one real index of the real corpus, and one of the real
corpus with the second evaluation corpus (evals/corpora/other-careers) per session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from advisor.evaluation.golden import scratch_settings
from advisor.evaluation.servers import chroma_server as chroma_server_at
from advisor.evaluation.servers import postgres
from advisor.indexing import CorpusIndex
from advisor.pipeline import Advisor
from advisor.settings import Settings
from advisor.store.embedding import OnnxEmbedder

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
OTHER_CAREERS = ROOT / "evals" / "corpora" / "other-careers"


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


@pytest.fixture(scope="session")
def built_both(tmp_path_factory, built, embedder) -> Settings:
    """A real index of the real corpus and the other-careers corpus together, built once for the
    session the way `advisor eval --corpus A --corpus B` builds it (read-only for tests)."""
    settings = scratch_settings(built, [CORPUS, OTHER_CAREERS / "corpus"], tmp_path_factory.mktemp("both"))
    CorpusIndex(settings, embedder).update(progress=False)
    return settings


@pytest.fixture(scope="session")
def advisor_both(built_both, embedder) -> Advisor:
    return Advisor(built_both, CorpusIndex(built_both, embedder))


@pytest.fixture
def chroma_server(tmp_path):
    """A real `chroma run` server on a free loopback port; yields its URL."""
    with chroma_server_at(tmp_path / "chroma-server") as url:
        yield url


@pytest.fixture(scope="session")
def postgres_url():
    """A real PostgreSQL server (Debian's packages) on a free loopback port, data in a temp dir."""
    with postgres() as url:
        yield url


# -- tiers --------------------------------------------------------------------------------------------------------
# A test that uses a heavy fixture (directly or through another fixture) is marked for it, so that
# `make test-fast` (-m "not model and not server and ...") runs only what needs no model, server,
# browser or database. Tests that load a model without these fixtures carry the marker themselves.
HEAVY_FIXTURES = {
    "embedder": "model",
    "built": "model",
    "advisor": "model",
    "built_both": "model",
    "advisor_both": "model",
    "chroma_server": "server",
    "postgres_url": "postgres",
    "smollm2": "llm",
    "golden_runs": "model",  # tests/test_golden.py: runs golden sets through a real advisor
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        for fixture in set(getattr(item, "fixturenames", ())) & HEAVY_FIXTURES.keys():
            item.add_marker(HEAVY_FIXTURES[fixture])
