"""`advisor bench --only scaleout` at 1x: one writer, two `advisor serve` readers, a real `chroma run`
server and a real PostgreSQL record store, end to end (the README's numbers come from the 100x run)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.server


def test_scaleout_bench_runs_the_topology_and_writes_its_table(tmp_path):
    out = tmp_path / "bench"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADVISOR_")}
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
    assert r["factor"] == 1 and r["chunks"] > 50
    assert r["readers_left_index_unchanged"] is True
    for i in (1, 2):
        assert r[f"reader{i}_files"] == ["models"]  # an empty data dir but the model: nothing indexed locally
        assert r[f"reader{i}_commit_to_serving_s"] is not None  # both readers served the writer's edit
    assert r["writer_edit_embedded"] == 1 and r["writer_edit_copied"] == r["chunks"]  # only the new section embedded
    assert "| writer's commit to serving the edit" in (out / "results.md").read_text()
