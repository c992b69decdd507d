"""The embedding model as a setting: known models, a missing model's one-line error, both backends
running each model to the same vectors, the index width following the model, and a model change
rebuilding the index."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from support.corpus import CORPUS

from advisor.indexing import CorpusIndex
from advisor.settings import Settings
from advisor.store.embedding import (
    MODELS,
    EmbedderUnavailable,
    OnnxEmbedder,
    SentenceTransformerEmbedder,
    make_embedder,
    max_word_pieces,
    model_dir,
)
from advisor.weights import path_of

MPNET = "all-mpnet-base-v2"
TEXTS = ["What should I learn first?", "Build foundational engineering skills", "short", "x " * 600]


def _installed_models_dir():
    """Where `advisor models install all-mpnet-base-v2` put the model for this checkout, if it did."""
    models_dir = Settings.from_env().models_path
    return models_dir if path_of(MPNET, models_dir) else None


needs_mpnet = pytest.mark.skipif(
    _installed_models_dir() is None, reason="all-mpnet-base-v2 not installed (advisor models install all-mpnet-base-v2)"
)


@pytest.mark.parametrize(("name", "dim"), [("all-MiniLM-L6-v2", 384), (MPNET, 768)])
def test_known_models_and_their_width(name, dim, tmp_path):
    assert MODELS[name].dim == dim
    for backend in ("onnx", "sentence-transformers"):
        embedder = make_embedder(backend, cache_dir=tmp_path, model=name)
        assert embedder.name == name and embedder.dim == dim
        assert embedder.embed_batch([]).shape == (0, dim)  # nothing loaded for no text
        assert embedder.loaded is False


def test_unknown_model_is_a_one_line_error(tmp_path):
    with pytest.raises(EmbedderUnavailable, match="unknown embedding model 'nope'.*all-MiniLM-L6-v2"):
        make_embedder("onnx", cache_dir=tmp_path, model="nope")


@pytest.mark.parametrize("backend", ["onnx", "sentence-transformers"])
def test_missing_model_says_which_command_installs_it(backend, tmp_path):
    embedder = make_embedder(backend, cache_dir=tmp_path, model=MPNET, models_dir=tmp_path / "empty")
    with pytest.raises(EmbedderUnavailable) as err:
        embedder.embed_batch(["hello"])
    message = str(err.value)
    assert "\n" not in message and f"advisor models install {MPNET}" in message
    assert not any(tmp_path.iterdir())  # nothing downloaded or exported


def test_cli_with_a_missing_model_exits_2_with_one_line(built, tmp_path):
    env = {
        **os.environ,
        "ADVISOR_CORPUS_DIR": str(built.corpus_dir),
        "ADVISOR_DATA_DIR": str(tmp_path / "index"),
        "ADVISOR_EMBEDDING_MODEL": MPNET,
        "ADVISOR_MODELS_DIR": str(tmp_path / "no-models"),
    }
    run = subprocess.run(
        [str(Path(sys.executable).parent / "advisor"), "index"], env=env, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and f"advisor models install {MPNET}" in lines[0]


def test_minilm_window_is_read_from_the_model():
    assert max_word_pieces(model_dir("all-MiniLM-L6-v2", None)) == 256


@needs_mpnet
def test_mpnet_onnx_equals_sentence_transformers(tmp_path):
    models_dir = _installed_models_dir()
    assert max_word_pieces(model_dir(MPNET, models_dir)) == 384
    onnx = OnnxEmbedder(tmp_path, model=MPNET, models_dir=models_dir).embed_batch(TEXTS)
    reference = SentenceTransformerEmbedder(model=MPNET, models_dir=models_dir).embed_batch(TEXTS)
    assert onnx.shape == (len(TEXTS), 768)
    assert np.min(np.sum(onnx * reference, axis=1)) > 0.9999


@needs_mpnet
def test_changing_the_model_rebuilds_at_the_new_width(tmp_path, embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in sorted(p.name for p in CORPUS.glob("*.md"))[:1]:
        (corpus / name).write_text((CORPUS / name).read_text())
    settings = Settings.from_env({}, corpus_dir=corpus, data_dir=tmp_path / "index")
    first = CorpusIndex(settings, embedder).update(progress=False)
    assert CorpusIndex(settings, embedder).snapshot().sentence_vectors.shape[1] == 384

    mpnet = settings.with_(
        embedding_model=MPNET, embedding_backend="sentence-transformers", models_dir=_installed_models_dir()
    )
    index = CorpusIndex(mpnet)
    report = index.update(progress=False)
    assert report.rebuilt and report.chunks == first.chunks
    assert index.snapshot().sentence_vectors.shape[1] == 768
    assert index.manifest()["fingerprint"]["embedding_model"] == MPNET
