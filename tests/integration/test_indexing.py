"""The indexing pipeline with its stages injected: a loader and a chunker of our own, the hash embedder,
a real embedded Chroma. `plan()` says what a build would do; `build()` does it."""

from __future__ import annotations

from pathlib import Path

from support.fakes import chunk

from advisor.indexing import CorpusIndex
from advisor.schema import SourceDocument
from advisor.settings import Settings


def test_an_injected_loader_and_chunker_make_the_index_and_plan_sees_what_changed(tmp_path):
    docs = {"corpus/a.md": "Bakers start early.", "corpus/b.md": "Pastry takes years."}
    loaded: list[Path] = []

    def loader(corpus_dir: Path, max_mb: float):
        loaded.append(corpus_dir)
        return [SourceDocument(s, s.upper(), t, sha256=t) for s, t in docs.items()], []

    def chunker(doc: SourceDocument, tokens: int, overlap: int):
        return [chunk(doc.text, doc.source, doc.title, n=0)]

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for source in docs:  # the files are there (a deleted file's chunks go); the loader reads them its own way
        (corpus / source.split("/", 1)[1]).write_text("read by the injected loader")
    settings = Settings.from_env({}, corpus_dir=corpus, data_dir=tmp_path / "index", embedding_backend="hash")
    index = CorpusIndex(settings, loader=loader, chunker=chunker)
    report = index.update(progress=False)
    assert (report.documents, report.chunks, report.added) == (2, 2, 2) and loaded
    assert sorted(c.text for c in index.snapshot().chunks) == sorted(docs.values())

    docs["corpus/b.md"] = "Pastry takes many years."
    plan = index.plan(manifest=index.manifest())
    assert (
        plan.reason is None
        and len(plan.drop) == 1
        and [plan.chunks[i].text for i in plan.new] == ["Pastry takes many years."]
    )
    assert index.published().version == report.version  # planning changes nothing
    again = index.update(progress=False)
    assert (again.added, again.deleted, again.version) == (1, 1, report.version + 1)
    assert "Pastry takes many years." in {c.text for c in index.snapshot().chunks}
