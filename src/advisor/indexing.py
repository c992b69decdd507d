"""The indexing pipeline: corpus folder -> load -> chunk -> embed -> a new published version of the index.

`CorpusIndex.update` (one writer at a time, under the writer lock) first `plan`s: the corpus is loaded and
chunked; chunk ids hash content and place in the document, never the corpus's location on disk; the
published version's chunks are read, and those of edited documents, and of files deleted from this
writer's corpus, are dropped. Then it `build`s: when anything changed, a new version collection
`<collection>-v<N+1>` is built beside the active one: unchanged chunks are copied with their vectors, new
ones go through `langchain_core.indexing.index()` with a `SQLRecordManager` (only they are embedded, each
with its sentences' vectors). Then the pointer is switched in one call and versions older than the
previous one are deleted with their records and segment directories (`store/versions.py`). A killed build
leaves the old version serving; the next run removes the leftovers.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from advisor.ingest.chunk import chunk_document
from advisor.ingest.load import UnreadableDocument, corpus_files, load_corpus, load_document, source_name
from advisor.ingest.profile import derive_profile, overrides_stamp, profile_stamp, write_profile
from advisor.schema import Chunk, IndexReport, Profile, SourceDocument
from advisor.settings import Settings
from advisor.store.chroma import (
    Pointer,
    embedded_collection_names,
    orphan_segment_dirs,
    read_pointer,
    version_collections,
)
from advisor.store.embedding import Embedder, LangChainEmbeddings
from advisor.store.health import problems
from advisor.store.lock import LockHeld
from advisor.store.manifest import read_manifest, write_manifest
from advisor.store.reader import FULL_FIX, PAGE, IndexBusy, IndexUnavailable, namespace, settings_key
from advisor.store.records import local_records_file, record_manager, sqlite_count, sqlite_problem
from advisor.store.snapshot import (
    EXTRA_MODEL,
    EXTRA_VECTOR,
    SENTENCES,
    BadRows,
    cache_stamp,
    chunk_from_row,
    chunk_key,
    chunk_metadata,
    decode_vectors,
    doc_key,
    encode_vectors,
    ids_fingerprint,
    read_cache,
    snapshot_from_rows,
    write_cache,
)
from advisor.store.versions import Versions, disk_full, owns, writer_origin
from advisor.text import set_tiktoken_cache, split_sentences

log = logging.getLogger(__name__)

LAYOUT = 2  # manifest layout: versioned collections behind a pointer
INDEX_BATCH = 256  # chunks per batch of LangChain's `index()` (embedded and added together)

Loader = Callable[[Path, float], tuple[list[SourceDocument], list[str]]]
Chunker = Callable[[SourceDocument, int, int], list[Chunk]]


@dataclass(frozen=True)
class Plan:
    """What one build does: the corpus as loaded and chunked against the published version's chunks."""

    pointer: Pointer | None  # the published version, if any
    reason: str | None  # why it rebuilds from scratch, if it does
    base: dict[str, dict]  # id -> metadata of the published version's chunks that can be kept
    docs: list[SourceDocument]
    warnings: list[str]
    chunks: list[Chunk]
    uids: list[str]  # the chunks' ids, in order
    origin: str  # this writer, stored with every new chunk
    drop: set[str]  # ids of published chunks left out (edited or deleted documents)
    gone: list[str]  # sources deleted from the corpus
    new: list[int]  # positions in `chunks` of the chunks to embed


class CorpusIndex(Versions):
    """The index of one corpus folder: read it (`IndexReader`), check it, and keep it in line with the
    folder (`update`: `plan`, then `build`). Loader, chunker and embedder are injected; the defaults
    are the project's (`ingest/load.py`, `ingest/chunk.py`, the configured embedder). Cheap to
    construct: nothing is imported or loaded until used."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder | None = None,
        *,
        loader: Loader = load_corpus,
        chunker: Chunker = chunk_document,
    ) -> None:
        super().__init__(settings, embedder)
        self.loader = loader
        self.chunker = chunker

    def update(self, full: bool = False, progress: bool = True) -> IndexReport:
        """Bring the index in line with the corpus; rebuild from scratch if `full` or settings changed."""
        start = time.perf_counter()
        s = self.settings
        s.data_dir.mkdir(parents=True, exist_ok=True)
        set_tiktoken_cache(s.tiktoken_cache_dir)
        manifest = read_manifest(s.data_dir)
        if not full and manifest is not None and self._unchanged(manifest):
            if profile_stamp(s.data_dir) != overrides_stamp(s.corpus_dir):  # advisor.yaml edited, or no profile
                docs, _ = self.loader(s.corpus_dir, s.max_file_mb)
                chunks = [c for d in docs for c in self.chunker(d, s.chunk_tokens, s.chunk_overlap)]
                write_profile(s.corpus_dir, s.data_dir, docs, chunks)
            return IndexReport(
                documents=manifest["documents"],
                chunks=manifest["chunks"],
                added=0,
                updated=0,
                skipped=manifest["chunks"],
                deleted=0,
                seconds=time.perf_counter() - start,
                version=manifest["version"],
                corpus_documents=len(manifest.get("sources", {})),
            )
        lock = self.writer_lock()
        try:
            lock.acquire()
        except LockHeld as exc:
            raise IndexBusy(str(exc)) from None
        try:
            return self.build(self.plan(full, manifest), progress, manifest, start)
        except (IndexBusy, KeyboardInterrupt):
            raise
        except Exception as exc:
            if full_disk := disk_full(exc, s.data_dir):
                raise IndexUnavailable(full_disk) from exc
            raise
        finally:
            lock.release()

    def _unchanged(self, manifest: dict) -> bool:
        """The no-op path (embedded only): every corpus file is byte-identical to what was indexed and
        the local parts agree with the manifest. Needs neither Chroma, LangChain nor the model."""
        s = self.settings
        if s.chroma_url or manifest.get("layout") != LAYOUT or manifest.get("fingerprint") != s.fingerprint():
            return False
        if cache_stamp(s.data_dir) != manifest.get("stamp"):
            return False
        names = embedded_collection_names(s.chroma_dir)  # leftovers of a killed build need the slow path
        ours = re.compile(rf"{re.escape(s.collection)}(-v\d+)?")
        if names is None or {n for n in names if ours.fullmatch(n)} != {
            manifest.get("active"),
            manifest.get("previous"),
        } - {""}:
            return False
        if orphan_segment_dirs(s.chroma_dir):
            return False
        try:
            with np.load(s.data_dir / SENTENCES, allow_pickle=False) as f:
                if len(f["owner"]) != manifest.get("sentences"):
                    return False
        except Exception:
            return False
        rec_file = local_records_file(s)
        if rec_file and sqlite_count(rec_file, namespace(manifest.get("active", ""))) != manifest["chunks"]:
            return False
        files = corpus_files(s.corpus_dir)
        known = manifest.get("sources", {})
        if {source_name(p, s.corpus_dir) for p in files} != set(known):
            return False
        for path in files:
            try:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError:
                return False
            if digest != known[source_name(path, s.corpus_dir)].get("sha256"):
                return False
        return True

    def plan(self, full: bool = False, manifest: dict | None = None) -> Plan:
        """What the next build does (reads only): the corpus loaded and chunked, the published version's
        chunks, and which of them are dropped and which chunks are new; `reason` when it rebuilds."""
        s = self.settings
        client = self.client()
        self._handles.clear()
        pointer = read_pointer(client, s.collection)
        reason = None
        base: dict[str, dict] = {}  # id -> metadata of the active version's chunks
        if full:
            reason = "--full"
        elif pointer is None:
            if manifest is not None:
                reason = f"{s.chroma_url or s.chroma_dir} held no index"
            elif s.collection in version_collections(client, s.collection):
                reason = "index layout changed"
        elif pointer.settings != settings_key(s):
            reason = "embedding or chunker settings changed"
        else:
            try:
                ids, metas, _ = self.rows(pointer.active, ["metadatas"])
            except IndexUnavailable:
                ids, metas = [], []
            if len(ids) != pointer.count or ids_fingerprint(ids) != pointer.ids:
                reason = f"Chroma collection {pointer.active} was damaged ({len(ids)} of {pointer.count} chunks)"
            else:
                base = dict(zip(ids, metas, strict=True))

        docs, warnings = self.loader(s.corpus_dir, s.max_file_mb)
        files = corpus_files(s.corpus_dir)
        if not docs and not files and not base:
            raise IndexUnavailable(f"no documents in {s.corpus_dir} (supported: .md .txt .html .pdf)")
        chunks = [c for d in docs for c in self.chunker(d, s.chunk_tokens, s.chunk_overlap)]
        uids = [chunk_key(c) for c in chunks]
        mine = set(uids)
        origin = writer_origin(s)
        loaded = {doc_key(d.source) for d in docs}
        present = {doc_key(source_name(p, s.corpus_dir)) for p in files}
        # Edited documents lose their old chunks; documents deleted from this writer's corpus lose
        # theirs. Chunks written by another writer of a shared Chroma (another `origin`) are never
        # deleted because this corpus lacks their file; only `--full` starts from nothing.
        edited = {u for u, m in base.items() if m.get("doc") in loaded and u not in mine}
        deleted = {u for u, m in base.items() if m.get("doc") not in present and owns(s, origin, m.get("origin"))}
        drop = edited | deleted
        gone = sorted({base[u]["source"] for u in drop if base[u].get("doc") not in present})
        new = [i for i, u in enumerate(uids) if u not in base]

        return Plan(pointer, reason, base, docs, warnings, chunks, uids, origin, drop, gone, new)

    def build(self, plan: Plan, progress: bool = True, manifest: dict | None = None, start: float = 0.0) -> IndexReport:
        """Carry out `plan` (under the writer lock): repair only when nothing changed, else build the next
        version beside the published one (unchanged chunks copied, new ones embedded), publish it and
        clean up. `start` is when the run began (perf_counter), for the report's seconds."""
        s = self.settings
        notices: list[str] = []
        rec_file = local_records_file(s)
        if rec_file and (problem := sqlite_problem(rec_file)):
            rec_file.unlink()
            notices.append(f"{problem}; rebuilt it from Chroma")
        pointer, reason, base, docs, warnings = plan.pointer, plan.reason, plan.base, plan.docs, plan.warnings
        chunks, uids, origin, drop, gone, new = plan.chunks, plan.uids, plan.origin, plan.drop, plan.gone, plan.new
        if pointer is not None and reason is None and not drop and not new:
            notices += self.repair(pointer)
            profile = self._profile_json(docs, chunks)
            if profile != pointer.profile:
                pointer = replace(pointer, profile=profile)
                self.publish(pointer)
            self._write_manifest(pointer, docs, chunks, manifest)
            self._pointer = (time.monotonic(), pointer)
            return IndexReport(
                documents=pointer.documents,
                chunks=pointer.count,
                added=0,
                updated=0,
                skipped=len(uids),
                deleted=0,
                seconds=time.perf_counter() - start,
                warnings=warnings,
                notices=notices,
                version=pointer.version,
                corpus_documents=len(docs),
            )

        keep = {pointer.active, pointer.previous} - {""} if pointer else set()
        self.cleanup(keep)
        version = max([pointer.version if pointer else 0, *self.in_use()]) + 1
        name, col = self.create(version)
        kept = [u for u in base if u not in drop]
        records = record_manager(s, namespace(name))
        copy_start = time.perf_counter()
        texts = self.copy(pointer.active if pointer else "", col, kept, base)
        for i in range(0, len(kept), PAGE):
            batch = kept[i : i + PAGE]
            records.update(batch, group_ids=[base[u]["doc"] for u in batch])
        copy_seconds = time.perf_counter() - copy_start

        fresh = [chunks[i] for i in new]
        embedded = self._add(name, pointer.active if base else "", records, fresh, base, origin, progress)
        ids, docs_, metas = self.written(name, kept, texts, base, [uids[i] for i in new])
        try:
            snap = snapshot_from_rows(ids, docs_, metas, "")
        except BadRows as exc:
            raise IndexUnavailable(f"the new version {name} is inconsistent ({exc}); {FULL_FIX}") from None
        published = Pointer(
            version=version,
            active=name,
            count=len(ids),
            ids=ids_fingerprint(ids),
            settings=settings_key(s),
            built_at=datetime.now(UTC).isoformat(timespec="seconds"),
            previous=pointer.active if pointer else "",
            documents=len({m["doc"] for m in metas}),
            profile=self._profile_json(docs, chunks),
        )
        write_cache(s.data_dir, replace(snap, fingerprint=published.stamp))
        self.publish(published)  # the switch: readers move to the new version
        self._write_manifest(published, docs, chunks, manifest, sentences=len(snap.sentences))
        self.cleanup({published.active, published.previous} - {""})
        return IndexReport(
            documents=published.documents,
            chunks=published.count,
            added=len(new),
            updated=0,
            skipped=len(uids) - len(new),
            deleted=len(drop),
            seconds=time.perf_counter() - start,
            rebuilt=bool(reason),
            reason=reason,
            embedded=embedded,
            files_deleted=gone,
            warnings=warnings,
            notices=notices,
            version=version,
            corpus_documents=len(docs),
            copied=len(kept),
            copy_seconds=round(copy_seconds, 2),
        )

    def _add(
        self,
        name: str,
        active: str,
        records,
        fresh: list[Chunk],
        base: dict[str, dict],
        origin: str,
        progress: bool,
    ) -> int:
        """Embed this corpus's new chunks (with their sentences, and for the extra dense model if one is
        configured) and add them to version `name` through LangChain's `index()`, which writes their records;
        the kept chunks were copied already, with all their vectors."""
        from langchain_chroma import Chroma
        from langchain_core.documents import Document
        from langchain_core.indexing import index

        bar = None
        embedded = 0

        def tick(n: int) -> None:  # one bar for both models' passes over the new chunks
            nonlocal bar
            if progress and bar is None:
                bar = _progress_bar(len(fresh) * (2 if self.extra is not None else 1))
            if bar is not None:
                bar.update(n)

        def on_batch(n: int) -> None:
            nonlocal embedded
            embedded += n
            tick(n)

        vectors = self._sentence_vectors(fresh, base, active)
        if self.extra is not None and fresh:
            tick(0)
            for start in range(0, len(fresh), INDEX_BATCH):
                batch = fresh[start : start + INDEX_BATCH]
                for i, v in enumerate(self.extra.embed_batch([c.embed_text for c in batch]), start=start):
                    vectors[i] |= {EXTRA_MODEL: self.extra.name, EXTRA_VECTOR: encode_vectors(v[None, :])}
                tick(len(batch))
        lc_docs = [
            Document(page_content=c.embed_text, metadata={**chunk_metadata(c), "origin": origin, **vectors[i]})
            for i, c in enumerate(fresh)
        ]

        store = Chroma(
            collection_name=name,
            client=self.client(),
            embedding_function=LangChainEmbeddings(self.embedder, on_batch),
            collection_configuration={"hnsw": {"space": "cosine"}},
        )
        try:  # (the bar may be open already: the extra model's pass came first)
            # Only the new chunks, and no cleanup: the version starts empty and already holds exactly
            # the kept chunks, so nothing is left to delete. (`cleanup="incremental"` deleted, per
            # batch, the not-yet-seen chunks of a document that straddles a batch boundary, then
            # re-added them without their sentence vectors: langchain-ai/langchain#32612.)
            index(
                lc_docs,
                records,
                store,
                cleanup=None,
                source_id_key=lambda d: d.metadata["doc"],
                key_encoder=lambda d: chunk_key(chunk_from_row(d.page_content, d.metadata)),
                batch_size=INDEX_BATCH,
            )
        finally:
            if bar is not None:
                bar.close()
        return embedded

    def _sentence_vectors(self, chunks: list[Chunk], base: dict[str, dict], active: str) -> dict[int, dict]:
        """Metadata fields holding each new chunk's sentence vectors; sentences already stored with
        chunks of the same documents are reused, only the others embedded."""
        docs = {doc_key(c.source) for c in chunks}
        known: dict[str, np.ndarray] = {}
        rows = [m for m in base.values() if m.get("doc") in docs and m.get("sentence_vectors")]
        if rows and active:
            ids = [u for u, m in base.items() if m.get("doc") in docs]
            got = self.collection(active).get(ids=ids, include=["documents", "metadatas"])
            for doc, meta in zip(got["documents"], got["metadatas"], strict=True):
                c = chunk_from_row(doc, meta)
                sents = split_sentences(c.text, c.section)
                with contextlib.suppress(KeyError, ValueError):
                    vecs = decode_vectors(meta["sentence_vectors"], int(meta["dim"]))
                    if len(vecs) == len(sents):
                        known.update(zip(sents, vecs, strict=True))
        per_chunk = [split_sentences(c.text, c.section) for c in chunks]
        missing = sorted({t for sents in per_chunk for t in sents if t not in known})
        if missing:
            known.update(zip(missing, self.embedder.embed_batch(missing), strict=True))
        out: dict[int, dict] = {}
        for i, sents in enumerate(per_chunk):
            vecs = np.stack([known[t] for t in sents]) if sents else np.zeros((0, self.embedder.dim), dtype=np.float32)
            out[i] = {"sentence_vectors": encode_vectors(vecs), "dim": int(vecs.shape[1]), "sentences": len(sents)}
        return out

    def _profile_json(self, docs, chunks) -> str:
        """Save the corpus profile (`profile.json`) and return it to publish with the version, so
        readers without the corpus have it too."""
        profile = write_profile(self.settings.corpus_dir, self.settings.data_dir, docs, chunks)
        return json.dumps(profile.to_json(), ensure_ascii=False, sort_keys=True)

    def _write_manifest(self, pointer: Pointer, docs, chunks: list[Chunk], old: dict | None, sentences=None) -> None:
        s = self.settings
        per_source: dict[str, int] = {}
        for c in chunks:
            per_source[c.source] = per_source.get(c.source, 0) + 1
        now = datetime.now(UTC).isoformat(timespec="seconds")
        if sentences is None:
            _, snap_why = read_cache(s.data_dir, pointer.stamp)
            sentences = (old or {}).get("sentences") if not snap_why else None
            if sentences is None:
                snap, _ = read_cache(s.data_dir, pointer.stamp)
                sentences = len(snap.sentences) if snap else 0
        write_manifest(
            s.data_dir,
            {
                "layout": LAYOUT,
                "fingerprint": s.fingerprint(),
                "chroma": s.chroma_url or "embedded",
                "collection": s.collection,
                "version": pointer.version,
                "active": pointer.active,
                "previous": pointer.previous,
                "stamp": pointer.stamp,
                "sources": {
                    d.source: {"sha256": d.sha256, "title": d.title, "chunks": per_source.get(d.source, 0)}
                    for d in docs
                },
                "documents": pointer.documents,
                "chunks": pointer.count,
                "sentences": sentences,
                "built_at": pointer.built_at,
                "checked_at": now,
            },
        )

    def check(self, deep: bool = False) -> list[str]:
        """Every way the index's parts disagree, one line each with its fix (`store/health.py`)."""
        return problems(self, deep)


def _progress_bar(total: int):
    from tqdm import tqdm

    return tqdm(desc="embedding", total=total, unit="chunk", leave=False, dynamic_ncols=True)


def read_document(corpus_dir: Path, source: str) -> str | None:
    """The whole text of the corpus document `source` ("corpus/<relative path>") as indexing reads it,
    or None when it lies outside `corpus_dir`, is gone or cannot be read."""
    corpus = corpus_dir.resolve()
    rel = source.split("/", 1)[1] if "/" in source else source
    path = (corpus / rel).resolve()
    if not (path.is_relative_to(corpus) and path.is_file()):
        return None
    try:
        return load_document(path, source).text
    except UnreadableDocument:
        return None


def profile_of(chunks: list[Chunk]) -> Profile:
    """The profile derived from indexed chunks alone (an index published before profiles existed)."""
    return derive_profile([], chunks)
