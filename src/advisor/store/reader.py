"""Reading the published index: the version pointer, its chunk collection, its snapshot and its status.

Readers (`ask`, `serve`, the retriever) never build or repair anything. Everything a reader holds in
memory (chunks, BM25, sentence vectors) comes from the collection itself, or from the writer's cache in
the data dir when it was written for the same version. Writing lives in `advisor.indexing` (with
`store/versions.py`), checking in `store/health.py`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time

import numpy as np

from advisor.settings import Settings
from advisor.store.chroma import ChromaUnavailable, Pointer, _not_found, connect, read_pointer
from advisor.store.embedding import Embedder, ExtraEmbedder, make_embedder, make_extra_embedder
from advisor.store.manifest import read_manifest
from advisor.store.snapshot import (
    EXTRA_MODEL,
    EXTRA_VECTOR,
    BadRows,
    Snapshot,
    decode_vectors,
    ids_fingerprint,
    read_cache,
    snapshot_from_rows,
)

log = logging.getLogger(__name__)

PAGE = 1000  # rows per Chroma request
FULL_FIX = "run `advisor index --full`"
OTHER_SETTINGS = "the index was built with other embedding or chunker settings: run `advisor index`"


class IndexUnavailable(RuntimeError):
    """The index cannot be read, built or reached (one-line message for users)."""


class IndexBusy(IndexUnavailable):
    """Another writer holds the writer lock."""


def namespace(collection_name: str) -> str:
    """The record-manager namespace of a chunk collection."""
    return f"chroma/{collection_name}"


def settings_key(s: Settings) -> str:
    """What a version's vectors depend on, as stored with its pointer."""
    return json.dumps(s.fingerprint(), sort_keys=True)


class IndexReader:
    """Reads the published index. Cheap to construct: nothing is imported or loaded until used."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.embedder = embedder or make_embedder(
            settings.embedding_backend,
            settings.embedding_batch_size,
            settings.data_dir / "models",
            settings.embedding_model,
            settings.models_path,
        )
        # the second dense model (`ADVISOR_EXTRA_EMBEDDING_MODEL`): its chunk vectors are stored with the chunks
        self.extra: ExtraEmbedder | None = make_extra_embedder(settings.extra_embedding_model)
        self._client = None
        self._pointer: tuple[float, Pointer | None] | None = None
        self._handles: dict[str, object] = {}
        self._guard = threading.Lock()

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

    def published(self, refresh: bool = False) -> Pointer:
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
        """The chunk collection called `name` (by default the published version's)."""
        name = name or self.published().active
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

    def rows(self, name: str, include: list[str]) -> tuple[list[str], list, list]:
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

    def snapshot(self, pointer: Pointer | None = None) -> Snapshot:
        """The snapshot of the published version: the writer's cache when it matches, else read from
        the collection (nothing is embedded or written)."""
        pointer = pointer or self.published()
        if pointer.settings != settings_key(self.settings):
            # its vectors or sentence splits are another model's or chunker's: reading it would fail or mislead
            raise IndexUnavailable(OTHER_SETTINGS)
        snap, why = read_cache(self.settings.data_dir, pointer.stamp)
        if snap is not None:
            return snap
        if why and ("damaged" in why or "does not match" in why):
            log.warning("%s; reading the index from Chroma instead (`advisor index` rewrites it)", why)
        return self.snapshot_from_collection(pointer)

    def snapshot_from_collection(self, pointer: Pointer) -> Snapshot:
        ids, docs, metas = self.rows(pointer.active, ["documents", "metadatas"])
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
            p = self.published()
        except IndexUnavailable as exc:
            return {**out, "problem": str(exc)}
        return {**out, "documents": p.documents, "chunks": p.count, "built_at": p.built_at, "version": p.version}

    def chunk_vectors(self, version: str) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Every chunk's stored vector in the collection `version`, and its extra model's vector where the
        chunk holds one of the configured extra model (both by id; one paged read, nothing embedded)."""
        ids, vectors, metas = self.rows(version, ["embeddings", "metadatas"])
        main = {uid: np.asarray(v, dtype=np.float32) for uid, v in zip(ids, vectors, strict=True)}
        extra: dict[str, np.ndarray] = {}
        name = self.extra.name if self.extra else None
        for uid, meta in zip(ids, metas, strict=True):
            if name and meta and meta.get(EXTRA_MODEL) == name:
                with contextlib.suppress(KeyError, ValueError, TypeError):
                    (extra[uid],) = decode_vectors(meta[EXTRA_VECTOR], self.extra.dim)
        return main, extra

    def dense_search(self, vectors: np.ndarray, n: int, version: str | None = None) -> list[list[str]]:
        """The ids of the `n` chunks nearest each of `vectors` in one request, from the collection `version`
        (the one a reader serves; by default the published one)."""
        res = self.collection(version).query(query_embeddings=vectors.tolist(), n_results=n, include=[])
        return res["ids"]
