"""The index: chunks in Chroma (embedded or a `chroma run` server), kept incremental by LangChain's
indexing API, plus a local snapshot of every stored chunk with precomputed sentence vectors.

`CorpusIndex.update()` loads and chunks the corpus and hands the chunks to `langchain_core.indexing.
index()` with a `SQLRecordManager`: unchanged chunks are skipped (and never embedded), changed ones
replaced, chunks of deleted files removed. `manifest.json` records the embedding and chunker
settings; when they change, the index is rebuilt from scratch instead of mixing vectors.

The snapshot (`snapshot.jsonl` + `sentences.npz`) is what BM25 and the extractive generator read.
It is rebuilt from Chroma's own contents whenever they change, so the two never disagree.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

import numpy as np

from advisor.ingest.chunk import chunk_document, set_tiktoken_cache, split_sentences
from advisor.ingest.load import corpus_files, load_corpus, source_name
from advisor.ingest.profile import overrides_stamp, profile_stamp, write_profile
from advisor.schema import Chunk
from advisor.settings import Settings
from advisor.store.chroma import ChromaUnavailable, connect
from advisor.store.embedding import Embedder, LangChainEmbeddings, make_embedder
from advisor.store.manifest import MANIFEST, read_manifest, write_atomic, write_manifest
from advisor.store.records import RECORDS, record_manager
from advisor.store.snapshot import (
    SENTENCES,
    SNAPSHOT,
    Snapshot,
    chunk_from_row,
    chunk_metadata,
    ids_fingerprint,
    sentence_key,
    snapshot_header,
    snapshot_lines,
)

log = logging.getLogger(__name__)


class IndexUnavailable(RuntimeError):
    """The index cannot be built or reached (one-line message for users)."""


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

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.deleted or self.rebuilt)

    def to_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        head = "rebuilt from scratch" + (f" ({self.reason})" if self.reason else "") if self.rebuilt else "indexed"
        return (
            f"{head}: {self.documents} documents, {self.chunks} chunks; "
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
        self._client = None

    # -- Chroma -----------------------------------------------------------------------------
    def client(self):
        """A Chroma client: HTTP when `chroma_url` is set, otherwise persistent under the data dir."""
        if self._client is None:
            try:
                self._client = connect(self.settings)
            except ChromaUnavailable as exc:
                raise IndexUnavailable(str(exc)) from None
        return self._client

    def collection(self):
        """The raw Chroma collection (cosine space, no embedding function: we always pass vectors)."""
        return self.client().get_or_create_collection(
            name=self.settings.collection,
            embedding_function=None,
            configuration={"hnsw": {"space": "cosine"}},
        )

    def _vector_store(self, progress: Callable[[int], None] | None):
        from langchain_chroma import Chroma

        return Chroma(
            collection_name=self.settings.collection,
            client=self.client(),
            embedding_function=LangChainEmbeddings(self.embedder, progress),
            collection_configuration={"hnsw": {"space": "cosine"}},
        )

    def _record_manager(self):
        return record_manager(self.settings, f"chroma/{self.settings.collection}")

    # -- manifest ---------------------------------------------------------------------------
    def manifest(self) -> dict | None:
        """The manifest of the last successful build, or None."""
        return read_manifest(self.settings.data_dir)

    def _rebuild_reason(self, manifest: dict | None) -> str | None:
        if manifest is None:
            return None
        if manifest.get("fingerprint") != self.settings.fingerprint():
            return "embedding or chunker settings changed"
        if manifest.get("chroma") != (self.settings.chroma_url or "embedded"):
            return "Chroma location changed"
        return None

    def _unchanged(self, manifest: dict) -> bool:
        """Every corpus file is byte-identical to what was indexed, and the stored index is in place.

        This is the no-op path: it needs neither Chroma, LangChain nor the model. Any difference
        goes through `index()` and the record manager.
        """
        s = self.settings
        if not (s.data_dir / SNAPSHOT).exists() or (not s.chroma_url and not s.chroma_dir.exists()):
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

    def _wipe(self) -> None:
        with contextlib.suppress(Exception):
            self.client().delete_collection(self.settings.collection)
        for name in (RECORDS, MANIFEST, SNAPSHOT, SENTENCES):
            (self.settings.data_dir / name).unlink(missing_ok=True)

    # -- building -----------------------------------------------------------------------------
    def update(self, full: bool = False, progress: bool = True) -> IndexReport:
        """Bring the index in line with the corpus; rebuild from scratch if `full` or settings changed."""
        from langchain_core.documents import Document
        from langchain_core.indexing import index

        start = time.perf_counter()
        s = self.settings
        s.data_dir.mkdir(parents=True, exist_ok=True)
        set_tiktoken_cache(s.tiktoken_cache_dir)
        manifest = self.manifest()
        reason = "--full" if full else self._rebuild_reason(manifest)
        if reason:
            self._wipe()
            manifest = None
        elif manifest is not None and self._unchanged(manifest):
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
            )

        docs, warnings = load_corpus(s.corpus_dir, s.max_file_mb)
        if not docs and not corpus_files(s.corpus_dir) and not (manifest or {}).get("sources"):
            raise IndexUnavailable(f"no documents in {s.corpus_dir} (supported: .md .txt .html .pdf)")
        chunks = [c for d in docs for c in chunk_document(d, s.chunk_tokens, s.chunk_overlap)]
        lc_docs = [Document(page_content=c.embed_text, metadata=chunk_metadata(c)) for c in chunks]

        bar = None
        embedded = 0

        def on_batch(n: int) -> None:
            nonlocal embedded, bar
            embedded += n
            if progress and bar is None:
                bar = _progress_bar(len(lc_docs))
            if bar is not None:
                bar.update(n)

        store = self._vector_store(on_batch)
        records = self._record_manager()
        try:
            result = index(
                lc_docs,
                records,
                store,
                cleanup="incremental",
                source_id_key="source",
                key_encoder="sha256",
                batch_size=256,
            )
        finally:
            if bar is not None:
                bar.close()

        # Files gone from corpus/ (not merely unreadable) lose their chunks.
        present = {source_name(p, s.corpus_dir) for p in corpus_files(s.corpus_dir)}
        known = set((manifest or {}).get("sources", {}))
        gone = sorted(known - present)
        deleted = result["num_deleted"]
        for source in gone:
            keys = records.list_keys(group_ids=[source])
            if keys:
                store.delete(keys)
                records.delete_keys(keys)
                deleted += len(keys)

        sources = dict((manifest or {}).get("sources", {}))
        for source in gone:
            sources.pop(source, None)
        per_source: dict[str, int] = {}
        for c in chunks:
            per_source[c.source] = per_source.get(c.source, 0) + 1
        for d in docs:
            sources[d.source] = {"sha256": d.sha256, "title": d.title, "chunks": per_source.get(d.source, 0)}

        total = self.collection().count()
        changed = bool(result["num_added"] or result["num_updated"] or deleted or reason)
        if changed or not self._snapshot_current():
            self.refresh_snapshot()
        now = datetime.now(UTC).isoformat(timespec="seconds")
        new_manifest = {
            "fingerprint": s.fingerprint(),
            "chroma": s.chroma_url or "embedded",
            "collection": s.collection,
            "sources": sources,
            "documents": len(sources),
            "chunks": total,
            "built_at": now if (changed or manifest is None) else manifest.get("built_at", now),
            "checked_at": now,
        }
        write_profile(s.corpus_dir, s.data_dir, docs, chunks)
        write_manifest(s.data_dir, new_manifest)
        return IndexReport(
            documents=len(sources),
            chunks=total,
            added=result["num_added"],
            updated=result["num_updated"],
            skipped=result["num_skipped"],
            deleted=deleted,
            seconds=time.perf_counter() - start,
            rebuilt=bool(reason),
            reason=reason,
            embedded=embedded,
            files_deleted=gone,
            warnings=warnings,
        )

    def ensure(self, progress: bool = True) -> IndexReport | None:
        """Build the index if it has never been built; otherwise do nothing."""
        if self.manifest() is None or not (self.settings.data_dir / SNAPSHOT).exists():
            return self.update(progress=progress)
        return None

    # -- snapshot ---------------------------------------------------------------------------------
    def _stored_ids(self) -> list[str]:
        return sorted(self.collection().get(include=[])["ids"])

    def _snapshot_current(self) -> bool:
        header = snapshot_header(self.settings.data_dir / SNAPSHOT)
        return header is not None and header.get("fingerprint") == ids_fingerprint(self._stored_ids())

    def refresh_snapshot(self) -> None:
        """Rewrite the snapshot from Chroma's contents, embedding only sentences not seen before."""
        got = self.collection().get(include=["documents", "metadatas"])
        rows = sorted(
            zip(got["ids"], got["documents"], got["metadatas"], strict=True),
            key=lambda r: (r[2]["source"], r[2]["position"]),
        )
        chunks = [chunk_from_row(doc, meta) for _, doc, meta in rows]
        sentences: list[str] = []
        owner: list[int] = []
        for i, c in enumerate(chunks):
            for sent in split_sentences(c.text, c.section):
                sentences.append(sent)
                owner.append(i)
        vectors = self._sentence_vectors(sentences)
        path = self.settings.data_dir / SNAPSHOT
        header = {"fingerprint": ids_fingerprint([r[0] for r in rows]), "embedder": self.embedder.name}
        np.savez(
            self.settings.data_dir / SENTENCES,
            vectors=vectors.astype(np.float32),
            owner=np.asarray(owner, dtype=np.int32),
            keys=np.asarray([sentence_key(t) for t in sentences]),
        )
        write_atomic(path, snapshot_lines(header, [r[0] for r in rows], chunks))

    def _sentence_vectors(self, sentences: list[str]) -> np.ndarray:
        cache: dict[str, np.ndarray] = {}
        old = self.settings.data_dir / SENTENCES
        if old.exists():
            with contextlib.suppress(Exception), np.load(old) as f:
                cache = dict(zip(f["keys"].tolist(), f["vectors"], strict=True))
        keys = [sentence_key(t) for t in sentences]
        missing = sorted({k: t for k, t in zip(keys, sentences, strict=True) if k not in cache}.items())
        if missing:
            fresh = self.embedder.embed_batch([t for _, t in missing])
            cache.update({k: v for (k, _), v in zip(missing, fresh, strict=True)})
        if not keys:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        return np.stack([cache[k] for k in keys])

    def load_snapshot(self) -> Snapshot:
        """The snapshot as last written (building the index first if there is none)."""
        path = self.settings.data_dir / SNAPSHOT
        if not path.exists():
            self.update()
        with path.open() as f:
            header = json.loads(f.readline())
            records = [json.loads(line) for line in f if line.strip()]
        uids = [r.pop("uid") for r in records]
        chunks = [Chunk(**r) for r in records]
        sentences = [s for c in chunks for s in split_sentences(c.text, c.section)]
        with np.load(self.settings.data_dir / SENTENCES) as f:
            vectors, owner = f["vectors"], f["owner"]
        if len(vectors) != len(sentences):
            raise IndexUnavailable("the index snapshot is inconsistent; run `advisor index --full`")
        return Snapshot(chunks, uids, sentences, owner, vectors, header["fingerprint"])

    def status(self) -> dict:
        """Documents, chunks and build time from the manifest (no Chroma access)."""
        m = self.manifest() or {}
        return {
            "documents": m.get("documents", 0),
            "chunks": m.get("chunks", 0),
            "built_at": m.get("built_at"),
            "chroma": m.get("chroma", self.settings.chroma_url or "embedded"),
            "embedding_model": self.embedder.name,
        }


def _progress_bar(total: int):
    from tqdm import tqdm

    return tqdm(desc="embedding", total=total, unit="chunk", leave=False, dynamic_ncols=True)
