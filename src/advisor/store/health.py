"""Checking the index (`advisor index --check [--deep]`): every way its parts disagree, one line each
with its fix. Reads only; the next `advisor index` repairs what it can (`store/versions.py`)."""

from __future__ import annotations

import numpy as np

from advisor.store.chroma import Pointer, orphan_segment_dirs, version_collections
from advisor.store.manifest import MANIFEST, read_manifest
from advisor.store.reader import (
    FULL_FIX,
    OTHER_SETTINGS,
    PAGE,
    IndexReader,
    IndexUnavailable,
    namespace,
    settings_key,
)
from advisor.store.records import local_records_file, record_manager, records_url, sqlite_problem
from advisor.store.snapshot import (
    SENTENCES,
    SNAPSHOT,
    BadRows,
    Snapshot,
    chunk_key,
    ids_fingerprint,
    read_cache,
    snapshot_from_rows,
)
from advisor.vectors import unit_rows


def problems(reader: IndexReader, deep: bool = False) -> list[str]:
    """Every way the parts disagree (Chroma count and ids, pointer, records, manifest, snapshot
    cache, leftovers), one line each with its fix; empty when the index is healthy.

    `deep` also reads every row and compares contents, not only ids and counts (`_deep_problems`).
    """
    s = reader.settings
    try:
        pointer = reader.published(refresh=True)
    except IndexUnavailable as exc:
        return [str(exc)]
    problems: list[str] = []
    try:
        ids, _, _ = reader.rows(pointer.active, [])
        if len(ids) != pointer.count or ids_fingerprint(ids) != pointer.ids:
            problems.append(
                f"Chroma collection {pointer.active} holds {len(ids)} chunks, its version says "
                f"{pointer.count}: {FULL_FIX}"
            )
    except IndexUnavailable as exc:
        problems.append(str(exc))
    if pointer.settings != settings_key(s):
        problems.append(OTHER_SETTINGS)
    manifest = read_manifest(s.data_dir)
    rec_file = local_records_file(s)
    writer_dir = manifest is not None or any(
        (s.data_dir / n).exists() for n in (SNAPSHOT, SENTENCES, rec_file.name if rec_file else MANIFEST)
    )
    if writer_dir:  # this data dir belongs to a writer: its caches must match the published version
        if manifest is None:
            problems.append(f"{s.data_dir / MANIFEST} is missing or unreadable: run `advisor index` (repairs it)")
        elif manifest.get("stamp") != pointer.stamp:
            problems.append(f"{s.data_dir / MANIFEST} describes another index version: run `advisor index`")
        else:
            problems += _manifest_problems(manifest, pointer, s.data_dir / MANIFEST)
        _, why = read_cache(s.data_dir, pointer.stamp)
        if why:
            problems.append(f"{why}: run `advisor index` (repairs it)")
        problem = sqlite_problem(rec_file) if rec_file else None
        if problem:
            problems.append(f"{problem}: run `advisor index` (repairs it)")
        else:
            try:
                n = len(record_manager(s, namespace(pointer.active)).list_keys())
            except Exception as exc:
                n, problem = -1, f"cannot read the record store {records_url(s)}: {exc}"
                problems.append(problem)
            if not problem and n != pointer.count:
                problems.append(
                    f"the record store ({rec_file or records_url(s)}) holds {n} records for "
                    f"{pointer.count} chunks: run `advisor index` (repairs it)"
                )
    try:
        extra = set(version_collections(reader.client(create=False), s.collection))
        extra -= {pointer.active, pointer.previous}
    except Exception:
        extra = set()
    if extra:
        problems.append(f"leftover Chroma collections {', '.join(sorted(extra))}: `advisor index` removes them")
    if not s.chroma_url and (orphans := orphan_segment_dirs(s.chroma_dir)):
        problems.append(f"{len(orphans)} orphaned segment directories in {s.chroma_dir}: `advisor index` removes them")
    if deep and not problems:
        problems += _deep_problems(reader, pointer, manifest if writer_dir else None)
    return problems


def _deep_problems(reader: IndexReader, pointer: Pointer, manifest: dict | None) -> list[str]:
    """What only the contents show: every row is read (text, metadata, vector) and each chunk re-embedded.

    A chunk's id hashes its text and place, so a text changed in place no longer matches its id; its
    vector must be the model's vector of that text; sentence vectors must be readable unit vectors; the
    writer's snapshot cache and manifest must hold what Chroma holds. Slow: it embeds every chunk.
    """
    name = pointer.active
    ids, docs, metas, vectors = [], [], [], []
    col = reader.collection(name)
    while True:
        got = col.get(include=["documents", "metadatas", "embeddings"], limit=PAGE, offset=len(ids))
        ids += got["ids"]
        docs += list(got["documents"])
        metas += list(got["metadatas"])
        vectors += list(got["embeddings"])
        if len(got["ids"]) < PAGE:
            break
    try:
        snap = snapshot_from_rows(ids, docs, metas, pointer.stamp)
    except (BadRows, KeyError, TypeError, ValueError) as exc:
        return [f"Chroma collection {name} is damaged ({exc}): {FULL_FIX}"]
    problems: list[str] = []
    changed = [u for u, c in zip(snap.uids, snap.chunks, strict=True) if chunk_key(c) != u]
    if changed:
        problems.append(f"{len(changed)} chunks of {name} hold other text than their ids say: {FULL_FIX}")
    norms = np.linalg.norm(snap.sentence_vectors, axis=1) if len(snap.sentence_vectors) else np.ones(0)
    if bad := int((~np.isfinite(norms) | (np.abs(norms - 1) > 1e-3)).sum()):
        problems.append(f"{bad} sentence vectors in {name} are not unit vectors: {FULL_FIX}")
    by_id = {u: c for u, c in zip(snap.uids, snap.chunks, strict=True)}
    stored = unit_rows(np.asarray(vectors, dtype=np.float32))
    fresh = unit_rows(np.asarray(reader.embedder.embed_batch([by_id[u].embed_text for u in ids]), dtype=np.float32))
    if off := int((np.sum(stored * fresh, axis=1) < VECTOR_AGREEMENT).sum()):
        problems.append(f"{off} chunk vectors in {name} are not the model's vectors of their text: {FULL_FIX}")
    if manifest is not None:
        cache, _ = read_cache(reader.settings.data_dir, pointer.stamp)
        if cache is not None and not _same_snapshot(cache, snap):
            problems.append(f"the snapshot cache in {reader.settings.data_dir} differs from {name}: {FULL_FIX}")
        per_source: dict[str, int] = {}
        for c in snap.chunks:
            per_source[c.source] = per_source.get(c.source, 0) + 1
        listed = {src: int(v.get("chunks", -1)) for src, v in (manifest.get("sources") or {}).items()}
        if (
            manifest.get("sentences") != len(snap.sentences)
            or not set(per_source) <= set(listed)
            or any(listed[src] != n for src, n in per_source.items())
        ):
            problems.append(f"{reader.settings.data_dir / MANIFEST} does not describe {name}: {FULL_FIX}")
    return problems


VECTOR_AGREEMENT = 0.99  # cosine of a stored chunk vector with the model's vector of its text, at least


def _same_snapshot(a: Snapshot, b: Snapshot) -> bool:
    """Do two snapshots hold the same chunks, sentences and sentence vectors?"""
    return (
        a.uids == b.uids
        and a.chunks == b.chunks
        and a.sentence_vectors.shape == b.sentence_vectors.shape
        and bool(np.allclose(a.sentence_vectors, b.sentence_vectors, atol=1e-6))
    )


def _manifest_problems(manifest: dict, pointer: Pointer, path) -> list[str]:
    """Where the writer's manifest disagrees with the published version it names (cheap: no rows read)."""
    said = {k: manifest.get(k) for k in ("active", "previous", "version", "chunks", "documents")}
    actual = {
        "active": pointer.active,
        "previous": pointer.previous,
        "version": pointer.version,
        "chunks": pointer.count,
        "documents": pointer.documents,
    }
    wrong = [k for k in said if said[k] != actual[k]]
    return [f"{path} says other {', '.join(wrong)} than the index: run `advisor index --full`"] if wrong else []
