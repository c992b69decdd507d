"""The corpus profile stored with a real index: written by indexing, read (or derived) by the advisor, updated when
advisor.yaml changes. Deriving and overriding it are in tests/unit/test_profile.py."""

from __future__ import annotations

import shutil
from pathlib import Path

from advisor.indexing import CorpusIndex
from advisor.ingest.chunk import chunk_document
from advisor.ingest.load import load_corpus
from advisor.pipeline import Advisor
from advisor.profile import PROFILE, load_profile
from advisor.settings import Settings


def corpus(path: Path):
    docs, _ = load_corpus(path)
    return docs, [c for d in docs for c in chunk_document(d)]


def test_the_index_writes_the_profile_and_the_advisor_reads_it(built, embedder):
    saved = load_profile(built.data_dir)
    assert saved is not None and "AI architect" in saved.subjects
    assert Advisor(built, CorpusIndex(built, embedder)).profile == saved


def _copy_index(built: Settings, tmp_path: Path) -> Settings:
    shutil.copytree(built.corpus_dir, tmp_path / "corpus")
    shutil.copytree(built.data_dir, tmp_path / "index")
    return Settings.from_env({}, corpus_dir=tmp_path / "corpus", data_dir=tmp_path / "index")


def test_without_profile_file_the_advisor_derives_one_and_writes_nothing(built, embedder, tmp_path):
    settings = _copy_index(built, tmp_path)
    (settings.data_dir / PROFILE).unlink()
    profile = Advisor(settings, CorpusIndex(settings, embedder)).profile
    assert "AI architect" in profile.subjects and profile.examples
    assert not (settings.data_dir / PROFILE).exists()


def test_editing_advisor_yaml_updates_the_profile_on_the_next_index_run(built, embedder, tmp_path):
    settings = _copy_index(built, tmp_path)
    advisor = Advisor(settings, CorpusIndex(settings, embedder))
    assert advisor.profile.name == "advisor"
    (settings.corpus_dir / "advisor.yaml").write_text("name: Career compass\n")
    report = CorpusIndex(settings, embedder).update(progress=False)
    assert not report.changed  # the documents did not change, only the profile
    assert load_profile(settings.data_dir).name == "Career compass"
    assert advisor.profile.name == "Career compass"
