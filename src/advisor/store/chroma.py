"""Chroma access: one client per `CorpusIndex`, HTTP when `ADVISOR_CHROMA_URL` is set, otherwise
persistent under the data dir."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlparse

from advisor.settings import Settings


class ChromaUnavailable(RuntimeError):
    """Chroma cannot be reached (one-line message for users)."""


def connect(settings: Settings):
    """A Chroma client for `settings` (telemetry off); raises `ChromaUnavailable` with one line."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        if not url.hostname:
            raise ChromaUnavailable(f"ADVISOR_CHROMA_URL is not a URL: {settings.chroma_url!r}")
        try:
            client = chromadb.HttpClient(
                host=url.hostname,
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
            client.heartbeat()
        except Exception as exc:
            raise ChromaUnavailable(f"cannot reach Chroma at {settings.chroma_url}: {exc}") from None
        return client
    settings.chroma_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)


# -- versions and the pointer ------------------------------------------------------------------------
# Chunks live in versioned collections `<collection>-v<N>`; the metadata of `<collection>-meta` (the
# pointer) names the active one. A writer builds a new version beside the active one and then switches
# the pointer in one call, so readers never see a half-written version and a killed build leaves the
# old one serving. The previous version is kept until the next build, for readers still on it.


@dataclass(frozen=True)
class Pointer:
    """The active index version as the writer published it."""

    version: int
    active: str  # collection name
    count: int  # chunks in it
    ids: str  # fingerprint of its chunk ids
    settings: str  # JSON of the embedding/chunker fingerprint the vectors depend on
    built_at: str
    previous: str = ""
    documents: int = 0
    profile: str = ""  # the domain profile (JSON) of the indexed corpus

    @property
    def stamp(self) -> str:
        """Changes whenever the served chunks change."""
        return f"{self.active}:{self.ids}"


def meta_name(collection: str) -> str:
    return f"{collection}-meta"


def version_name(collection: str, version: int) -> str:
    return f"{collection}-v{version}"


def read_pointer(client, collection: str) -> Pointer | None:
    """The published pointer, or None when nothing was ever published."""
    try:
        meta = client.get_collection(meta_name(collection)).metadata or {}
    except Exception as exc:
        if _not_found(exc):
            return None
        raise
    try:
        return Pointer(**{f: meta[f] for f in Pointer.__dataclass_fields__ if f in meta})
    except TypeError:
        return None


def write_pointer(client, collection: str, pointer: Pointer) -> None:
    """Switch readers to `pointer` (one metadata update: atomic)."""
    meta = client.get_or_create_collection(meta_name(collection), embedding_function=None)
    meta.modify(metadata=asdict(pointer))


def version_collections(client, collection: str) -> list[str]:
    """Every chunk collection of `collection`: its versions and a chunk collection of the old layout."""
    pattern = re.compile(rf"{re.escape(collection)}(-v\d+)?")
    names = [c if isinstance(c, str) else c.name for c in client.list_collections()]
    return sorted(n for n in names if pattern.fullmatch(n))


def _not_found(exc: Exception) -> bool:
    return type(exc).__name__ in ("NotFoundError", "InvalidCollectionException") or "does not exist" in str(exc)


def live_segment_ids(chroma_dir: Path) -> set[str] | None:
    """Segment ids that embedded Chroma's catalogue still references (None when it cannot be read)."""
    return _catalogue(chroma_dir, "SELECT id FROM segments")


def embedded_collection_names(chroma_dir: Path) -> set[str] | None:
    """Names of the collections in an embedded Chroma, read from its catalogue without Chroma."""
    return _catalogue(chroma_dir, "SELECT name FROM collections")


def _catalogue(chroma_dir: Path, query: str) -> set[str] | None:
    """The first column of `query` over embedded Chroma's catalogue, read-only (None when unreadable)."""
    db = chroma_dir / "chroma.sqlite3"
    if not db.exists():
        return None
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            return {r[0] for r in con.execute(query)}
        finally:
            con.close()
    except sqlite3.Error:
        return None


def orphan_segment_dirs(chroma_dir: Path) -> list[Path]:
    """Segment directories left on disk by deleted collections (Chroma does not remove them)."""
    live = live_segment_ids(chroma_dir)
    if live is None or not chroma_dir.is_dir():
        return []
    return sorted(p for p in chroma_dir.iterdir() if p.is_dir() and _UUID.fullmatch(p.name) and p.name not in live)


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
