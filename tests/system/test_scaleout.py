"""Issue 13: one writer, many stateless readers on a real `chroma run` server, with the record store
and the writer lock in a real PostgreSQL server (both on loopback ports, data in temp dirs)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.corpus import CORPUS
from support.fakes import CountingEmbedder, CountingExtra
from support.shared_index import DOCS

import advisor.indexing as index_module
from advisor.indexing import CorpusIndex
from advisor.pipeline import Advisor
from advisor.settings import Settings
from advisor.store.reader import IndexBusy

pytestmark = pytest.mark.server
BIN = Path(sys.executable).parent
QUESTIONS = ("What does a staff AI/ML engineer own?", "Do I need a PhD to become an AI engineering architect?")


def reader_settings(tmp_path: Path, name: str, writer: Settings) -> Settings:
    """How an operator configures a reader: the server's URL, an empty data dir, no corpus."""
    return Settings.from_env(
        {
            "ADVISOR_CHROMA_URL": writer.chroma_url,
            "ADVISOR_DATA_DIR": str(tmp_path / name),
            "ADVISOR_COLLECTION": writer.collection,
            "ADVISOR_POLL_SECONDS": "1",
        }
    )


def served_ids(settings: Settings, embedder) -> list[str]:
    index = CorpusIndex(settings, embedder)
    return sorted(index.collection().get(include=[])["ids"])


def test_two_readers_with_empty_data_dirs_answer_identically_embedding_only_the_query(tmp_path, shared, embedder):
    writer, _ = shared
    readers = []
    for name in ("reader1", "reader2"):
        settings = reader_settings(tmp_path, name, writer)
        assert settings.read_only
        counting = CountingEmbedder(embedder)
        index = CorpusIndex(settings, counting)
        index.extra = CountingExtra(index.extra)  # the second dense model's chunk vectors come from the server too
        readers.append((settings, counting, Advisor(settings, index)))
    answers = [[r.ask(q) for q in QUESTIONS] for _, _, r in readers]
    for a, b in zip(*answers, strict=True):
        assert a.text == b.text and a.cited == b.cited and not a.refused
        assert [p.chunk.id for p in a.passages] == [p.chunk.id for p in b.passages]
    for settings, counting, _ in readers:
        assert counting.texts == list(QUESTIONS)  # nothing but the queries was embedded
        assert not settings.data_dir.exists() or not any(settings.data_dir.iterdir())
    assert all(r.retriever.extra.passages == 0 for _, _, r in readers)  # by either model
    # the command line as a reader: `advisor ask` with only the server's URL and a model cache
    data = tmp_path / "cli-reader"
    (data / "models").mkdir(parents=True)
    shutil.copy(embedder.path, data / "models" / embedder.path.name)
    env = {
        **os.environ,
        "ADVISOR_CHROMA_URL": writer.chroma_url,
        "ADVISOR_DATA_DIR": str(data),
        "ADVISOR_COLLECTION": writer.collection,
    }
    env.pop("ADVISOR_CORPUS_DIR", None)
    run = subprocess.run([str(BIN / "advisor"), "ask", "--json", QUESTIONS[0]], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["answer"] == answers[0][0].text
    assert sorted(p.name for p in data.iterdir()) == ["models"]


def test_an_edited_document_is_served_by_both_readers_after_the_writer_commits(tmp_path, shared, embedder):
    writer, _ = shared
    readers = [Advisor(s, CorpusIndex(s, embedder)) for s in (reader_settings(tmp_path, n, writer) for n in "ab")]
    question = "How long do apprentice lighthouse keepers shadow a mentor?"
    for r in readers:
        assert not any("lighthouse" in p.chunk.text for p in r.ask(question).passages)
    ladder = writer.corpus_dir / DOCS[0]
    added = "\n## Lighthouse keepers\n\nApprentice lighthouse keepers shadow a mentor.\n"
    ladder.write_text(ladder.read_text() + added)
    report = CorpusIndex(writer, embedder).update(progress=False)
    assert report.added == 1 and report.deleted == 0
    deadline = time.monotonic() + 60  # a failure timeout: one poll interval plus loading, not a measurement
    pending = set(range(len(readers)))
    while pending and time.monotonic() < deadline:
        for i in list(pending):
            if any("lighthouse" in p.chunk.text for p in readers[i].ask(question).passages):
                pending.discard(i)
        time.sleep(0.2)
    assert not pending
    for r in readers:
        assert r.retriever.serving.version == report.version


def test_an_edit_keeps_every_sentence_vector_when_documents_straddle_index_batches(
    tmp_path, shared, embedder, monkeypatch
):
    """At 10x the bench's edit failed ("new version ... is inconsistent (chunk ... has no readable
    sentence vectors)"): LangChain's per-batch incremental cleanup deleted the not-yet-seen chunks of a
    document straddling a batch boundary and re-added them without their sentence vectors. Small
    batches put such boundaries inside this small corpus's documents, as 256 did at 10x."""
    writer, first = shared
    monkeypatch.setattr(index_module, "INDEX_BATCH", 7)
    ladder = writer.corpus_dir / DOCS[0]
    added = "\n## Lighthouse keepers\n\nApprentice lighthouse keepers shadow a mentor.\n"
    ladder.write_text(ladder.read_text() + added)
    report = CorpusIndex(writer, embedder).update(progress=False)
    assert (report.added, report.embedded, report.deleted) == (1, 1, 0)  # nothing unchanged was re-embedded
    assert report.copied == first.chunks  # the unchanged chunks came from the previous version
    reader = CorpusIndex(reader_settings(tmp_path, "reader", writer), embedder)
    snap = reader.snapshot()  # from the collection: every chunk must carry its sentence vectors
    assert len(snap.chunks) == first.chunks + 1 == report.chunks
    assert len(snap.sentence_vectors) == len(snap.sentences) > report.chunks
    assert any("lighthouse" in t for t in snap.sentences)
    assert reader.check() == []


def test_a_second_writer_is_refused_by_the_lock(tmp_path, shared, embedder):
    writer, _ = shared
    held = CorpusIndex(writer, embedder).writer_lock()
    held.acquire()
    try:
        second = writer.with_(data_dir=tmp_path / "second" / "index")
        with pytest.raises(IndexBusy, match="another writer is indexing"):
            CorpusIndex(second, embedder).update(full=True, progress=False)
        env = {
            **os.environ,
            "ADVISOR_CHROMA_URL": writer.chroma_url,
            "ADVISOR_RECORDS_URL": writer.records_url,
            "ADVISOR_COLLECTION": writer.collection,
            "ADVISOR_CORPUS_DIR": str(writer.corpus_dir),
            "ADVISOR_DATA_DIR": str(tmp_path / "third"),
        }
        run = subprocess.run([str(BIN / "advisor"), "index", "--full"], env=env, capture_output=True, text=True)
        assert run.returncode == 2 and "another writer is indexing" in run.stderr, run.stderr
    finally:
        held.release()
    assert CorpusIndex(reader_settings(tmp_path, "r", writer), embedder).check() == []


def test_a_partial_corpus_writer_elsewhere_never_duplicates_or_deletes_others_chunks(tmp_path, shared, embedder):
    writer, first = shared
    before = served_ids(writer, embedder)
    elsewhere = tmp_path / "elsewhere" / "docs"  # another directory name, another path
    elsewhere.mkdir(parents=True)
    shutil.copy(CORPUS / DOCS[1], elsewhere / DOCS[1])
    partial = writer.with_(corpus_dir=elsewhere, data_dir=tmp_path / "elsewhere" / "index")
    report = CorpusIndex(partial, embedder).update(progress=False)
    assert (report.added, report.deleted, report.embedded) == (0, 0, 0)
    assert report.chunks == first.chunks and report.documents == len(DOCS) and report.corpus_documents == 1
    assert served_ids(writer, embedder) == before
    (elsewhere / DOCS[1]).unlink()
    (elsewhere / "extra.md").write_text("---\ntitle: Extra notes\n---\n\n## Notes\n\nMentors meet weekly.\n")
    report = CorpusIndex(partial, embedder).update(progress=False)
    assert report.deleted == 0 and report.added == 1
    after = served_ids(writer, embedder)
    assert set(before) < set(after) and len(after) == len(before) + 1
    again = CorpusIndex(writer, embedder).update(progress=False)  # the main writer keeps the partial's document
    assert again.deleted == 0 and served_ids(writer, embedder) == after
