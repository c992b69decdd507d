"""Issue 18: reliability and security round 3 on a real index (real embedder, Chroma; a shared server): huge
histories, deletions after a move or a new hostname, literal markers, deep checks, a full disk. The pure rules
are in tests/unit/test_reliability.py, the UI server's in tests/browser/test_reliability_ui.py."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support.reliability import HUGE, finishes
from support.shared_index import DOCS as SHARED_DOCS

from advisor.indexing import CorpusIndex
from advisor.pipeline import Advisor
from advisor.settings import Settings
from advisor.text import cited_numbers

BIN = Path(sys.executable).parent


def test_a_megabyte_of_history_is_answered_with_a_notice(advisor):
    """A 1 MB history turn made condensing run for about an hour (quadratic in its subject mentions)."""
    history = [{"role": "user", "content": HUGE}, {"role": "assistant", "content": "An answer."}]
    answer = finishes(lambda: advisor.ask("How much do they earn?", history))
    assert not answer.refused and answer.cited
    assert any("only the first 4,000 were read" in n for n in answer.notices)


DOCS = {
    "alpha.md": "---\ntitle: Alpha guide\n---\n\n## Start\n\nThe alpha route starts with a workshop in Oslo.\n",
    "beta.md": "---\ntitle: Beta guide\n---\n\n## Start\n\nThe beta route starts with a quiz about glaciers.\n",
    "gamma.md": "---\ntitle: Gamma guide\n---\n\n## Start\n\nThe gamma route starts with a hike to a lighthouse.\n",
}


def small_index(root: Path, embedder, **overrides) -> Settings:
    corpus = root / "corpus"
    corpus.mkdir(parents=True)
    for name, text in DOCS.items():
        (corpus / name).write_text(text)
    settings = Settings.from_env({}, corpus_dir=corpus, data_dir=root / "index", **overrides)
    report = CorpusIndex(settings, embedder).update(progress=False)
    assert report.documents == len(DOCS)
    return settings


def served_sources(settings: Settings, embedder) -> set[str]:
    metas = CorpusIndex(settings, embedder).collection().get(include=["metadatas"])["metadatas"]
    return {m["source"] for m in metas}


@pytest.mark.parametrize("move", ["corpus folder", "data dir and corpus"])
def test_a_deleted_document_is_deleted_after_the_corpus_or_data_dir_moved(tmp_path, embedder, move):
    settings = small_index(tmp_path / "here", embedder)
    there = tmp_path / "there"
    shutil.move(settings.corpus_dir, there / "docs" if move == "corpus folder" else there / "corpus")
    if move == "corpus folder":
        moved = settings.with_(corpus_dir=there / "docs")
    else:
        shutil.move(settings.data_dir, there / "index")
        moved = settings.with_(corpus_dir=there / "corpus", data_dir=there / "index")
    (moved.corpus_dir / "beta.md").unlink()
    report = CorpusIndex(moved, embedder).update(progress=False)
    assert report.deleted == 1 and report.files_deleted == ["corpus/beta.md"]
    assert served_sources(moved, embedder) == {"corpus/alpha.md", "corpus/gamma.md"}
    assert CorpusIndex(moved, embedder).check() == []


def test_a_deleted_document_is_deleted_after_the_hostname_changed(tmp_path, embedder):
    """The probe: `unshare --uts` gives `advisor index` another hostname (as a container restart does)."""
    if subprocess.run(["unshare", "--uts", "--map-root-user", "true"], capture_output=True).returncode:
        pytest.skip("unshare --uts is not permitted here")
    settings = small_index(tmp_path, embedder)
    (settings.data_dir / "models").mkdir(exist_ok=True)
    shutil.copy(embedder.path, settings.data_dir / "models" / embedder.path.name)
    (settings.corpus_dir / "beta.md").unlink()
    script = f'hostname renamed-host && exec "{BIN / "advisor"}" index --json'
    env = {"ADVISOR_CORPUS_DIR": str(settings.corpus_dir), "ADVISOR_DATA_DIR": str(settings.data_dir)}
    command = ["unshare", "--uts", "--map-root-user", "sh", "-c", script]
    run = subprocess.run(command, env={**env, "PATH": "/usr/bin:/bin"}, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    assert json.loads(run.stdout)["deleted"] == 1
    assert served_sources(settings, embedder) == {"corpus/alpha.md", "corpus/gamma.md"}


@pytest.mark.server
def test_a_shared_writer_restored_elsewhere_deletes_its_documents_and_no_others(tmp_path, shared, embedder):
    """A writer of a shared Chroma server whose data dir and corpus moved (another path, as after a restore)."""
    writer, first = shared
    moved = tmp_path / "restored"
    shutil.copytree(writer.corpus_dir, moved / "corpus")
    shutil.copytree(writer.data_dir, moved / "index")
    restored = writer.with_(corpus_dir=moved / "corpus", data_dir=moved / "index")
    stranger = writer.with_(corpus_dir=tmp_path / "other" / "corpus", data_dir=tmp_path / "other" / "index")
    stranger.corpus_dir.mkdir(parents=True)
    shutil.copy(writer.corpus_dir / SHARED_DOCS[1], stranger.corpus_dir / SHARED_DOCS[1])
    assert CorpusIndex(stranger, embedder).update(progress=False).deleted == 0  # not its documents
    (restored.corpus_dir / SHARED_DOCS[0]).unlink()
    report = CorpusIndex(restored, embedder).update(progress=False)
    assert report.deleted > 0 and report.files_deleted == [f"corpus/{SHARED_DOCS[0]}"]
    assert served_sources(writer, embedder) == {f"corpus/{d}" for d in SHARED_DOCS[1:]}


def test_a_literal_marker_in_a_document_is_not_a_citation(tmp_path, embedder):
    """A document's "[2]" quoted in an answer was read as a citation of passage 2, another document."""
    settings = small_index(tmp_path, embedder)
    (settings.corpus_dir / "alpha.md").write_text(
        "---\ntitle: Alpha guide\n---\n\n## Start\n\nThe alpha route starts with a workshop in Oslo [2].\n"
    )
    CorpusIndex(settings, embedder).update(progress=False)
    answer = Advisor(settings, CorpusIndex(settings, embedder)).ask("Where does the alpha route start?", k=3)
    assert "workshop in Oslo" in answer.text and len(answer.passages) == 3
    alpha = next(p.rank for p in answer.passages if p.chunk.source == "corpus/alpha.md")
    quoting = next(line for line in re.split(r"(?<=\.)\s+", answer.text) if "workshop in Oslo" in line)
    assert cited_numbers(quoting) == [alpha], (answer.text, answer.cited)  # its own "[2]" cites nothing


def _damage(settings: Settings, embedder, kind: str) -> None:
    """Damage one part of a built index in place, as the probe did."""
    import numpy as np

    index = CorpusIndex(settings, embedder)
    col = index.collection()
    got = col.get(include=["documents", "metadatas", "embeddings"], limit=1)
    uid, doc, meta, vector = got["ids"][0], got["documents"][0], got["metadatas"][0], np.asarray(got["embeddings"][0])
    if kind == "sentence vectors blanked in Chroma":
        col.update(ids=[uid], metadatas=[{**meta, "sentence_vectors": ""}], embeddings=[vector], documents=[doc])
    elif kind == "text changed in place":
        changed = doc.replace("starts", "ends")  # a claim changed, the sentences the same
        assert changed != doc
        col.update(ids=[uid], documents=[changed], embeddings=[vector], metadatas=[meta])
    elif kind == "vector changed in place":
        other = np.random.default_rng(0).standard_normal(len(vector)).astype(np.float32)
        col.update(ids=[uid], embeddings=[other], documents=[doc], metadatas=[meta])
    elif kind == "zeroed vector in the snapshot cache":
        path = settings.data_dir / "sentences.npz"
        with np.load(path) as f:
            vectors, owner = f["vectors"].copy(), f["owner"]
        vectors[0] = 0
        np.savez(path, vectors=vectors, owner=owner)
    elif kind == "manifest edited":
        path = settings.data_dir / "manifest.json"
        manifest = json.loads(path.read_text())
        path.write_text(json.dumps({**manifest, "chunks": manifest["chunks"] + 1}))


@pytest.mark.parametrize(
    ("kind", "said"),
    [
        ("sentence vectors blanked in Chroma", "is damaged (chunk"),
        ("text changed in place", "hold other text than their ids say"),
        ("vector changed in place", "not the model's vectors of their text"),
        ("zeroed vector in the snapshot cache", "snapshot cache"),
        ("manifest edited", "says other chunks than the index"),
    ],
)
def test_check_deep_finds_damage_that_counts_do_not_show(tmp_path, embedder, kind, said):
    """`--check` said "consistent" about damage `ask` then refused."""
    settings = small_index(tmp_path, embedder)
    assert CorpusIndex(settings, embedder).check(deep=True) == []
    _damage(settings, embedder, kind)
    problems = CorpusIndex(settings, embedder).check(deep=True)
    assert any(said in p for p in problems) and all("advisor index --full" in p for p in problems), problems


def test_indexing_on_a_full_disk_says_disk_full(built, tmp_path):
    """The probe got "internal error: InternalError: Error in compaction: Failed to apply logs to the metadata
    segment". Here the data dir is a tmpfs with about 1.5 MB left once the model is in (a mount namespace)."""
    if os.geteuid() != 0 or subprocess.run(["unshare", "--mount", "true"], capture_output=True).returncode:
        pytest.skip("needs root and unshare --mount to mount a small tmpfs")
    corpus, data = tmp_path / "corpus", tmp_path / "data"
    shutil.copytree(built.corpus_dir, corpus)
    data.mkdir()
    # tiktoken's cache, filled here: a process fills it once, in the data dir of the first index that counts tokens
    tiktoken = tmp_path / "tiktoken"
    fill = "from advisor.text import count_tokens; count_tokens('x')"
    subprocess.run([sys.executable, "-c", fill], env={**os.environ, "TIKTOKEN_CACHE_DIR": str(tiktoken)}, check=True)
    parts = [built.data_dir / "models", *([tiktoken] if tiktoken.is_dir() else [])]
    used = sum(f.stat().st_size for part in parts for f in part.rglob("*") if f.is_file())
    size_kb = used // 1024 + 1536
    script = (
        f"set -e; mount -t tmpfs -o size={size_kb}k tmpfs {data}; cp -r {' '.join(map(str, parts))} {data}/; "
        f"exec {BIN / 'advisor'} index"
    )
    env = {**os.environ, "ADVISOR_CORPUS_DIR": str(corpus), "ADVISOR_DATA_DIR": str(data)}
    command = ["unshare", "--mount", "sh", "-c", script]
    run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 2, (run.returncode, run.stderr[-1500:])
    said = run.stderr.strip().splitlines()[-1]
    assert said.startswith("advisor: error: disk full:") and "Traceback" not in run.stderr, run.stderr[-1500:]
