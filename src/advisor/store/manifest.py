"""`manifest.json`: what the last successful build of this data dir indexed (settings fingerprint,
per-file hashes, counts). A cache: everything in it can be recomputed from the corpus and Chroma."""

from __future__ import annotations

import json
from pathlib import Path

MANIFEST = "manifest.json"


def read_manifest(data_dir: Path) -> dict | None:
    """The manifest of the last successful build, or None when missing or unreadable."""
    try:
        data = json.loads((data_dir / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_manifest(data_dir: Path, manifest: dict) -> None:
    write_atomic(data_dir / MANIFEST, json.dumps(manifest, indent=2))


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` so that readers see the old or the new file, never half of one."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)
