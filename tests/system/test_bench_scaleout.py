"""`advisor bench --only scaleout` at 1x: one writer, two `advisor serve` readers, a real `chroma run`
server and a real PostgreSQL record store, end to end (the README's numbers come from the 100x run)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support.corpus import CORPUS

from advisor.profile import PROFILE
from advisor.store.manifest import MANIFEST
from advisor.store.records import RECORDS
from advisor.store.snapshot import SENTENCES, SNAPSHOT

pytestmark = pytest.mark.server


def test_scaleout_bench_runs_the_topology_and_writes_its_table(tmp_path):
    """The whole topology on the corpus's smallest document (the README's numbers are `make bench`'s)."""
    out = tmp_path / "bench"
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    smallest = min(CORPUS.glob("*.md"), key=lambda p: p.stat().st_size)  # what is measured, not how much
    shutil.copy(smallest, corpus / smallest.name)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADVISOR_")} | {"ADVISOR_CORPUS_DIR": str(corpus)}
    advisor = str(Path(sys.executable).parent / "advisor")
    run = subprocess.run(
        [advisor, "bench", "--only", "scaleout", "--scale", "1", "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    r = json.loads((out / "results.json").read_text())["scaleout"]
    assert r["factor"] == 1 and r["chunks"] > 5
    assert r["readers_left_index_unchanged"] is True
    for i in (1, 2):
        assert "models" in r[f"reader{i}_files"]  # it was given the model, and wrote no index of its own:
        assert not {"chroma", RECORDS, MANIFEST, SNAPSHOT, SENTENCES, PROFILE} & set(r[f"reader{i}_files"])
        assert r[f"reader{i}_commit_to_serving_s"] is not None  # both readers served the writer's edit
    assert r["writer_edit_embedded"] == 1 and r["writer_edit_copied"] == r["chunks"]  # only the new section embedded
    assert "| writer's commit to serving the edit" in (out / "results.md").read_text()
