"""One writer at a time: two `advisor index --full` at once, the UI's Reindex during a CLI build,
and the SQL lock shared by machines writing to one Chroma server (real PostgreSQL)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.corpus import SUBSET, make_settings

from advisor.indexing import CorpusIndex
from advisor.pipeline import Advisor
from advisor.store.lock import LockHeld, SqlLock
from advisor.store.reader import IndexBusy

BIN = Path(sys.executable).parent


@pytest.fixture
def small(tmp_path, small_template):
    """A fresh copy of the session's two-document index (conftest.py), for a test that rebuilds it."""
    template, first = small_template
    shutil.copytree(template.corpus_dir, tmp_path / "corpus")
    shutil.copytree(template.data_dir, tmp_path / "index")
    return make_settings(tmp_path), first


def _env(settings) -> dict:
    return {**os.environ, "ADVISOR_CORPUS_DIR": str(settings.corpus_dir), "ADVISOR_DATA_DIR": str(settings.data_dir)}


def _slow_to_embed(settings) -> int:
    """Add a long document so a full build takes seconds; returns its section count."""
    text = "Paragraph {i} is about lanterns and corridors number {i}. " * 4
    sections = [f"## Topic {i}\n\n" + text.format(i=i) for i in range(150)]
    (settings.corpus_dir / "long.md").write_text("---\ntitle: Long handbook\n---\n\n" + "\n\n".join(sections))
    return len(sections)


def _wait_until_locked_by(settings, proc: subprocess.Popen) -> None:
    lock = settings.data_dir / "writer.lock"
    while proc.poll() is None and f"pid {proc.pid} " not in (lock.read_text() if lock.exists() else ""):
        time.sleep(0.05)


def test_two_concurrent_full_rebuilds_one_builds_the_other_is_refused(small, embedder):
    settings, first = small
    _slow_to_embed(settings)
    cmd = [str(BIN / "advisor"), "index", "--full"]
    procs = [subprocess.Popen(cmd, env=_env(settings), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)]
    _wait_until_locked_by(settings, procs[0])
    procs.append(subprocess.Popen(cmd, env=_env(settings), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    results = [(p.wait(timeout=600), *p.communicate()) for p in procs]
    codes = sorted(r[0] for r in results)
    assert codes == [0, 2], results
    refused = next(r for r in results if r[0] == 2)
    assert "another writer is indexing" in refused[2] and refused[2].count("\n") == 1
    assert "Traceback" not in refused[2]
    index = CorpusIndex(settings, embedder)
    assert index.check() == []
    assert index.published().count == len(index.snapshot().chunks) > first.chunks


def test_the_ui_reindex_during_a_cli_build_is_refused_and_corrupts_nothing(small, embedder):
    settings, first = small
    advisor = Advisor(settings, CorpusIndex(settings, embedder))
    before = advisor.ask("What does a staff AI/ML engineer own?")
    ladder = settings.corpus_dir / SUBSET[0]
    ladder.write_text(ladder.read_text() + "\n## Apprentice\n\nApprentices shadow a mentor for six months.\n")
    _slow_to_embed(settings)
    cli = subprocess.Popen(
        [str(BIN / "advisor"), "index", "--full"], env=_env(settings), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    _wait_until_locked_by(settings, cli)
    refused = None
    while cli.poll() is None and refused is None:
        try:
            advisor.reindex()
        except IndexBusy as exc:
            refused = str(exc)
        time.sleep(0.05)
    assert cli.wait(timeout=600) == 0, cli.communicate()
    assert refused and "another writer" in refused
    assert advisor.ask("What does a staff AI/ML engineer own?").text == before.text  # still answering
    assert advisor.index.check() == []
    report = advisor.reindex()  # now it may write: nothing left to do
    assert report.added == 0 and report.chunks > first.chunks + 1
    found = advisor.retriever.retrieve("How long do apprentices shadow a mentor?", mode="dense").passages
    assert any("six months" in p.chunk.text for p in found)


def test_a_read_only_advisor_refuses_to_reindex(small, embedder):
    settings, _ = small
    reader = Advisor(settings.with_(read_only=True), CorpusIndex(settings, embedder))
    with pytest.raises(Exception, match="read-only"):
        reader.reindex()


@pytest.mark.server
def test_sql_lock_refuses_a_second_writer_and_recovers_from_a_dead_one(postgres_url):
    first = SqlLock(postgres_url, "http://chroma:8000#advisor", ttl=2)
    first.acquire()
    second = SqlLock(postgres_url, "http://chroma:8000#advisor", ttl=2)
    with pytest.raises(LockHeld, match="another writer is indexing"):
        second.acquire()
    other = SqlLock(postgres_url, "http://chroma:8000#other", ttl=2)  # another collection: its own lock
    other.acquire()
    other.release()
    time.sleep(2.5)
    with pytest.raises(LockHeld):  # the holder renews its row while it lives
        second.acquire()
    first._stop.set()  # the holder dies without releasing: its row expires
    first._thread.join()
    time.sleep(2.5)
    second.acquire()
    second.release()
