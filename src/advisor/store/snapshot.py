"""The snapshot: every stored chunk with its sentences and their unit vectors, as BM25 and the
extractive generator read it.

The sentence vectors travel with the chunks: each chunk's Chroma metadata holds its sentences' unit
vectors (base64 float32), so any reader rebuilds the snapshot from the collection alone, embedding
nothing. The writer also caches it in its data dir (`snapshot.jsonl` + `sentences.npz`), stamped
with the index version it was read from; a cache with another stamp, or unreadable, is ignored.
"""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from advisor.schema import Chunk
from advisor.text import split_sentences

SNAPSHOT = "snapshot.jsonl"
SENTENCES = "sentences.npz"
# Metadata of a chunk embedded by the extra dense model too: the model's name and the chunk's vector
EXTRA_MODEL = "extra_model"
EXTRA_VECTOR = "extra_vector"


@dataclass(frozen=True)
class Snapshot:
    """Every chunk stored in Chroma, with its sentences and their unit vectors."""

    chunks: list[Chunk]
    uids: list[str]  # Chroma ids (`chunk_key`), parallel to `chunks`
    sentences: list[str]
    sentence_chunk: np.ndarray  # index into `chunks` for every sentence
    sentence_vectors: np.ndarray  # (len(sentences), dim), L2-normalised
    fingerprint: str  # the stamp of the index version it was read from


def doc_key(source: str) -> str:
    """A document's key independent of where the corpus sits: its path inside the corpus dir."""
    return source.split("/", 1)[1] if "/" in source else source


def chunk_key(c: Chunk) -> str:
    """A chunk's id in Chroma and the record store: a hash of its content and place in its document,
    the same on every machine whatever the corpus directory is called."""
    fields = [
        doc_key(c.source),
        c.id,
        c.title,
        c.section or "",
        c.position,
        c.kind or "",
        c.embed_text,
        c.set_aside or "",
    ]
    return hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode()).hexdigest()


def chunk_metadata(c: Chunk) -> dict:
    """A chunk's fields as Chroma metadata (the stored document is its `embed_text`)."""
    return {
        "doc": doc_key(c.source),
        "chunk_id": c.id,
        "source": c.source,
        "title": c.title,
        "section": c.section or "",
        "position": c.position,
        "kind": c.kind or "",
        "set_aside": c.set_aside or "",
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
        set_aside=meta.get("set_aside") or None,
    )


def encode_vectors(vectors: np.ndarray) -> str:
    """Vectors as a compact metadata string (base64 of little-endian float32)."""
    return base64.b64encode(np.ascontiguousarray(vectors, dtype="<f4").tobytes()).decode()


def decode_vectors(text: str, dim: int) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype="<f4").reshape(-1, dim)


class BadRows(ValueError):
    """Rows read from Chroma that do not form a snapshot (a damaged collection)."""


def snapshot_from_rows(ids: list[str], documents: list[str], metadatas: list[dict], stamp: str) -> Snapshot:
    """The snapshot of a collection's rows (no embedding: sentence vectors come from the metadata)."""
    rows = sorted(zip(ids, documents, metadatas, strict=True), key=lambda r: (r[2]["source"], r[2]["position"]))
    chunks = [chunk_from_row(doc, meta) for _, doc, meta in rows]
    sentences: list[str] = []
    owner: list[int] = []
    blocks: list[np.ndarray] = []
    for i, (c, (uid, _, meta)) in enumerate(zip(chunks, rows, strict=True)):
        sents = split_sentences(c.text, c.section)
        try:
            vecs = decode_vectors(meta["sentence_vectors"], int(meta["dim"])) if sents else None
        except (KeyError, ValueError) as exc:
            raise BadRows(f"chunk {uid} has no readable sentence vectors ({exc})") from None
        if sents and len(vecs) != len(sents):
            raise BadRows(f"chunk {uid} has {len(vecs)} sentence vectors for {len(sents)} sentences")
        if sents:
            blocks.append(vecs)
        sentences += sents
        owner += [i] * len(sents)
    dim = blocks[0].shape[1] if blocks else next((int(m["dim"]) for m in metadatas if "dim" in m), 0)
    vectors = np.concatenate(blocks) if blocks else np.zeros((0, dim), dtype=np.float32)
    return Snapshot(chunks, [r[0] for r in rows], sentences, np.asarray(owner, dtype=np.int64), vectors, stamp)


def write_cache(data_dir: Path, snap: Snapshot) -> None:
    """Cache `snap` in the data dir (the writer does this after each build)."""
    from advisor.store.manifest import write_atomic

    tmp = data_dir / (SENTENCES + ".tmp.npz")
    np.savez(tmp, vectors=snap.sentence_vectors.astype(np.float32), owner=snap.sentence_chunk.astype(np.int32))
    tmp.replace(data_dir / SENTENCES)
    header = {"stamp": snap.fingerprint, "chunks": len(snap.chunks), "sentences": len(snap.sentences)}
    write_atomic(data_dir / SNAPSHOT, snapshot_lines(header, snap.uids, snap.chunks))


def read_cache(data_dir: Path, stamp: str) -> tuple[Snapshot | None, str | None]:
    """The cached snapshot if it was written for `stamp` and is intact; else (None, why not)."""
    path = data_dir / SNAPSHOT
    if not path.exists():
        return None, f"{path} is missing"
    try:
        with path.open(encoding="utf-8") as f:
            header = json.loads(f.readline())
            if not isinstance(header, dict) or header.get("stamp") != stamp:
                return None, f"{path} is from another index version"
            records = [json.loads(line) for line in f if line.strip()]
        uids = [r.pop("uid") for r in records]
        chunks = [Chunk(**r) for r in records]
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        return None, f"{path} is damaged ({type(exc).__name__})"
    sentences = [s for c in chunks for s in split_sentences(c.text, c.section)]
    npz = data_dir / SENTENCES
    try:
        with np.load(npz, allow_pickle=False) as f:
            vectors, owner = f["vectors"], f["owner"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        return None, f"{npz} is damaged ({type(exc).__name__})"
    if len(chunks) != header.get("chunks") or not (len(vectors) == len(owner) == len(sentences)):
        return None, f"{npz} does not match {path}"
    return Snapshot(chunks, uids, sentences, owner, vectors, stamp), None


def cache_stamp(data_dir: Path) -> str | None:
    """The stamp the cached snapshot was written for (cheap: one line)."""
    header = snapshot_header(data_dir / SNAPSHOT)
    return header.get("stamp") if isinstance(header, dict) else None


def ids_fingerprint(ids: list[str]) -> str:
    """One hash of a set of chunk ids: equal fingerprints mean the same stored chunks."""
    return hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()


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
