"""Chroma access: one client per `CorpusIndex`, HTTP when `ADVISOR_CHROMA_URL` is set, otherwise
persistent under the data dir."""

from __future__ import annotations

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
