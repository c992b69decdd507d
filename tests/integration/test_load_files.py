"""Every file of the corpus folder (and generated ones) loads and chunks, or is skipped with a reason (slow: many
files). The loaders' rules are in tests/unit/test_load.py."""

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advisor.ingest.chunk import chunk_document
from advisor.ingest.load import load_corpus

ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=400)


CONTENT = st.one_of(
    st.binary(max_size=400),
    ANY_TEXT.map(lambda t: t.encode("utf-8", "surrogatepass")),
    ANY_TEXT.map(lambda t: t.encode("utf-8", "replace")),
    st.tuples(ANY_TEXT, ANY_TEXT).map(lambda t: f"---\n{t[0]}\n---\n# {t[1]}\n".encode("utf-8", "replace")),
    st.tuples(ANY_TEXT, ANY_TEXT).map(
        lambda t: f"<html><title>{t[0]}</title><h2>{t[1]}</h2>&#xD800;&#0;</html>".encode("utf-8", "replace")
    ),
    st.tuples(st.text(max_size=10), st.integers(1, 40_000)).map(lambda t: (t[0] * t[1]).encode()),
    st.just(b"%PDF-1.4\n").map(lambda head: head + b"1 0 obj << /Type /Catalog >> endobj trailer << /Root 1 0 R >>"),
)


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(content=CONTENT, suffix=st.sampled_from([".md", ".markdown", ".txt", ".html", ".htm", ".pdf"]))
def test_any_file_loads_and_chunks_or_is_skipped_with_a_reason(content, suffix):
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        (corpus / f"doc{suffix}").write_bytes(content)
        docs, warnings = load_corpus(corpus)
    assert len(docs) + len(warnings) == 1
    if warnings:
        assert warnings[0].startswith(f"skipped corpus/doc{suffix}: ") and "\n" not in warnings[0]
        return
    doc = docs[0]
    assert doc.text.strip() and doc.title.strip()
    doc.text.encode("utf-8")  # no lone surrogates reach the embedder or the snapshot
    doc.title.encode("utf-8")
    for chunk in chunk_document(doc):
        assert chunk.text.strip() and chunk.source == doc.source
