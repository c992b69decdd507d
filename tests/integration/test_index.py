"""The index with the real model and real Chroma: build, no-op, edit, delete, settings change,
offline, and a real `chroma run` server."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.corpus import CORPUS, SUBSET, make_settings, small_corpus

from advisor.evaluation.servers import free_port, wait_for_port
from advisor.indexing import CorpusIndex
from advisor.ingest.chunk import chunk_document
from advisor.ingest.load import load_corpus
from advisor.pipeline import Advisor
from advisor.store.embedding import OnnxEmbedder, SentenceTransformerEmbedder
from advisor.store.reader import IndexUnavailable

BIN = Path(sys.executable).parent


@pytest.fixture
def small(tmp_path, embedder, small_template):
    """A fresh copy of the two-document index for a test that writes to it (corpus and data dir in
    `tmp_path`), sharing the loaded model; subprocesses on its data dir find the exported model."""
    template, first = small_template
    shutil.copytree(template.corpus_dir, tmp_path / "corpus")
    shutil.copytree(template.data_dir, tmp_path / "index")
    settings = make_settings(tmp_path)
    return settings, CorpusIndex(settings, embedder), first


def ids_by_source(index: CorpusIndex) -> dict[str, set[str]]:
    got = index.collection().get(include=["metadatas"])
    out: dict[str, set[str]] = {}
    for uid, meta in zip(got["ids"], got["metadatas"], strict=True):
        out.setdefault(meta["source"], set()).add(uid)
    return out


def test_first_index_of_the_real_corpus(built, embedder):
    index = CorpusIndex(built, embedder)
    docs, _ = load_corpus(built.corpus_dir)
    expected = sum(len(chunk_document(d, built.chunk_tokens, built.chunk_overlap)) for d in docs)
    manifest = index.manifest()
    assert manifest["documents"] == 5 and manifest["chunks"] == expected
    assert index.collection().count() == expected
    snap = index.snapshot()
    assert len(snap.chunks) == expected
    assert snap.sentence_vectors.shape == (len(snap.sentences), 384)
    assert manifest["fingerprint"]["embedding_model"] == "all-MiniLM-L6-v2"
    assert (built.data_dir / "records.sqlite").exists()


def test_noop_reindex_skips_everything_without_loading_the_model(built):
    index = CorpusIndex(built)  # a fresh embedder: nothing loaded
    report = index.update(progress=False)
    assert (report.added, report.updated, report.deleted) == (0, 0, 0)
    assert report.skipped == index.manifest()["chunks"] > 0
    assert index.embedder.loaded is False


def test_noop_through_the_record_manager_does_not_embed(small):
    settings, _, first = small
    manifest_path = settings.data_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    for entry in manifest["sources"].values():
        entry["sha256"] = "stale"  # force the full path through LangChain's index()
    manifest_path.write_text(json.dumps(manifest))
    index = CorpusIndex(settings)
    report = index.update(progress=False)
    assert report.added == 0 and report.deleted == 0 and report.skipped == first.chunks
    assert report.embedded == 0 and index.embedder.loaded is False


def test_editing_a_file_changes_only_its_chunks(small):
    settings, index, first = small
    before = ids_by_source(index)
    ladder = settings.corpus_dir / SUBSET[0]
    guide_source = f"corpus/{SUBSET[1]}"
    ladder.write_text(ladder.read_text() + "\n## Apprentice\n\nApprentices shadow a mentor for six months.\n")
    report = index.update(progress=False)
    after = ids_by_source(index)
    assert report.added == 1 and report.deleted == 0 and report.skipped == first.chunks
    assert after[guide_source] == before[guide_source]
    assert len(after[f"corpus/{SUBSET[0]}"] - before[f"corpus/{SUBSET[0]}"]) == 1
    # a changed chunk replaces the old one
    ladder.write_text(ladder.read_text().replace("six months", "nine months"))
    report = index.update(progress=False)
    assert (report.added, report.deleted) == (1, 1)
    texts = [c.text for c in index.snapshot().chunks]
    assert any("nine months" in t for t in texts) and not any("six months" in t for t in texts)


def test_deleting_a_file_removes_its_chunks(small):
    settings, index, first = small
    guide = f"corpus/{SUBSET[1]}"
    n_guide = len(ids_by_source(index)[guide])
    (settings.corpus_dir / SUBSET[1]).unlink()
    report = index.update(progress=False)
    assert report.deleted == n_guide and report.files_deleted == [guide]
    assert guide not in ids_by_source(index)
    assert all(c.source != guide for c in index.snapshot().chunks)
    assert report.documents == 1 and report.chunks == first.chunks - n_guide


def test_an_unreadable_file_is_skipped_and_keeps_its_chunks(small):
    settings, index, _ = small
    guide = f"corpus/{SUBSET[1]}"
    before = ids_by_source(index)[guide]
    (settings.corpus_dir / SUBSET[1]).write_bytes(b"\xff\xfe\x00broken")
    report = index.update(progress=False)
    assert any(SUBSET[1] in w for w in report.warnings)
    assert ids_by_source(index)[guide] == before


def test_changed_chunk_settings_rebuild_by_themselves(small, embedder):
    settings, _, first = small
    smaller = settings.with_(chunk_tokens=90, chunk_overlap=20)
    index = CorpusIndex(smaller, embedder)
    report = index.update(progress=False)
    assert report.rebuilt and "settings changed" in report.reason
    assert report.chunks == report.added > first.chunks
    assert index.collection().count() == report.chunks  # no vectors of the old settings remain
    assert index.manifest()["fingerprint"]["chunk_tokens"] == 90


def test_an_index_of_another_chunker_version_is_refused_with_the_fix_until_reindexed(small, monkeypatch):
    """After an upgrade that changes how text is split, reading the old index said it was "damaged"
    (or served sentence vectors that no longer line up); it now names the fix, and `index` rebuilds."""
    import advisor.text

    settings, index, _ = small
    monkeypatch.setattr(advisor.text, "STORAGE_VERSION", advisor.text.STORAGE_VERSION + "-next")
    with pytest.raises(IndexUnavailable) as refused:
        Advisor(settings, CorpusIndex(settings, index.embedder)).ask("What does a staff AI/ML engineer own?")
    assert "other embedding or chunker settings: run `advisor index`" in str(refused.value)
    assert "damaged" not in str(refused.value)
    report = CorpusIndex(settings, index.embedder).update(progress=False)
    assert report.rebuilt and "settings changed" in report.reason
    answer = Advisor(settings, CorpusIndex(settings, index.embedder)).ask("What does a staff AI/ML engineer own?")
    assert answer.cited and not answer.refused


def test_full_flag_rebuilds(small):
    _, index, first = small
    report = index.update(full=True, progress=False)
    assert report.rebuilt and report.added == first.chunks and index.collection().count() == first.chunks


def _guard_dir(tmp_path: Path) -> Path:
    """A sitecustomize that makes every non-loopback connection fail and records the attempt."""
    d = tmp_path / "guard"
    d.mkdir()
    (d / "sitecustomize.py").write_text(
        "import socket, os\n"
        "_orig = socket.socket.connect\n"
        "def _connect(self, address):\n"
        "    host = address[0] if isinstance(address, tuple) else ''\n"
        "    loopback = host in ('127.0.0.1', '::1', 'localhost')\n"
        "    if self.family in (socket.AF_INET, socket.AF_INET6) and not loopback:\n"
        "        open(os.environ['NET_ATTEMPTS'], 'a').write(f'{address}\\n')\n"
        "        raise OSError('network disabled by test')\n"
        "    return _orig(self, address)\n"
        "socket.socket.connect = _connect\n"
    )
    return d


@pytest.mark.model
def test_index_and_ask_work_with_the_network_unreachable(tmp_path):
    src = small_corpus(tmp_path / "src")
    settings = make_settings(tmp_path, corpus=src)
    attempts = tmp_path / "attempts.txt"
    env = {
        **os.environ,
        "ADVISOR_CORPUS_DIR": str(settings.corpus_dir),
        "ADVISOR_DATA_DIR": str(settings.data_dir),
        "PYTHONPATH": str(_guard_dir(tmp_path)),
        "NET_ATTEMPTS": str(attempts),
        "HOME": str(tmp_path),  # no cached models from the user's home either
    }
    env.pop("HF_HUB_OFFLINE", None)
    prefix = (
        ["unshare", "-rn"]
        if shutil.which("unshare") and subprocess.run(["unshare", "-rn", "true"], capture_output=True).returncode == 0
        else []
    )
    run = subprocess.run([*prefix, str(BIN / "advisor"), "index", "--json"], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["chunks"] > 10
    run = subprocess.run(
        [*prefix, str(BIN / "advisor"), "ask", "--json", "What do AI architects earn?"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    answer = json.loads(run.stdout)
    assert answer["cited"] and not answer["refused"]
    assert not attempts.exists(), attempts.read_text()
    assert not list(Path(tmp_path).rglob("onnx.tar.gz"))  # Chroma's default model was never fetched
    assert (settings.data_dir / "tiktoken").parent == settings.data_dir


@pytest.mark.server
def test_against_a_real_chroma_server(tmp_path, embedder):
    port = free_port()
    server = subprocess.Popen(
        [
            str(BIN / "chroma"),
            "run",
            "--path",
            str(tmp_path / "server-data"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    try:
        if not wait_for_port(port, server):
            pytest.fail("chroma run did not start")
        src = small_corpus(tmp_path / "src")
        settings = make_settings(tmp_path, corpus=src, chroma_url=f"http://127.0.0.1:{port}")
        index = CorpusIndex(settings, embedder)
        report = index.update(progress=False)
        assert report.added == report.chunks > 10
        assert not settings.chroma_dir.exists()  # nothing embedded locally: the server holds it
        assert index.collection().count() == report.chunks
        assert index.update(progress=False).added == 0
        answer = Advisor(settings, index).ask("What does a staff AI/ML engineer own?")
        assert not answer.refused and answer.cited
        assert any("Staff" in (p.chunk.section or "") for p in answer.passages[:3])
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_unreachable_chroma_server_is_one_clear_error(tmp_path):
    settings = make_settings(tmp_path, chroma_url=f"http://127.0.0.1:{free_port()}")
    from advisor.store.reader import IndexUnavailable

    with pytest.raises(IndexUnavailable, match="cannot reach Chroma"):
        CorpusIndex(settings, OnnxEmbedder(tmp_path / "models")).update(progress=False)


def test_onnx_and_sentence_transformers_give_the_same_vectors(embedder):
    """The default ONNX backend runs the same model: vectors equal sentence-transformers' (padded batches too)."""
    docs, _ = load_corpus(CORPUS)
    texts = [c.embed_text for d in docs for c in chunk_document(d)][:40] + ["short", "What do AI architects earn?"]
    onnx = embedder.embed_batch(texts)
    reference = SentenceTransformerEmbedder().embed_batch(texts)
    assert float((onnx * reference).sum(axis=1).min()) > 0.9999


# -- issue 9: the index is either right or says what is wrong ---------------------------------------
def cli_env(settings) -> dict:
    return {
        **os.environ,
        "ADVISOR_CORPUS_DIR": str(settings.corpus_dir),
        "ADVISOR_DATA_DIR": str(settings.data_dir),
    }


def stored(index: CorpusIndex) -> list[tuple[str, str]]:
    """(source, chunk_id) of every chunk in the served collection, read from Chroma."""
    fresh = CorpusIndex(index.settings, index.embedder)
    got = fresh.collection().get(include=["metadatas"])
    return sorted((m["source"], m["chunk_id"]) for m in got["metadatas"])


def expected_chunks(settings) -> list[tuple[str, str]]:
    docs, _ = load_corpus(settings.corpus_dir)
    return sorted(
        (c.source, c.id) for d in docs for c in chunk_document(d, settings.chunk_tokens, settings.chunk_overlap)
    )


def test_deleted_chroma_stops_ask_with_the_fix_and_index_rebuilds_it(small):
    settings, index, first = small
    shutil.rmtree(settings.chroma_dir)
    with pytest.raises(IndexUnavailable, match=r"chroma is missing.*advisor index --full"):
        Advisor(settings, CorpusIndex(settings, index.embedder)).ask("What does a staff AI/ML engineer own?")
    assert not settings.chroma_dir.exists()  # the read created nothing
    # a new process, as in use (this one's Chroma client still holds the deleted files open)
    run = subprocess.run([str(BIN / "advisor"), "index", "--json"], env=cli_env(settings), capture_output=True)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["rebuilt"] and "held no index" in report["reason"] and report["chunks"] == first.chunks
    check = subprocess.run([str(BIN / "advisor"), "index", "--check"], env=cli_env(settings), capture_output=True)
    assert check.returncode == 0, check.stdout


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_damaged_records_file_is_reported_then_rebuilt_and_an_edit_leaves_no_orphan(small, damage):
    settings, index, _ = small
    records = settings.data_dir / "records.sqlite"
    raw = records.read_bytes()
    records.write_bytes(raw[: len(raw) // 3] if damage == "truncated" else b"not a database" * 100)
    problems = CorpusIndex(settings, index.embedder).check()
    assert any("records.sqlite" in p for p in problems), problems
    ladder = settings.corpus_dir / SUBSET[0]
    ladder.write_text(ladder.read_text().replace("Principal", "Distinguished", 1))
    report = CorpusIndex(settings, index.embedder).update(progress=False)
    assert any("records.sqlite" in n for n in report.notices), report.notices
    assert stored(index) == expected_chunks(settings)  # no orphan, no duplicate
    texts = " ".join(c.text for c in CorpusIndex(settings, index.embedder).snapshot().chunks)
    assert "Distinguished" in texts
    assert CorpusIndex(settings, index.embedder).check() == []


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("sentences.npz", b"PK\x03\x04garbage"),
        ("sentences.npz", b""),
        ("snapshot.jsonl", b"\xff\xfe\x00 not utf-8"),
        ("snapshot.jsonl", b'{"stamp": 1}\n{"uid": 3}\n'),
    ],
)
def test_garbage_snapshot_files_are_named_served_around_and_repaired(small, name, content, caplog):
    settings, index, first = small
    (settings.data_dir / name).write_bytes(content)
    problems = CorpusIndex(settings, index.embedder).check()
    assert len(problems) == 1 and name in problems[0], problems
    answer = Advisor(settings, CorpusIndex(settings, index.embedder)).ask("What does a staff AI/ML engineer own?")
    assert answer.cited and not answer.refused  # served from Chroma meanwhile
    assert (settings.data_dir / name).read_bytes() == content  # the read wrote nothing
    report = CorpusIndex(settings, index.embedder).update(progress=False)
    assert any(name in n for n in report.notices), report.notices
    assert report.embedded == 0 and report.chunks == first.chunks
    assert CorpusIndex(settings, index.embedder).check() == []


def _kill_while_embedding(settings, *args: str) -> None:
    """Start `advisor index ARGS` and kill -9 it once it has started embedding."""
    proc = subprocess.Popen(
        [str(BIN / "advisor"), "index", *args],
        env=cli_env(settings),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    seen = b""
    while b"embedding" not in seen and proc.poll() is None:
        seen += proc.stderr.read1(4096)
    assert proc.poll() is None, seen.decode(errors="replace")
    time.sleep(1.0)
    assert proc.poll() is None, "the build finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()


GHOST_SENTENCE = "Ghost paragraphs talk about lanterns and the corridors between them. "


def _big_document(path: Path, sections: int = 600) -> None:
    """A document of `sections` chunks that all repeat one sentence: its sentence vectors are one embedding, so a
    build reaches the chunks' embedding (where it is killed) at once instead of after 1,200 sentences."""
    parts = ["---\ntitle: Ghost handbook\n---\n"]
    for i in range(sections):
        parts.append(f"## Ghost topic {i}\n\n" + GHOST_SENTENCE * 6)
    path.write_text("\n\n".join(parts))


def test_interrupted_index_of_a_new_file_then_deleted_leaves_no_ghost_chunks(small):
    settings, index, _ = small
    ghost = settings.corpus_dir / "ghost.md"
    _big_document(ghost)
    version = index.published(refresh=True).version
    _kill_while_embedding(settings)
    assert CorpusIndex(settings, index.embedder).published().version == version  # killed midway
    ghost.unlink()
    CorpusIndex(settings, index.embedder).update(progress=False)
    assert stored(index) == expected_chunks(settings)
    assert not any("ghost" in c.source for c in CorpusIndex(settings, index.embedder).snapshot().chunks)
    assert CorpusIndex(settings, index.embedder).check() == []


def test_lost_manifest_and_a_deleted_file_still_remove_its_chunks(small):
    settings, index, _ = small
    (settings.data_dir / "manifest.json").unlink()
    (settings.corpus_dir / SUBSET[1]).unlink()
    report = CorpusIndex(settings, index.embedder).update(progress=False)
    assert report.files_deleted == [f"corpus/{SUBSET[1]}"]
    assert stored(index) == expected_chunks(settings)
    assert CorpusIndex(settings, index.embedder).check() == []


def test_killed_full_rebuild_leaves_the_old_index_serving(small):
    settings, index, first = small
    _big_document(settings.corpus_dir / "ghost.md")  # long enough to be killed midway
    version = CorpusIndex(settings, index.embedder).published().version
    _kill_while_embedding(settings, "--full")
    reader = CorpusIndex(settings, index.embedder)
    assert reader.published().version == version
    answer = Advisor(settings, reader).ask("What does a staff AI/ML engineer own?")
    assert answer.cited and not answer.refused
    assert len(reader.snapshot().chunks) == first.chunks
    problems = reader.check()
    assert problems and all("leftover" in p or "orphaned" in p for p in problems), problems
    (settings.corpus_dir / "ghost.md").unlink()
    CorpusIndex(settings, index.embedder).update(progress=False)
    assert CorpusIndex(settings, index.embedder).check() == []


def _segment_dirs(chroma_dir: Path) -> tuple[set[str], set[str]]:
    """(segment directories on disk, segment ids Chroma's catalogue references)."""
    import sqlite3

    on_disk = {p.name for p in chroma_dir.iterdir() if p.is_dir() and len(p.name) == 36}
    con = sqlite3.connect(chroma_dir / "chroma.sqlite3")
    live = {r[0] for r in con.execute("SELECT id FROM segments")}
    con.close()
    return on_disk, live


def test_full_rebuilds_leave_no_orphaned_segment_directories(small):
    settings, index, first = small
    for _ in range(2):  # three versions: the first must be gone
        assert index.update(full=True, progress=False).chunks == first.chunks
    on_disk, live = _segment_dirs(settings.chroma_dir)
    assert on_disk <= live and len(on_disk) <= 2  # the active version and the previous one
    assert stored(index) == expected_chunks(settings)


def test_check_reports_consistency_on_the_command_line(small):
    settings, _, _ = small
    check = [str(BIN / "advisor"), "index", "--check"]
    ok = subprocess.run(check, env=cli_env(settings), capture_output=True, text=True)
    assert ok.returncode == 0 and "consistent" in ok.stdout, ok.stderr
    (settings.data_dir / "snapshot.jsonl").write_text("{broken")
    bad = subprocess.run(check, env=cli_env(settings), capture_output=True, text=True)
    assert bad.returncode == 1 and "snapshot.jsonl" in bad.stdout and "Traceback" not in bad.stderr


def test_ask_without_an_index_is_one_line_and_builds_nothing(tmp_path):
    settings = make_settings(tmp_path)
    ask = [str(BIN / "advisor"), "ask", "What do AI architects earn?"]
    run = subprocess.run(ask, env=cli_env(settings), capture_output=True, text=True)
    assert run.returncode == 2 and run.stderr.count("\n") == 1 and "advisor index" in run.stderr
    assert not (settings.data_dir / "chroma").exists() and not (settings.data_dir / "manifest.json").exists()
