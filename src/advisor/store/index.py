"""The index: chunks in Chroma (embedded or a `chroma run` server), kept incremental by LangChain's
indexing API, published as immutable versions that readers switch to atomically.

Writing (`CorpusIndex.update`, one writer at a time under the writer lock): the corpus is loaded and
chunked; chunk ids hash content and place in the document, never the corpus's location on disk. When
anything changed, a new version collection `<collection>-v<N+1>` is built beside the active one:
unchanged chunks are copied with their vectors, new ones go through `langchain_core.indexing.index()`
with a `SQLRecordManager` (only they are embedded); chunks of edited documents, and of files deleted
from this writer's corpus, are left out. Then the pointer (`<collection>-meta`'s metadata) is switched
in one call, and versions older than the previous one are deleted with their records and segment
directories. A killed build leaves the old version serving; the next run removes the leftovers.

Reading (`current`, `load_snapshot`, `collection`): never builds or repairs. Everything a reader
holds in memory (chunks, BM25, sentence vectors) comes from the collection itself, or from the
writer's cache in the data dir when it was written for the same version. `check()` lists problems.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import re
import shutil
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime

import numpy as np

from advisor.ingest.chunk import chunk_document
from advisor.ingest.load import corpus_files, load_corpus, source_name
from advisor.ingest.profile import overrides_stamp, profile_stamp, write_profile
from advisor.schema import Chunk
from advisor.settings import Settings
from advisor.store.chroma import (
    ChromaUnavailable,
    Pointer,
    _not_found,
    connect,
    embedded_collection_names,
    orphan_segment_dirs,
    read_pointer,
    version_collections,
    version_name,
    write_pointer,
)
from advisor.store.embedding import Embedder, LangChainEmbeddings, make_embedder
from advisor.store.lock import LOCK_FILE, FileLock, LockHeld, SqlLock
from advisor.store.manifest import MANIFEST, read_manifest, write_manifest
from advisor.store.records import (
    drop_namespaces,
    local_records_file,
    namespaces,
    record_manager,
    records_url,
    sqlite_count,
    sqlite_problem,
)
from advisor.store.snapshot import (
    SENTENCES,
    SNAPSHOT,
    BadRows,
    Snapshot,
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
from advisor.text import set_tiktoken_cache, split_sentences

__all__ = ["CorpusIndex", "IndexBusy", "IndexReport", "IndexUnavailable", "MANIFEST", "SNAPSHOT", "Snapshot"]

log = logging.getLogger(__name__)

LAYOUT = 2  # manifest layout: versioned collections behind a pointer
PAGE = 1000  # rows per Chroma request
INDEX_BATCH = 256  # chunks per batch of LangChain's `index()` (embedded and added together)
FULL_FIX = "run `advisor index --full`"


class IndexUnavailable(RuntimeError):
    """The index cannot be read, built or reached (one-line message for users)."""


class IndexBusy(IndexUnavailable):
    """Another writer holds the writer lock."""


@dataclass(frozen=True)
class IndexReport:
    """What one `advisor index` run did."""

    documents: int
    chunks: int
    added: int
    updated: int
    skipped: int
    deleted: int
    seconds: float
    rebuilt: bool = False
    reason: str | None = None
    embedded: int = 0
    files_deleted: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    version: int = 0
    corpus_documents: int = 0
    copied: int = 0  # unchanged chunks copied from the previous version (vectors included)
    copy_seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.deleted or self.rebuilt)

    def to_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        head = "rebuilt from scratch" + (f" ({self.reason})" if self.reason else "") if self.rebuilt else "indexed"
        others = (
            f" ({self.corpus_documents} from this corpus)" if self.corpus_documents not in (0, self.documents) else ""
        )
        return (
            f"{head}: {self.documents} documents{others}, {self.chunks} chunks; "
            f"added {self.added}, updated {self.updated}, skipped {self.skipped}, deleted {self.deleted}; "
            f"{self.seconds:.2f} s"
        )


class CorpusIndex:
    """Builds and reads the index. Cheap to construct: nothing is imported or loaded until used."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.embedder = embedder or make_embedder(
            settings.embedding_backend,
            settings.embedding_batch_size,
            settings.data_dir / "models",
            settings.embedding_model,
            settings.models_path,
        )
        self.serving: Pointer | None = None  # the version whose snapshot the retriever holds
        self._client = None
        self._pointer: tuple[float, Pointer | None] | None = None
        self._handles: dict[str, object] = {}
        self._guard = threading.Lock()

    # -- Chroma -----------------------------------------------------------------------------
    def client(self, create: bool = True):
        """A Chroma client: HTTP when `chroma_url` is set, otherwise persistent under the data dir.

        With `create=False` (reads) an embedded index that does not exist is an error, not created.
        """
        s = self.settings
        if self._client is None:
            if not create and not s.chroma_url and not (s.chroma_dir / "chroma.sqlite3").exists():
                raise IndexUnavailable(self._missing())
            try:
                self._client = connect(s)
            except ChromaUnavailable as exc:
                raise IndexUnavailable(str(exc)) from None
        return self._client

    def _missing(self) -> str:
        s = self.settings
        if not s.chroma_url and read_manifest(s.data_dir) is not None:
            return f"{s.chroma_dir} is missing or damaged: {FULL_FIX}"
        return f"no index in {s.chroma_url or s.data_dir} yet: run `advisor index`"

    def current(self, refresh: bool = False) -> Pointer:
        """The published version, re-read from Chroma at most every `poll_seconds` (or now)."""
        now = time.monotonic()
        with self._guard:
            if refresh or self._pointer is None or now - self._pointer[0] >= self.settings.poll_seconds:
                try:
                    pointer = read_pointer(self.client(create=False), self.settings.collection)
                except IndexUnavailable:
                    raise
                except Exception as exc:
                    raise IndexUnavailable(f"cannot read the index pointer from Chroma: {exc}") from None
                self._pointer = (now, pointer)
            pointer = self._pointer[1]
        if pointer is None:
            raise IndexUnavailable(self._missing())
        return pointer

    def collection(self, name: str | None = None):
        """The chunk collection being served (or the one called `name`)."""
        name = name or (self.serving or self.current()).active
        handle = self._handles.get(name)
        if handle is None:
            try:
                handle = self.client(create=False).get_collection(name, embedding_function=None)
            except IndexUnavailable:
                raise
            except Exception as exc:
                if _not_found(exc):
                    raise IndexUnavailable(f"Chroma collection {name} is missing: {FULL_FIX}") from None
                raise IndexUnavailable(f"cannot open Chroma collection {name}: {exc}") from None
            self._handles[name] = handle
        return handle

    def _rows(self, name: str, include: list[str]) -> tuple[list[str], list, list]:
        """Every row of a collection, paged: ids, then the two `include` fields (or empty lists)."""
        col = self.collection(name)
        ids: list[str] = []
        first: list = []
        second: list = []
        offset = 0
        while True:
            got = col.get(include=include, limit=PAGE, offset=offset)
            ids += got["ids"]
            if include:
                first += list(got[include[0]])
            if len(include) > 1:
                second += list(got[include[1]])
            if len(got["ids"]) < PAGE:
                return ids, first, second
            offset += PAGE

    # -- reading ------------------------------------------------------------------------------
    def load_snapshot(self, pointer: Pointer | None = None) -> Snapshot:
        """The snapshot of the published version: the writer's cache when it matches, else read from
        the collection (nothing is embedded or written)."""
        pointer = pointer or self.current()
        snap, why = read_cache(self.settings.data_dir, pointer.stamp)
        if snap is not None:
            return snap
        if why and ("damaged" in why or "does not match" in why):
            log.warning("%s; reading the index from Chroma instead (`advisor index` rewrites it)", why)
        return self._snapshot_from_collection(pointer)

    def _snapshot_from_collection(self, pointer: Pointer) -> Snapshot:
        ids, docs, metas = self._rows(pointer.active, ["documents", "metadatas"])
        if len(ids) != pointer.count or ids_fingerprint(ids) != pointer.ids:
            raise IndexUnavailable(
                f"Chroma collection {pointer.active} holds {len(ids)} chunks, its version says {pointer.count}: "
                f"{FULL_FIX}"
            )
        try:
            return snapshot_from_rows(ids, docs, metas, pointer.stamp)
        except (BadRows, KeyError, TypeError, ValueError) as exc:
            raise IndexUnavailable(f"Chroma collection {pointer.active} is damaged ({exc}): {FULL_FIX}") from None

    def manifest(self) -> dict | None:
        """The manifest of this data dir's last successful build, or None."""
        return read_manifest(self.settings.data_dir)

    def status(self) -> dict:
        """Documents, chunks, version and build time of the published index (never builds)."""
        out = {
            "documents": 0,
            "chunks": 0,
            "built_at": None,
            "version": None,
            "chroma": self.settings.chroma_url or "embedded",
            "embedding_model": self.embedder.name,
            "problem": None,
        }
        try:
            p = self.current()
        except IndexUnavailable as exc:
            return {**out, "problem": str(exc)}
        return {**out, "documents": p.documents, "chunks": p.count, "built_at": p.built_at, "version": p.version}

    def check(self, deep: bool = False) -> list[str]:
        """Every way the parts disagree (Chroma count and ids, pointer, records, manifest, snapshot
        cache, leftovers), one line each with its fix; empty when the index is healthy.

        `deep` also reads every row and compares contents, not only ids and counts (`_deep_problems`).
        """
        s = self.settings
        try:
            pointer = self.current(refresh=True)
        except IndexUnavailable as exc:
            return [str(exc)]
        problems: list[str] = []
        try:
            ids, _, _ = self._rows(pointer.active, [])
            if len(ids) != pointer.count or ids_fingerprint(ids) != pointer.ids:
                problems.append(
                    f"Chroma collection {pointer.active} holds {len(ids)} chunks, its version says "
                    f"{pointer.count}: {FULL_FIX}"
                )
        except IndexUnavailable as exc:
            problems.append(str(exc))
        if pointer.settings != _settings_key(s):
            problems.append("the index was built with other embedding or chunker settings: run `advisor index`")
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
                    n = len(record_manager(s, _namespace(pointer.active)).list_keys())
                except Exception as exc:
                    n, problem = -1, f"cannot read the record store {records_url(s)}: {exc}"
                    problems.append(problem)
                if not problem and n != pointer.count:
                    problems.append(
                        f"the record store ({rec_file or records_url(s)}) holds {n} records for "
                        f"{pointer.count} chunks: run `advisor index` (repairs it)"
                    )
        try:
            extra = set(version_collections(self.client(create=False), s.collection))
            extra -= {pointer.active, pointer.previous}
        except Exception:
            extra = set()
        if extra:
            problems.append(f"leftover Chroma collections {', '.join(sorted(extra))}: `advisor index` removes them")
        if not s.chroma_url and (orphans := orphan_segment_dirs(s.chroma_dir)):
            problems.append(
                f"{len(orphans)} orphaned segment directories in {s.chroma_dir}: `advisor index` removes them"
            )
        if deep and not problems:
            problems += self._deep_problems(pointer, manifest if writer_dir else None)
        return problems

    def _deep_problems(self, pointer: Pointer, manifest: dict | None) -> list[str]:
        """What only the contents show: every row is read (text, metadata, vector) and each chunk re-embedded.

        A chunk's id hashes its text and place, so a text changed in place no longer matches its id; its
        vector must be the model's vector of that text; sentence vectors must be readable unit vectors; the
        writer's snapshot cache and manifest must hold what Chroma holds. Slow: it embeds every chunk.
        """
        name = pointer.active
        ids, docs, metas, vectors = [], [], [], []
        col = self.collection(name)
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
        stored = _unit(np.asarray(vectors, dtype=np.float32))
        fresh = _unit(np.asarray(self.embedder.embed_batch([by_id[u].embed_text for u in ids]), dtype=np.float32))
        if off := int((np.sum(stored * fresh, axis=1) < VECTOR_AGREEMENT).sum()):
            problems.append(f"{off} chunk vectors in {name} are not the model's vectors of their text: {FULL_FIX}")
        if manifest is not None:
            cache, _ = read_cache(self.settings.data_dir, pointer.stamp)
            if cache is not None and not _same_snapshot(cache, snap):
                problems.append(f"the snapshot cache in {self.settings.data_dir} differs from {name}: {FULL_FIX}")
            per_source: dict[str, int] = {}
            for c in snap.chunks:
                per_source[c.source] = per_source.get(c.source, 0) + 1
            listed = {src: int(v.get("chunks", -1)) for src, v in (manifest.get("sources") or {}).items()}
            if (
                manifest.get("sentences") != len(snap.sentences)
                or not set(per_source) <= set(listed)
                or any(listed[src] != n for src, n in per_source.items())
            ):
                problems.append(f"{self.settings.data_dir / MANIFEST} does not describe {name}: {FULL_FIX}")
        return problems

    # -- writing ------------------------------------------------------------------------------
    def writer_lock(self):
        """The lock every writer takes: a file lock for an embedded index, a row in the record store
        for a Chroma server (shared by every machine that writes to it)."""
        s = self.settings
        if s.chroma_url:
            return SqlLock(records_url(s), name=f"{s.chroma_url}#{s.collection}")
        return FileLock(s.data_dir / LOCK_FILE)

    def update(self, full: bool = False, progress: bool = True) -> IndexReport:
        """Bring the index in line with the corpus; rebuild from scratch if `full` or settings changed."""
        start = time.perf_counter()
        s = self.settings
        s.data_dir.mkdir(parents=True, exist_ok=True)
        set_tiktoken_cache(s.tiktoken_cache_dir)
        manifest = read_manifest(s.data_dir)
        if not full and manifest is not None and self._unchanged(manifest):
            if profile_stamp(s.data_dir) != overrides_stamp(s.corpus_dir):  # advisor.yaml edited, or no profile
                docs, _ = load_corpus(s.corpus_dir, s.max_file_mb)
                chunks = [c for d in docs for c in chunk_document(d, s.chunk_tokens, s.chunk_overlap)]
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
            return self._update(full, progress, manifest, start)
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
        if rec_file and sqlite_count(rec_file, _namespace(manifest.get("active", ""))) != manifest["chunks"]:
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

    def _update(self, full: bool, progress: bool, manifest: dict | None, start: float) -> IndexReport:
        s = self.settings
        notices: list[str] = []
        rec_file = local_records_file(s)
        if rec_file and (problem := sqlite_problem(rec_file)):
            rec_file.unlink()
            notices.append(f"{problem}; rebuilt it from Chroma")
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
        elif pointer.settings != _settings_key(s):
            reason = "embedding or chunker settings changed"
        else:
            try:
                ids, metas, _ = self._rows(pointer.active, ["metadatas"])
            except IndexUnavailable:
                ids, metas = [], []
            if len(ids) != pointer.count or ids_fingerprint(ids) != pointer.ids:
                reason = f"Chroma collection {pointer.active} was damaged ({len(ids)} of {pointer.count} chunks)"
            else:
                base = dict(zip(ids, metas, strict=True))

        docs, warnings = load_corpus(s.corpus_dir, s.max_file_mb)
        files = corpus_files(s.corpus_dir)
        if not docs and not files and not base:
            raise IndexUnavailable(f"no documents in {s.corpus_dir} (supported: .md .txt .html .pdf)")
        chunks = [c for d in docs for c in chunk_document(d, s.chunk_tokens, s.chunk_overlap)]
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

        if pointer is not None and reason is None and not drop and not new:
            notices += self._repair(pointer)
            profile = self._profile_json(docs, chunks)
            if profile != pointer.profile:
                pointer = replace(pointer, profile=profile)
                write_pointer(client, s.collection, pointer)
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
        self._cleanup(keep)
        version = max([pointer.version if pointer else 0, *self._versions_in_use()]) + 1
        name = version_name(s.collection, version)
        col = client.create_collection(name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}})
        self._handles[name] = col
        kept = [u for u in base if u not in drop]
        records = record_manager(s, _namespace(name))
        copy_start = time.perf_counter()
        texts = self._copy(pointer.active if pointer else "", col, kept, base)
        for i in range(0, len(kept), PAGE):
            batch = kept[i : i + PAGE]
            records.update(batch, group_ids=[base[u]["doc"] for u in batch])
        copy_seconds = time.perf_counter() - copy_start

        fresh = [chunks[i] for i in new]
        embedded = self._add(name, pointer.active if base else "", records, fresh, base, origin, progress)
        ids, docs_, metas = self._written(name, kept, texts, base, [uids[i] for i in new])
        try:
            snap = snapshot_from_rows(ids, docs_, metas, "")
        except BadRows as exc:
            raise IndexUnavailable(f"the new version {name} is inconsistent ({exc}); {FULL_FIX}") from None
        published = Pointer(
            version=version,
            active=name,
            count=len(ids),
            ids=ids_fingerprint(ids),
            settings=_settings_key(s),
            built_at=datetime.now(UTC).isoformat(timespec="seconds"),
            previous=pointer.active if pointer else "",
            documents=len({m["doc"] for m in metas}),
            profile=self._profile_json(docs, chunks),
        )
        write_cache(s.data_dir, replace(snap, fingerprint=published.stamp))
        write_pointer(client, s.collection, published)  # the switch: readers move to the new version
        self._pointer = (time.monotonic(), published)
        self._write_manifest(published, docs, chunks, manifest, sentences=len(snap.sentences))
        self._cleanup({published.active, published.previous} - {""})
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

    def _copy(self, source: str, target, ids: list[str], base: dict[str, dict]) -> dict[str, str]:
        """Copy rows from the active version into the new one: vectors and documents read from it,
        metadata (already read into `base`) not read again. Returns the copied documents by id."""
        texts: dict[str, str] = {}
        if not ids:
            return texts
        old = self.collection(source)
        for i in range(0, len(ids), PAGE):
            got = old.get(ids=ids[i : i + PAGE], include=["embeddings", "documents"])
            metas = [base[u] for u in got["ids"]]
            target.add(ids=got["ids"], embeddings=got["embeddings"], documents=got["documents"], metadatas=metas)
            texts.update(zip(got["ids"], got["documents"], strict=True))
        return texts

    def _written(
        self, name: str, kept: list[str], texts: dict[str, str], base: dict[str, dict], added: list[str]
    ) -> tuple[list[str], list[str], list[dict]]:
        """The rows of the new version `name`: the copied ones as copied, the added ones read back (only
        they came through LangChain). Refuses a version whose ids are not exactly those."""
        stored, _, _ = self._rows(name, [])
        ids, docs, metas = list(kept), [texts[u] for u in kept], [base[u] for u in kept]
        col = self.collection(name)
        for i in range(0, len(added), PAGE):
            got = col.get(ids=added[i : i + PAGE], include=["documents", "metadatas"])
            ids += got["ids"]
            docs += got["documents"]
            metas += got["metadatas"]
        if len(stored) != len(ids) or set(stored) != set(ids):
            raise IndexUnavailable(
                f"the new version {name} holds {len(stored)} chunks, {len(ids)} were written; {FULL_FIX}"
            )
        return ids, docs, metas

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
        """Embed this corpus's new chunks (with their sentences) and add them to version `name` through
        LangChain's `index()`, which writes their records; the kept chunks were copied already."""
        from langchain_chroma import Chroma
        from langchain_core.documents import Document
        from langchain_core.indexing import index

        vectors = self._sentence_vectors(fresh, base, active)
        lc_docs = [
            Document(page_content=c.embed_text, metadata={**chunk_metadata(c), "origin": origin, **vectors[i]})
            for i, c in enumerate(fresh)
        ]

        bar = None
        embedded = 0

        def on_batch(n: int) -> None:
            nonlocal embedded, bar
            embedded += n
            if progress and bar is None:
                bar = _progress_bar(len(fresh))
            if bar is not None:
                bar.update(n)

        store = Chroma(
            collection_name=name,
            client=self.client(),
            embedding_function=LangChainEmbeddings(self.embedder, on_batch),
            collection_configuration={"hnsw": {"space": "cosine"}},
        )
        try:
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

    def _versions_in_use(self) -> list[int]:
        names = version_collections(self.client(), self.settings.collection)
        return [int(n.rsplit("-v", 1)[1]) for n in names if "-v" in n[len(self.settings.collection) :]]

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

    def _repair(self, pointer: Pointer) -> list[str]:
        """Make the writer's local parts agree with the published version (nothing re-embedded)."""
        s = self.settings
        notices = []
        _, why = read_cache(s.data_dir, pointer.stamp)
        if why:
            write_cache(s.data_dir, self._snapshot_from_collection(pointer))
            notices.append(f"{why}; rewrote it from Chroma")
        ns = _namespace(pointer.active)
        records = record_manager(s, ns)
        keys = set(records.list_keys())
        ids, metas, _ = self._rows(pointer.active, ["metadatas"])
        if keys != set(ids):
            drop_namespaces(s, {ns})
            records = record_manager(s, ns)
            for i in range(0, len(ids), PAGE):
                records.update(ids[i : i + PAGE], group_ids=[m["doc"] for m in metas[i : i + PAGE]])
            notices.append(f"the record store held {len(keys)} records for {len(ids)} chunks; rebuilt it from Chroma")
        removed = self._cleanup({pointer.active, pointer.previous} - {""})
        if removed:
            notices.append(f"removed leftovers of interrupted or replaced builds: {', '.join(removed)}")
        return notices

    def _cleanup(self, keep: set[str]) -> list[str]:
        """Delete chunk collections, record namespaces and segment directories not in `keep`."""
        s = self.settings
        client = self.client()
        removed = []
        for name in version_collections(client, s.collection):
            if name not in keep:
                client.delete_collection(name)
                self._handles.pop(name, None)
                removed.append(name)
        ours = re.compile(rf"chroma/{re.escape(s.collection)}(-v\d+)?")
        stale = {n for n in namespaces(s, f"chroma/{s.collection}") if ours.fullmatch(n)}
        stale -= {_namespace(n) for n in keep}
        drop_namespaces(s, stale)
        if not s.chroma_url:
            import shutil

            for path in orphan_segment_dirs(s.chroma_dir):
                shutil.rmtree(path, ignore_errors=True)
                removed.append(f"{path.name}/")
        return removed


WRITER_ID = "writer-id"


def writer_origin(settings: Settings) -> str:
    """Who writes the chunks of this run, stored as each new chunk's `origin`.

    `ADVISOR_WRITER_ID` when set; an embedded Chroma lives in its data dir and has one writer, "local";
    a writer of a shared Chroma server is the id it keeps in `<data dir>/writer-id` (made once). Never
    the hostname or the corpus path: a container restart or a moved folder would make the writer a
    stranger to its own chunks, and a deleted document would be served on.
    """
    if settings.writer_id:
        return f"writer:{settings.writer_id}"
    if not settings.chroma_url:
        return "writer:local"
    path = settings.data_dir / WRITER_ID
    try:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("x", encoding="utf-8") as f:
                f.write(uuid.uuid4().hex)
            log.warning("this writer's id is new: %s (keep it, or set ADVISOR_WRITER_ID)", path)
        value = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise IndexUnavailable(f"cannot read this writer's id {path} ({type(exc).__name__}): {WRITER_FIX}") from None
    if not re.fullmatch(r"[0-9a-f]{32}", value):
        raise IndexUnavailable(f"this writer's id {path} is damaged: {WRITER_FIX}")
    return f"writer:{value}"


WRITER_FIX = "restore it from a backup, or set ADVISOR_WRITER_ID (a new id would leave this writer's chunks orphaned)"


def owns(settings: Settings, origin: str, chunk_origin: object) -> bool:
    """May the writer `origin` delete a chunk written by `chunk_origin`? (pure)

    An embedded Chroma has one writer: every chunk is its own, whatever wrote it. On a shared server a
    writer owns what it wrote, and what an older version wrote as `hostname:corpus path` for the same
    corpus path on any host (so a renamed machine still deletes its documents).
    """
    if not settings.chroma_url or chunk_origin == origin:
        return True
    text = str(chunk_origin or "")
    if text.startswith("writer:") or ":" not in text:
        return False
    return text.split(":", 1)[1] == str(settings.corpus_dir.resolve())


LOW_SPACE = 16 * 1024 * 1024  # bytes free under which a failed write is put down to a full disk
_FULL_DISK = re.compile(r"no space left|disk is full|disk full|quota exceeded", re.I)


def disk_full(exc: BaseException, data_dir) -> str | None:
    """ "disk full: ..." when `exc` (or what caused it) says the disk is full, or it struck with almost no
    space left; else None. Chroma words it as "Error in compaction: Failed to apply logs to the metadata
    segment", which says nothing of the cause."""
    said = False
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        said = said or getattr(exc, "errno", None) in (errno.ENOSPC, errno.EDQUOT) or bool(_FULL_DISK.search(str(exc)))
        exc = exc.__cause__ or exc.__context__
    try:
        free = shutil.disk_usage(data_dir).free
    except OSError:
        free = None
    if not said and (free is None or free >= LOW_SPACE):
        return None
    left = f" ({free / 1024 / 1024:.1f} MB free)" if free is not None else ""
    return f"disk full: {data_dir}{left}; free some space, then run `advisor index` again"


VECTOR_AGREEMENT = 0.99  # cosine of a stored chunk vector with the model's vector of its text, at least


def _unit(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (zero and non-finite rows become zero: they agree with nothing)."""
    norms = np.linalg.norm(matrix, axis=1, keepdims=True) if matrix.size else np.ones((len(matrix), 1))
    ok = np.isfinite(norms) & (norms > 1e-9)
    return np.where(ok, matrix / np.where(ok, norms, 1.0), 0.0)


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


def _namespace(collection_name: str) -> str:
    return f"chroma/{collection_name}"


def _settings_key(s: Settings) -> str:
    return json.dumps(s.fingerprint(), sort_keys=True)


def _progress_bar(total: int):
    from tqdm import tqdm

    return tqdm(desc="embedding", total=total, unit="chunk", leave=False, dynamic_ncols=True)
