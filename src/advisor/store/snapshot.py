"""The snapshot: every stored chunk with its sentences and their unit vectors, as BM25 and the
extractive generator read it. Cached in the data dir as `snapshot.jsonl` + `sentences.npz`."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from advisor.schema import Chunk

SNAPSHOT = "snapshot.jsonl"
SENTENCES = "sentences.npz"


@dataclass(frozen=True)
class Snapshot:
    """Every chunk stored in Chroma, with its sentences and their unit vectors."""

    chunks: list[Chunk]
    uids: list[str]  # Chroma ids (the record manager's content hashes), parallel to `chunks`
    sentences: list[str]
    sentence_chunk: np.ndarray  # index into `chunks` for every sentence
    sentence_vectors: np.ndarray  # (len(sentences), dim), L2-normalised
    fingerprint: str


def chunk_metadata(c: Chunk) -> dict:
    """A chunk's fields as Chroma metadata (the stored document is its `embed_text`)."""
    return {
        "chunk_id": c.id,
        "source": c.source,
        "title": c.title,
        "section": c.section or "",
        "position": c.position,
        "kind": c.kind or "",
        "text_offset": len(c.embed_text) - len(c.text),
    }


def chunk_from_row(document: str, meta: dict) -> Chunk:
    """The `Chunk` stored as `document` with `meta` (inverse of `chunk_metadata`)."""
    return Chunk(
        id=meta["chunk_id"],
        source=meta["source"],
        title=meta["title"],
        section=meta["section"] or None,
        text=document[int(meta["text_offset"]) :],
        position=int(meta["position"]),
        kind=meta["kind"] or None,
    )


def ids_fingerprint(ids: list[str]) -> str:
    """One hash of a set of chunk ids: equal fingerprints mean the same stored chunks."""
    return hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()


def sentence_key(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def snapshot_header(path: Path) -> dict | None:
    """The first line of a snapshot file, or None when missing or unreadable."""
    try:
        with path.open() as f:
            return json.loads(f.readline())
    except (OSError, ValueError):
        return None


def snapshot_lines(header: dict, uids: list[str], chunks: list[Chunk]) -> str:
    lines = [json.dumps(header)]
    lines += [json.dumps({"uid": uid, **asdict(c)}) for uid, c in zip(uids, chunks, strict=True)]
    return "\n".join(lines) + "\n"
