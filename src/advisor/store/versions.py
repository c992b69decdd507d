"""The versions of the index, as its one writer handles them: create a version collection, copy
unchanged chunks into it with their vectors, check what was written, publish it with one pointer
switch, and clean up or repair what interrupted or replaced builds left behind.

What goes into a version (loading, chunking, embedding) is the indexing pipeline's (`advisor.indexing`).
"""

from __future__ import annotations

import errno
import logging
import re
import shutil
import time
import uuid

from advisor.settings import Settings
from advisor.store.chroma import Pointer, orphan_segment_dirs, version_collections, version_name, write_pointer
from advisor.store.lock import LOCK_FILE, FileLock, SqlLock
from advisor.store.reader import FULL_FIX, PAGE, IndexReader, IndexUnavailable, namespace
from advisor.store.records import drop_namespaces, namespaces, record_manager, records_url
from advisor.store.snapshot import read_cache, write_cache

log = logging.getLogger(__name__)


class Versions(IndexReader):
    """A writer's view of the index: everything a reader sees, plus the version operations."""

    def writer_lock(self):
        """The lock every writer takes: a file lock for an embedded index, a row in the record store
        for a Chroma server (shared by every machine that writes to it)."""
        s = self.settings
        if s.chroma_url:
            return SqlLock(records_url(s), name=f"{s.chroma_url}#{s.collection}")
        return FileLock(s.data_dir / LOCK_FILE)

    def create(self, version: int):
        """A new, empty chunk collection for `version` (cosine space); its name and handle."""
        name = version_name(self.settings.collection, version)
        col = self.client().create_collection(
            name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
        )
        self._handles[name] = col
        return name, col

    def copy(self, source: str, target, ids: list[str], base: dict[str, dict]) -> dict[str, str]:
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

    def written(
        self, name: str, kept: list[str], texts: dict[str, str], base: dict[str, dict], added: list[str]
    ) -> tuple[list[str], list[str], list[dict]]:
        """The rows of the new version `name`: the copied ones as copied, the added ones read back (only
        they came through LangChain). Refuses a version whose ids are not exactly those."""
        stored, _, _ = self.rows(name, [])
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

    def publish(self, pointer: Pointer) -> None:
        """Switch the pointer to `pointer` in one call: readers move to its version."""
        write_pointer(self.client(), self.settings.collection, pointer)
        self._pointer = (time.monotonic(), pointer)

    def in_use(self) -> list[int]:
        names = version_collections(self.client(), self.settings.collection)
        return [int(n.rsplit("-v", 1)[1]) for n in names if "-v" in n[len(self.settings.collection) :]]

    def repair(self, pointer: Pointer) -> list[str]:
        """Make the writer's local parts agree with the published version (nothing re-embedded)."""
        s = self.settings
        notices = []
        _, why = read_cache(s.data_dir, pointer.stamp)
        if why:
            write_cache(s.data_dir, self.snapshot_from_collection(pointer))
            notices.append(f"{why}; rewrote it from Chroma")
        ns = namespace(pointer.active)
        records = record_manager(s, ns)
        keys = set(records.list_keys())
        ids, metas, _ = self.rows(pointer.active, ["metadatas"])
        if keys != set(ids):
            drop_namespaces(s, {ns})
            records = record_manager(s, ns)
            for i in range(0, len(ids), PAGE):
                records.update(ids[i : i + PAGE], group_ids=[m["doc"] for m in metas[i : i + PAGE]])
            notices.append(f"the record store held {len(keys)} records for {len(ids)} chunks; rebuilt it from Chroma")
        removed = self.cleanup({pointer.active, pointer.previous} - {""})
        if removed:
            notices.append(f"removed leftovers of interrupted or replaced builds: {', '.join(removed)}")
        return notices

    def cleanup(self, keep: set[str]) -> list[str]:
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
        stale -= {namespace(n) for n in keep}
        drop_namespaces(s, stale)
        if not s.chroma_url:
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
