"""`advisor bench`: the synthetic corpus generator, and one real (small) run of the command."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support.corpus import CORPUS

from advisor.evaluation.bench import synthetic_corpus
from advisor.ingest.load import load_corpus


def test_synthetic_corpus_is_deterministic_with_distinct_documents(tmp_path):
    synthetic_corpus(CORPUS, tmp_path / "a", 3)
    synthetic_corpus(CORPUS, tmp_path / "b", 3)
    a = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert len(a) == 15 and a == sorted(p.name for p in (tmp_path / "b").iterdir())
    assert all((tmp_path / "a" / n).read_text() == (tmp_path / "b" / n).read_text() for n in a)
    docs, warnings = load_corpus(tmp_path / "a")
    assert not warnings and len({d.title for d in docs}) == 15


@pytest.mark.model
def test_bench_command_writes_the_table(tmp_path, embedder):
    """The whole core benchmark, quick, on the corpus's smallest document (the full corpus is `make bench`'s)."""
    out = tmp_path / "bench"
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    smallest = min(CORPUS.glob("*.md"), key=lambda p: p.stat().st_size)  # what is measured, not how much
    shutil.copy(smallest, corpus / smallest.name)
    (tmp_path / "idx" / "models").mkdir(parents=True)  # exported already: --quick does not time the export
    shutil.copy(embedder.path, tmp_path / "idx" / "models" / embedder.path.name)
    env = {**os.environ, "ADVISOR_DATA_DIR": str(tmp_path / "idx"), "ADVISOR_CORPUS_DIR": str(corpus)}
    run = subprocess.run(
        [
            str(Path(sys.executable).parent / "advisor"),
            "bench",
            "--only",
            "core",
            "--scale",
            "1",
            "--questions",
            "12",
            "--quick",
            "--out",
            str(out),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    results = json.loads((out / "results.json").read_text())
    assert results["indexing"]["chunks"] > 5 and 0 < results["baseline"]["items"] <= 12
    assert [s["factor"] for s in results["scaling"]] == [1]
    assert results["quick"] is True and results["indexing"]["sentence_transformers_load_s"] is None
    assert results["indexing"]["noop_reindex_process_s"] > 0 and results["cold_ask_s"] > 0
    assert results["indexing"]["words"] > 100  # built as `advisor index` builds: with the word cache
    assert results["indexing"]["raw_embedding_extra_s"] > 0  # the extra model's share of the raw embedding
    assert results["onnx_export_and_load_s"] is None
    table = (out / "results.md").read_text()
    assert "| warm full answer p50 / p95 |" in table and "LangChain tutorial RAG" in table
    assert "frozen test split" in table and "| hit within the baseline's context" in table
    assert "| raw embedding of the same texts (sentence-transformers) | not measured (--quick) |" in table
    assert "| one-time ONNX export on a fresh install | not measured (--quick) |" in table
